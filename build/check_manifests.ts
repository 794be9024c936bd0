/**
 * Checks that `deno.json` and `package.json` declare the same dependencies at the same exact versions,
 * and that every version is pinned (no `^`, `~`, ranges or tags).
 *
 * Run with `bun build/check_manifests.ts [--root DIR]`: prints each problem and exits 1, or prints one
 * line and exits 0.
 *
 * The rules: every `package.json` `dependencies` entry has an `npm:` import in `deno.json` at the same
 * version; every `npm:` import in `deno.json` names a package of `dependencies` or `devDependencies` (tests
 * may import dev packages under Deno) at the same version; all entries that import one package (`hono` and
 * `hono/`) agree; `deno.json` imports are `npm:` specifiers or local paths.
 *
 * @module
 */
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

/** A version pinned to one release: `1.2.3`, `1.2.3-rc.1`, `1.2.3+build`. */
const EXACT_VERSION_REGEXP = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

/** `npm:name@version[/sub]` and `npm:/name@version/` (the trailing-slash form of import maps). */
const NPM_SPECIFIER_REGEXP = /^npm:\/?((?:@[^/@]+\/)?[^/@]+)(?:@([^/]*))?(?:\/.*)?$/;

/** The specifier of a local import-map target. */
const LOCAL_PATH_REGEXP = /^\.{0,2}\//;

/** One problem found by {@link checkManifests}. */
export interface ManifestProblem {
  /** The package (or import key) concerned. */
  readonly name: string;
  /** What is wrong, naming both sides. */
  readonly message: string;
}

/** The parts of the two manifests that are compared. */
export interface Manifests {
  /** The parsed `package.json`. */
  readonly packageJson: unknown;
  /** The parsed `deno.json`. */
  readonly denoJson: unknown;
}

/**
 * Compares the two manifests.
 *
 * @param manifests The parsed `package.json` and `deno.json`.
 * @returns The problems found, sorted by name; empty when they agree.
 */
export function checkManifests(manifests: Manifests): readonly ManifestProblem[] {
  const problems: ManifestProblem[] = [];
  const dependencies = stringRecord(manifests.packageJson, "dependencies", "package.json", problems);
  const devDependencies = stringRecord(manifests.packageJson, "devDependencies", "package.json", problems);
  const imports = stringRecord(manifests.denoJson, "imports", "deno.json", problems);

  for (
    const [field, record] of [["dependencies", dependencies], ["devDependencies", devDependencies]] as const
  ) {
    for (const [name, version] of record) {
      if (!EXACT_VERSION_REGEXP.test(version)) {
        problems.push({
          name,
          message: `package.json ${field} "${name}" is "${version}", expected an exact version`,
        });
      }
    }
  }

  // Every import of one package must agree, so collect them per package first.
  const denoVersions = new Map<string, Map<string, string>>();
  for (const [key, target] of imports) {
    if (LOCAL_PATH_REGEXP.test(target)) continue;
    const match = NPM_SPECIFIER_REGEXP.exec(target);
    const name = match?.[1];
    if (match === null || name === undefined) {
      problems.push({
        name: key,
        message: `deno.json import "${key}" is "${target}", expected an npm: specifier`,
      });
      continue;
    }
    const version = match[2] ?? "";
    if (!EXACT_VERSION_REGEXP.test(version)) {
      problems.push({
        name,
        message: `deno.json import "${key}" is "${target}", expected "npm:${name}@<exact version>"`,
      });
      continue;
    }
    const byKey = denoVersions.get(name) ?? new Map<string, string>();
    byKey.set(key, version);
    denoVersions.set(name, byKey);
  }

  for (const [name, byKey] of denoVersions) {
    const versions = new Set(byKey.values());
    if (versions.size > 1) {
      const listed = [...byKey].map(([key, version]) => `"${key}" → ${version}`).join(", ");
      problems.push({ name, message: `deno.json imports of "${name}" disagree: ${listed}` });
      continue;
    }
    const denoVersion = [...versions][0] ?? "";
    const npmVersion = dependencies.get(name) ?? devDependencies.get(name);
    if (npmVersion === undefined) {
      problems.push({
        name,
        message: `deno.json imports "${name}" ${denoVersion} but package.json does not declare it`,
      });
    } else if (npmVersion !== denoVersion) {
      problems.push({
        name,
        message: `"${name}" is ${denoVersion} in deno.json but ${npmVersion} in package.json`,
      });
    }
  }

  for (const [name, version] of dependencies) {
    if (!denoVersions.has(name)) {
      problems.push({
        name,
        message:
          `package.json dependencies "${name}" ${version} has no "npm:${name}@${version}" import in deno.json`,
      });
    }
  }
  return problems.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * Reads `package.json` and `deno.json` in `root` and compares them.
 *
 * @param root The folder holding both files.
 * @returns The problems found; empty when they agree.
 * @throws {Error} When a file cannot be read or is not JSON.
 */
export async function checkManifestFiles(root: string): Promise<readonly ManifestProblem[]> {
  return checkManifests({
    packageJson: await readJson(join(root, "package.json")),
    denoJson: await readJson(join(root, "deno.json")),
  });
}

async function readJson(path: string): Promise<unknown> {
  const text = await readFile(path, "utf8");
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`Cannot parse "${path}": not valid JSON`, { cause: error });
  }
}

function stringRecord(
  json: unknown,
  field: string,
  file: string,
  problems: ManifestProblem[],
): ReadonlyMap<string, string> {
  const result = new Map<string, string>();
  if (typeof json !== "object" || json === null || !(field in json)) return result;
  const value: unknown = (json as Record<string, unknown>)[field];
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    problems.push({ name: field, message: `${file} "${field}" is not an object` });
    return result;
  }
  for (const [key, entry] of Object.entries(value)) {
    if (typeof entry === "string") result.set(key, entry);
    else problems.push({ name: key, message: `${file} ${field} "${key}" is not a string` });
  }
  return result;
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { root: { type: "string" } }, strict: true });
  const root = resolve(values.root ?? fileURLToPath(new URL("..", import.meta.url).href));
  const problems = await checkManifestFiles(root);
  if (problems.length === 0) {
    process.stdout.write("check_manifests: package.json and deno.json agree\n");
    return 0;
  }
  process.stdout.write(
    `check_manifests: ${problems.length} mismatch(es) between package.json and deno.json\n`,
  );
  for (const problem of problems) process.stdout.write(`  - ${problem.message}\n`);
  return 1;
}

if (import.meta.main) {
  try {
    process.exitCode = await main();
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
