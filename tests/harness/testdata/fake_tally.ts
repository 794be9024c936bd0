// A stand-in for `tally run` that the harness tests start: it answers /readyz on --http, and behaves
// according to --mode: "ok" exits 0 on SIGTERM, "stubborn" ignores SIGTERM, "crash" exits 3 at once.
import { mkdirSync } from "node:fs";
import { createServer } from "node:http";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: process.argv.slice(process.argv.indexOf("run") + 1),
  options: {
    "data-dir": { type: "string" },
    "http": { type: "string" },
    "statsd": { type: "string", multiple: true },
    "mode": { type: "string" },
  },
  strict: true,
});
const mode = values.mode ?? "ok";
if (values["data-dir"] !== undefined) mkdirSync(values["data-dir"], { recursive: true });
process.stderr.write(
  `fake tally mode=${mode} data_dir=${values["data-dir"]} statsd=${values.statsd?.join(",")}\n`,
);
if (mode === "crash") {
  process.stderr.write("Cannot bind statsd listener: address already in use\n");
  process.exit(3);
}
const [host, port] = (values.http ?? "127.0.0.1:0").split(":");
const server = createServer(function answer(req, res) {
  res.writeHead(req.url === "/readyz" ? 200 : 404).end("ok");
});
server.listen(Number(port), host);
process.on("SIGTERM", function onTerm() {
  if (mode === "stubborn") {
    process.stderr.write("ignoring SIGTERM\n");
    return;
  }
  server.close();
  process.stdout.write("drained\n");
  process.exit(0);
});
