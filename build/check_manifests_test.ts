import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { checkManifestFiles, checkManifests } from "./check_manifests.ts";

const SCRIPT = fileURLToPath(new URL("./check_manifests.ts", import.meta.url).href);

const AGREEING = {
  packageJson: {
    dependencies: { "hono": "4.13.19", "valibot": "1.5.0", "@scope/lib": "2.0.0-rc.1" },
    devDependencies: { "esbuild": "0.28.2", "hot-shots": "17.1.1" },
  },
  denoJson: {
    imports: {
      "hono": "npm:hono@4.13.19",
      "hono/": "npm:/hono@4.13.19/",
      "valibot": "npm:valibot@1.5.0",
      "@scope/lib": "npm:@scope/lib@2.0.0-rc.1",
      "hot-shots": "npm:hot-shots@17.1.1",
      "#internal/": "./src/internal/",
    },
  },
};

const dirs: string[] = [];

function fixture(packageJson: unknown, denoJson: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), "tally-manifests-"));
  dirs.push(dir);
  writeFileSync(join(dir, "package.json"), JSON.stringify(packageJson));
  writeFileSync(join(dir, "deno.json"), JSON.stringify(denoJson));
  return dir;
}

function runScript(root: string): { readonly status: number | null; readonly stdout: string } {
  const args = "Bun" in globalThis ? [SCRIPT, "--root", root] : ["run", "-A", SCRIPT, "--root", root];
  const result = spawnSync(process.execPath, args, { encoding: "utf8", timeout: 30_000 });
  return { status: result.status, stdout: result.stdout };
}

after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe("checkManifests()", () => {
  it("checkManifests() accepts agreeing manifests with scoped, sub-path and dev imports", () => {
    assert.deepEqual(checkManifests(AGREEING), []);
  });

  it("checkManifests() reports a version that differs between the two files", () => {
    const problems = checkManifests({
      packageJson: AGREEING.packageJson,
      denoJson: { imports: { ...AGREEING.denoJson.imports, "valibot": "npm:valibot@1.4.0" } },
    });
    assert.deepEqual(problems.map((p) => p.message), [
      `"valibot" is 1.4.0 in deno.json but 1.5.0 in package.json`,
    ]);
  });

  it("checkManifests() reports a dependency missing from deno.json and an import missing from package.json", () => {
    const { valibot: _dropped, ...imports } = AGREEING.denoJson.imports;
    const problems = checkManifests({
      packageJson: AGREEING.packageJson,
      denoJson: { imports: { ...imports, "undici": "npm:undici@8.13.1" } },
    });
    assert.deepEqual(problems.map((p) => p.name), ["undici", "valibot"]);
    assert.match(
      problems[0]?.message ?? "",
      /deno\.json imports "undici" 8\.13\.1 but package\.json does not declare it/,
    );
    assert.match(
      problems[1]?.message ?? "",
      /"valibot" 1\.5\.0 has no "npm:valibot@1\.5\.0" import in deno\.json/,
    );
  });

  it("checkManifests() reports unpinned versions on both sides", () => {
    const problems = checkManifests({
      packageJson: { dependencies: { "hono": "^4.13.19" }, devDependencies: { "esbuild": "~0.28.2" } },
      denoJson: { imports: { "hono": "npm:hono@^4.13.19" } },
    });
    const messages = problems.map((p) => p.message);
    assert.ok(messages.includes(`package.json dependencies "hono" is "^4.13.19", expected an exact version`));
    assert.ok(
      messages.includes(`package.json devDependencies "esbuild" is "~0.28.2", expected an exact version`),
    );
    assert.ok(
      messages.includes(
        `deno.json import "hono" is "npm:hono@^4.13.19", expected "npm:hono@<exact version>"`,
      ),
    );
  });

  it("checkManifests() reports an import without a version and a non-npm import", () => {
    const problems = checkManifests({
      packageJson: { dependencies: {} },
      denoJson: { imports: { "valibot": "npm:valibot", "@std/cli": "jsr:@std/cli@1.0.0" } },
    });
    assert.deepEqual(problems.map((p) => p.message), [
      `deno.json import "@std/cli" is "jsr:@std/cli@1.0.0", expected an npm: specifier`,
      `deno.json import "valibot" is "npm:valibot", expected "npm:valibot@<exact version>"`,
    ]);
  });

  it("checkManifests() reports two imports of one package at different versions", () => {
    const problems = checkManifests({
      packageJson: { dependencies: { "hono": "4.13.19" } },
      denoJson: { imports: { "hono": "npm:hono@4.13.19", "hono/": "npm:/hono@4.13.18/" } },
    });
    assert.equal(problems.length, 1);
    assert.match(problems[0]?.message ?? "", /deno\.json imports of "hono" disagree/);
  });
});

describe("check_manifests.ts", () => {
  it("checkManifestFiles() reads both files from a folder", async () => {
    const root = fixture(AGREEING.packageJson, AGREEING.denoJson);
    assert.deepEqual(await checkManifestFiles(root), []);
  });

  it("check_manifests.ts exits 0 on agreeing fixtures", () => {
    const result = runScript(fixture(AGREEING.packageJson, AGREEING.denoJson));
    assert.equal(result.status, 0);
    assert.match(result.stdout, /agree/);
  });

  it("check_manifests.ts exits 1 and lists each mismatch", () => {
    const root = fixture(
      { dependencies: { "hono": "4.13.19", "undici": "^8.13.1" } },
      { imports: { "hono": "npm:hono@4.13.18" } },
    );
    const result = runScript(root);
    assert.equal(result.status, 1);
    const listed = result.stdout.split("\n").filter((line) => line.startsWith("  - "));
    assert.deepEqual(listed, [
      `  - "hono" is 4.13.18 in deno.json but 4.13.19 in package.json`,
      `  - package.json dependencies "undici" is "^8.13.1", expected an exact version`,
      `  - package.json dependencies "undici" ^8.13.1 has no "npm:undici@^8.13.1" import in deno.json`,
    ]);
  });
});
