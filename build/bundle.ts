/**
 * Bundles tally with esbuild into `dist/tally.mjs` (the CLI) and `dist/worker_main.mjs` (the pipeline
 * worker), one self-contained ES module each, for Deno (`deno run -A dist/tally.mjs run`) and Bun.
 *
 * Run with `bun build/bundle.ts [--root DIR] [--outdir DIR]`. `--root` exists so the same script can build
 * a throwaway app with the same layout.
 *
 * The two files must sit side by side: the pool finds the worker as `./worker_main.mjs` next to the
 * bundle's own `import.meta.url` (see `src/pipeline/pool.ts`).
 *
 * @module
 */
import { stat } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import * as esbuild from "esbuild";
import { buildCommit, buildDefines } from "./build_info.ts";

/** One entry point: a source file and the output name (without extension) it becomes. */
export interface BundleEntry {
  /** The source file, relative to the root. */
  readonly in: string;
  /** The output file name without extension, relative to the output folder. */
  readonly out: string;
}

/** Options for {@link bundle}. */
export interface BundleOptions {
  /** The project root; entries and `outdir` are relative to it. */
  readonly root: string;
  /** The entry points; tally's main and worker by default. */
  readonly entries?: readonly BundleEntry[];
  /** The output folder, `dist` by default. */
  readonly outdir?: string;
  /** The commit stamped in for `tally version`, {@link buildCommit}'s reading of `root` by default. */
  readonly commit?: string;
}

/** One written file. */
export interface BundleOutput {
  /** The absolute path of the written file. */
  readonly path: string;
  /** Its size in bytes. */
  readonly bytes: number;
}

/** tally's entry points: the CLI and the pipeline worker. */
export const TALLY_ENTRIES: readonly BundleEntry[] = [
  { in: "src/main.ts", out: "tally" },
  { in: "src/pipeline/worker_main.ts", out: "worker_main" },
];

/** The repository root, one folder above this file. */
export const REPO_ROOT: string = fileURLToPath(new URL("..", import.meta.url).href);

/**
 * CommonJS dependencies (undici, for one) call `require("node:…")`; esbuild's ESM output has no `require`,
 * so every bundle gets one made from its own URL. Both Bun and Deno provide `node:module`.
 */
const REQUIRE_BANNER = 'import { createRequire as __tallyCreateRequire } from "node:module";\n' +
  "const require = __tallyCreateRequire(import.meta.url);";

/**
 * Bundles the entries into ES modules for the `node` platform (the `node:` built-ins stay imports, every
 * npm dependency is bundled in) targeting ES2023.
 *
 * `bun:*` specifiers stay external: the Bun adapter imports `bun:ffi` only when it runs on Bun, and that
 * dynamic import is never evaluated under Deno. The commit is stamped in with target `bundle` for
 * `tally version`.
 *
 * @param options The root, entries, output folder and commit.
 * @returns The written files with their sizes, in entry order.
 * @throws {Error} When esbuild reports an error (the message lists them).
 */
export async function bundle(options: BundleOptions): Promise<readonly BundleOutput[]> {
  const root = resolve(options.root);
  const entries = options.entries ?? TALLY_ENTRIES;
  const outdir = resolve(root, options.outdir ?? "dist");
  try {
    await esbuild.build({
      absWorkingDir: root,
      entryPoints: entries.map((entry) => ({ in: entry.in, out: entry.out })),
      outdir,
      outExtension: { ".js": ".mjs" },
      bundle: true,
      format: "esm",
      platform: "node",
      target: "es2023",
      external: ["node:*", "bun:*"],
      banner: { js: REQUIRE_BANNER },
      legalComments: "none",
      define: { ...buildDefines({ commit: options.commit ?? buildCommit(root), target: "bundle" }) },
      logLevel: "silent",
    });
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new Error(`Cannot bundle "${root}": esbuild failed\n${detail}`, { cause: error });
  }
  const outputs: BundleOutput[] = [];
  for (const entry of entries) {
    const path = join(outdir, `${entry.out}.mjs`);
    outputs.push({ path, bytes: (await stat(path)).size });
  }
  return outputs;
}

/**
 * Formats a byte count for people: `1.23 MiB`.
 *
 * @param bytes The count.
 * @returns The formatted size.
 */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { root: { type: "string" }, outdir: { type: "string" } },
    strict: true,
  });
  const root = resolve(values.root ?? REPO_ROOT);
  const started = performance.now();
  const outputs = await bundle({ root, ...(values.outdir === undefined ? {} : { outdir: values.outdir }) });
  const ms = Math.round(performance.now() - started);
  for (const output of outputs) {
    process.stderr.write(`bundle: ${relative(root, output.path)} ${formatBytes(output.bytes)}\n`);
  }
  process.stderr.write(`bundle: done in ${ms} ms\n`);
}

if (import.meta.main) {
  try {
    await main();
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
