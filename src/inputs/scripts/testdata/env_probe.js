#!/usr/bin/env node
// Prints what the sandbox gave it as one JSON object: argv, environment, working directory, ids, stdin.
// A dynamic import works whether node reads this file as CommonJS or as an ES module.
const fs = await import("node:fs");
let stdin;
try {
  stdin = fs.readFileSync(0).length === 0 ? "eof" : "data";
} catch (error) {
  stdin = `error ${error.code}`;
}
process.stdout.write(
  JSON.stringify({
    args: process.argv.slice(2),
    env: process.env,
    cwd: process.cwd(),
    uid: process.getuid(),
    gid: process.getgid(),
    groups: process.getgroups(),
    stdin,
  }) + "\n",
);
