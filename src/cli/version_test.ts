import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { VERSION } from "../internal/version.ts";
import { buildStamp, versionLine } from "./version.ts";

describe("VERSION", () => {
  it("equals package.json's version", () => {
    const pkg = JSON.parse(
      readFileSync(fileURLToPath(new URL("../../package.json", import.meta.url).href), "utf8"),
    ) as { version: string };
    assert.equal(VERSION, pkg.version);
  });
});

describe("buildStamp()", () => {
  it("buildStamp() says unknown and source when run from source, where nothing is stamped", () => {
    assert.deepEqual(buildStamp(), { commit: "unknown", target: "source" });
  });
});

describe("versionLine()", () => {
  it("versionLine() names the version, the commit, the target, the runtime and the platform", () => {
    const runtime = process.versions["bun"] !== undefined
      ? "bun"
      : process.versions["deno"] !== undefined
      ? "deno"
      : "node";
    const runtimeVersion = process.versions[runtime];
    assert.equal(
      versionLine({ commit: "1a2b3c4d5e6f", target: "linux-arm64" }),
      `tally ${VERSION} (commit 1a2b3c4d5e6f, target linux-arm64, ${runtime} ${runtimeVersion} on ${process.platform}/${process.arch})`,
    );
  });
});
