import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { script } from "./script.ts";

/** A CoScale script declaring maxruntime 200 ms that sleeps in data mode. */
const LOWER_MAXRUNTIME =
  `if [ "$1" = -c ]; then echo '{"maxruntime":200,"metrics":[{"id":1,"name":"S","datatype":"DOUBLE",` +
  `"calctype":"Instant"}]}'; else sleep 5; fi`;

const TESTDATA = fileURLToPath(new URL("../inputs/scripts/testdata/", import.meta.url).href);

/** Runs `tally script ARGS` with the scripts' testdata directory as the working directory. */
async function tally(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await script(args, {
    stdout: (s) => (out += s),
    stderr: (s) => (err += s),
    env: {},
    cwd: TESTDATA,
    shutdown: new AbortController().signal,
  });
  return { code, out, err };
}

describe("tally script", () => {
  it("script check prints the definitions and values tables and exits 0 for a clean script", async () => {
    const { code, out, err } = await tally("check", "./lvs_check.sh");
    assert.equal(err, "");
    assert.equal(code, 0);
    assert.match(out, /^Definitions \("\.\/lvs_check\.sh -c", exit 0, \d+ ms\):\n/);
    assert.match(out, /\n {2}ID {2}NAME {12}UNIT {2}DATATYPE {2}CALCTYPE {2}DIMENSIONS\n/);
    assert.match(
      out,
      /\n {2}0 {3}Thin pool size {2}b {5}DOUBLE {4}Instant {3}1:Volume Group, 2:Logical Volume\n/,
    );
    assert.match(out, /\(period 60 s, maxruntime 50000 ms\)/);
    assert.match(
      out,
      /\n {2}thin_pool_size_bytes +group=Storage\/LVM, logical_volume=thinpool, volume_group=vg0 +107374182400 +gauge\n/,
    );
    assert.match(out, /Script is clean: 2 value\(s\), 0 event\(s\)\n$/);
  });

  it("script check lists each rejected line with its number and reason and exits 1", async () => {
    const { code, out } = await tally("check", "./id_mismatch.sh");
    assert.equal(code, 1);
    assert.match(
      out,
      /Rejected lines:\n {2}line 3: unknown_id: Metric id 3 is not defined \(defined: 0, 1, 2\)\n/,
    );
    assert.match(out, /Script ran with problems: 2 value\(s\), 0 event\(s\); 1 rejected line\(s\)\n$/);
  });

  it("script check keeps the values of a run that exits non-zero, shows its stderr and exits 1", async () => {
    const { code, out } = await tally("check", "python3 crash_after_output.py");
    assert.equal(code, 1);
    assert.match(out, /healthcheck=database/);
    assert.match(out, /TypeError: not enough arguments for format string/);
    assert.match(out, /exit 1 \(its output is used\)\n$/);
  });

  it("script check shows events with their resolved times and attributes", async () => {
    const { code, out } = await tally("check", "./restart_events.sh");
    assert.equal(code, 0);
    assert.match(
      out,
      /Apache restarts {2}Deploy {15}2016-03-19T00:00:00\.000Z to 2016-03-19T00:01:00\.000Z {2}Exit code=0, scope=application\n/,
    );
  });

  it("script check prints a warning repeated on every metric once, with its count", async () => {
    const { out } = await tally("check", "./bash_example.sh");
    const deprecated = out.split("\n").filter((line) => line.includes("Deprecated key ignored"));
    assert.deepEqual(deprecated, [
      "  warning Deprecated key ignored (2 times) at $.metrics[0].tags, $.metrics[1].tags",
    ]);
  });

  it("script check exits 2 when -c hangs past its 1 s limit", async () => {
    const { code, out, err } = await tally("check", "./hang_config.sh");
    assert.equal(code, 2);
    assert.equal(out, "");
    assert.match(
      err,
      /^Script "\.\/hang_config\.sh" is unusable: Config mode did not finish within 1000 ms and was killed\n/,
    );
  });

  it("script check exits 2 when the definitions define nothing or are not JSON", async () => {
    const empty = await tally("check", "--", "sh", "-c", "echo '{\"metrics\":[]}'", "sh");
    assert.equal(empty.code, 2);
    assert.match(empty.err, /it defines no metrics and no events/);
    const broken = await tally("check", "--", "sh", "-c", "echo 'M1 5'", "sh");
    assert.equal(broken.code, 2);
    assert.match(
      broken.err,
      /Config mode printed unusable definitions \(1 problem\(s\)\): at \$: Expected one JSON object/,
    );
  });

  it("script check exits 2 when the command cannot start or the data run times out", async () => {
    const missing = await tally("check", "./no_such_script.sh");
    assert.equal(missing.code, 2);
    assert.match(missing.err, /is unusable: Cannot run "\.\/no_such_script\.sh -c"/);
    const slow = await tally("check", "--format", "prometheus", "--timeout", "300ms", "--", "sleep", "5");
    assert.equal(slow.code, 2);
    assert.match(slow.err, /"sleep 5" is unusable: it was killed at its 300 ms limit/);
  });

  it("script check names the declared maxruntime and the --timeout / timeout key when it cuts a run", async () => {
    const { code, err } = await tally("check", "--timeout", "300ms", "./declares_maxruntime.sh");
    assert.equal(code, 2);
    assert.match(
      err,
      /is unusable: it was killed at its 300 ms limit, set by --timeout 300ms \(under "tally run": the scripts input's `timeout` key, per script or for the input, at most 60s\); the script declares maxruntime 20000 ms, but tally never runs a script longer than the timeout\n/,
    );
    const lower = await tally("check", "--timeout", "60s", "--", "sh", "-c", LOWER_MAXRUNTIME, "sh");
    assert.equal(lower.code, 2);
    assert.match(
      lower.err,
      /killed at its 200 ms limit, set by the script's declared maxruntime 200 ms \(lower than --timeout 1m/,
    );
  });

  it("script run prints the samples tally would send, one per line", async () => {
    const { code, out, err } = await tally("run", "./crlf_difference.sh");
    assert.equal(err, "");
    assert.equal(code, 0);
    assert.equal(
      out,
      'container_restarts{group="Docker",image_name="microsoft/dotnet-samples",script="crlf_difference"} 7 cumulative\n' +
        'container_restarts{group="Docker",image_name="data center 1",script="crlf_difference"} 3 cumulative\n',
    );
  });

  it("script run takes other formats, runs the command without a mode flag and passes --env", async () => {
    const { code, out } = await tally(
      "run",
      "--format",
      "prometheus",
      "--env",
      "V=42",
      "--",
      "sh",
      "-c",
      'echo "answer $V"; echo "args $#"',
    );
    assert.equal(code, 0);
    assert.equal(out, 'answer{script="sh"} 42 gauge\nargs{script="sh"} 0 gauge\n');
  });

  it("script reports usage errors with exit 2", async () => {
    assert.equal((await tally()).code, 2);
    assert.equal((await tally("check")).code, 2);
    assert.match((await tally("check", "'oops")).err, /the single quote at offset 0 is never closed/);
    assert.match((await tally("run", "--timeout", "2m", "x")).err, /Invalid --timeout "2m"/);
    assert.match((await tally("run", "--format", "json", "x")).err, /Unknown --format "json"/);
    assert.match((await tally("run", "--env", "nope", "x")).err, /Invalid --env "nope": expected NAME=VALUE/);
    assert.match((await tally("--help")).out, /^Usage: tally script check CMDLINE/);
  });
});
