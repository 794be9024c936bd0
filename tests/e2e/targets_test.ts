/**
 * The cross-built binaries `npm test` makes (`dist/tally-linux-x64`, `-x64-baseline`, `-x64-musl`,
 * `-arm64`): each is an ELF file for its CPU with its C library's loader, says its target and commit in `tally version`, and runs
 * the StatsD → `/metrics` smoke test where this machine can run it — x64 natively, arm64 under Debian's
 * `qemu-aarch64-static` with the arm64 cross C libraries, musl under Debian's musl loader when a musl
 * C++ runtime is there (Debian packages none: see the skip message).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { closeSync, existsSync, openSync, readSync, statSync } from "node:fs";
import { join } from "node:path";
import { buildCommit } from "../../build/build_info.ts";
import { REPO_ROOT } from "../harness/spawn_tally.ts";
import { statsdSmoke } from "../harness/statsd_smoke.ts";

/** ELF `e_machine` values (System V ABI). */
const EM_X86_64 = 62;
const EM_AARCH64 = 183;
const PT_INTERP = 3;
const QEMU = "qemu-aarch64-static";
/** Where Debian's libc6-arm64-cross and libstdc++6-arm64-cross put the arm64 loader and libraries. */
const ARM64_SYSROOT = "/usr/aarch64-linux-gnu";
const MUSL_LOADER = "/lib/ld-musl-x86_64.so.1";
const MAX_BYTES = 120e6;

interface ElfFacts {
  readonly machine: number;
  readonly interpreter: string | undefined;
}

/** Reads the machine and the program interpreter from an ELF64 little-endian file's headers. */
function elfFacts(path: string): ElfFacts {
  const fd = openSync(path, "r");
  try {
    const read = (offset: number, length: number): Buffer => {
      const buffer = Buffer.alloc(length);
      readSync(fd, buffer, 0, length, offset);
      return buffer;
    };
    const header = read(0, 64);
    assert.equal(header.toString("latin1", 0, 4), "\x7fELF", `${path} is an ELF file`);
    assert.equal(header[4], 2, "ELF64");
    const phoff = Number(header.readBigUInt64LE(32));
    const phentsize = header.readUInt16LE(54);
    const phnum = header.readUInt16LE(56);
    let interpreter: string | undefined;
    for (let i = 0; i < phnum; i++) {
      const ph = read(phoff + i * phentsize, phentsize);
      if (ph.readUInt32LE(0) !== PT_INTERP) continue;
      const text = read(Number(ph.readBigUInt64LE(8)), Number(ph.readBigUInt64LE(32)));
      interpreter = text.toString("latin1").replace(/\0+$/, "");
    }
    return { machine: header.readUInt16LE(18), interpreter };
  } finally {
    closeSync(fd);
  }
}

function versionOf(command: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(command[0]!, command.slice(1).concat("version"), {
    encoding: "utf8",
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout ?? "", stderr: result.stderr ?? "" };
}

const COMMIT = buildCommit(REPO_ROOT);
const HOST_IS_X64_LINUX = process.platform === "linux" && process.arch === "x64";

describe("e2e: the cross-built binaries", () => {
  const x64 = join(REPO_ROOT, "dist", "tally-linux-x64");
  const arm64 = join(REPO_ROOT, "dist", "tally-linux-arm64");
  const musl = join(REPO_ROOT, "dist", "tally-linux-x64-musl");
  const baseline = join(REPO_ROOT, "dist", "tally-linux-x64-baseline");

  it("each is an ELF executable for its CPU, with its C library's loader, well under 120 MB", () => {
    const expected = [
      { path: x64, machine: EM_X86_64, interpreter: "/lib64/ld-linux-x86-64.so.2" },
      { path: baseline, machine: EM_X86_64, interpreter: "/lib64/ld-linux-x86-64.so.2" },
      { path: musl, machine: EM_X86_64, interpreter: MUSL_LOADER },
      { path: arm64, machine: EM_AARCH64, interpreter: "/lib/ld-linux-aarch64.so.1" },
    ];
    for (const { path, machine, interpreter } of expected) {
      assert.ok(
        existsSync(path),
        `${path} is missing: npm test builds it (build/test.ts, "compile targets")`,
      );
      assert.deepEqual(elfFacts(path), { machine, interpreter }, path);
      // Bun's runtime alone is 101–107 MB; a jump past this bound means something large got bundled.
      assert.ok(statSync(path).size < MAX_BYTES, `${path} is ${statSync(path).size} bytes`);
    }
  });

  for (const [name, path] of [["linux-x64", x64], ["linux-x64-baseline", baseline]] as const) {
    it(`${name} says its target and commit, and runs the StatsD smoke test`, {
      skip: !HOST_IS_X64_LINUX,
    }, async () => {
      const version = versionOf([path]);
      assert.equal(version.status, 0, version.stderr);
      assert.match(
        version.stdout,
        new RegExp(`^tally \\S+ \\(commit ${COMMIT}, target ${name}, bun \\S+ on linux/x64\\)\\n$`),
      );
      assert.equal((await statsdSmoke([path])).value, 5);
    });
  }

  const qemuMissing = spawnSync(QEMU, ["--version"]).error !== undefined
    ? `${QEMU} is not installed (Debian qemu-user-static; .ci/run installs it)`
    : !existsSync(join(ARM64_SYSROOT, "lib", "ld-linux-aarch64.so.1")) ||
        !existsSync(join(ARM64_SYSROOT, "lib", "libstdc++.so.6"))
    ? `no arm64 C libraries in ${ARM64_SYSROOT} (Debian libc6-arm64-cross, libstdc++6-arm64-cross; .ci/run installs them)`
    : false;

  it("linux-arm64 under qemu-aarch64-static says its target, and runs the StatsD smoke test", {
    skip: qemuMissing,
  }, async () => {
    const command = [QEMU, "-L", ARM64_SYSROOT, arm64];
    const version = versionOf(command);
    assert.equal(version.status, 0, version.stderr);
    assert.match(
      version.stdout,
      new RegExp(`^tally \\S+ \\(commit ${COMMIT}, target linux-arm64, bun \\S+ on linux/arm64\\)\\n$`),
    );
    assert.equal((await statsdSmoke(command, { readyTimeoutMs: 60_000, valueTimeoutMs: 30_000 })).value, 5);
  });

  it("linux-x64-musl under Debian's musl loader", { skip: !HOST_IS_X64_LINUX }, async (t) => {
    if (!existsSync(MUSL_LOADER)) {
      t.skip(`${MUSL_LOADER} is missing (Debian musl; .ci/run installs it)`);
      return;
    }
    const version = versionOf([musl]);
    if (version.status !== 0) {
      // Bun's musl build links the C++ runtime dynamically (libstdc++.so.6 built for musl, as Alpine's
      // libstdc++ package ships it). Debian's musl package has the loader and libc only, and Debian packages
      // no musl C++ runtime: then this is the one thing missing, and the binary cannot run here.
      assert.match(version.stderr, /Error loading shared library libstdc\+\+\.so\.6/, version.stderr);
      const missing = [...version.stderr.matchAll(/Error loading shared library (\S+):/g)].map((m) => m[1]);
      assert.deepEqual([...new Set(missing)], ["libstdc++.so.6"], version.stderr);
      t.skip(
        "Debian's musl has no libstdc++.so.6 built for musl (Alpine: apk add libstdc++ libgcc); checked that it is the only library missing",
      );
      return;
    }
    assert.match(version.stdout, new RegExp(`^tally \\S+ \\(commit ${COMMIT}, target linux-x64-musl, `));
    assert.equal((await statsdSmoke([musl])).value, 5);
  });
});
