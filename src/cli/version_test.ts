import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { VERSION, versionLine } from "./version.ts";

describe("VERSION", () => {
  it("equals package.json's version", () => {
    const pkg = JSON.parse(
      readFileSync(fileURLToPath(new URL("../../package.json", import.meta.url).href), "utf8"),
    ) as { version: string };
    assert.equal(VERSION, pkg.version);
  });
});

describe("versionLine()", () => {
  it("names the version, the runtime and the platform", () => {
    const runtime = process.versions["bun"] !== undefined
      ? "bun"
      : process.versions["deno"] !== undefined
      ? "deno"
      : "node";
    const runtimeVersion = process.versions[runtime];
    assert.equal(
      versionLine(),
      `tally ${VERSION} (${runtime} ${runtimeVersion}, ${process.platform}/${process.arch})`,
    );
  });
});
