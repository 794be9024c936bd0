// Installs the npm dependencies when they are missing or stale, so `npm start` and `npm test` work on a
// fresh clone by themselves. Plain Node (no TypeScript): it runs before Bun is installed.
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const stamp = join(root, "node_modules", ".tally-deps");
const hash = createHash("sha256");
for (const file of ["package.json", "package-lock.json"]) {
  const path = join(root, file);
  if (existsSync(path)) hash.update(readFileSync(path));
}
const want = hash.digest("hex");
const have = existsSync(stamp) ? readFileSync(stamp, "utf8") : "";
if (have !== want) {
  const lock = existsSync(join(root, "package-lock.json"));
  process.stderr.write(`Installing dependencies (npm ${lock ? "ci" : "install"})\n`);
  execFileSync("npm", [lock ? "ci" : "install", "--no-audit", "--no-fund"], { cwd: root, stdio: "inherit" });
  writeFileSync(stamp, want);
}
