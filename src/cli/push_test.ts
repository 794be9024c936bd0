import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { push } from "./push.ts";
import { testIo } from "./_test_io.ts";

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("push()", () => {
  let url = "";
  before(async () => {
    url = `http://127.0.0.1:${await closedPort()}`;
  });

  it("push() prints --help on stdout", async () => {
    const t = testIo();
    assert.equal(await push(["--help"], t.io), 0);
    assert.match(t.out(), /^Usage: tally push \[options\] NAME=VALUE/);
  });

  it("push() --dry-run prints the push body with gauges by default and --type when given", async () => {
    const t = testIo({ env: { TALLY_URL: url } });
    assert.equal(await push(["temperature=21.5,room=kitchen", "load=-0.5", "--dry-run"], t.io), 0);
    assert.equal(
      t.out(),
      `POST ${url}/api/v1/push\nContent-Type: application/json\n\n` +
        '{"metrics":[{"name":"temperature","type":"gauge","value":21.5,"labels":{"room":"kitchen"}},' +
        '{"name":"load","type":"gauge","value":-0.5}]}\n',
    );
    const counter = testIo();
    assert.equal(await push(["deploys=1", "--type", "counter", "--dry-run"], counter.io), 0);
    assert.match(counter.out(), /^POST http:\/\/127\.0\.0\.1:8127\/api\/v1\/push\n/);
    assert.match(counter.out(), /"type":"counter"/);
  });

  it("push() --stdin --dry-run prints one request per batch and reads the CoScale grammar", async () => {
    const t = testIo({ stdin: "M1:S100:-60:1.2;M2:A:0:-3e2\n" });
    assert.equal(
      await push(["--stdin", "--format", "coscale", "--app-id", "a1", "--dry-run", "--url", url], t.io),
      0,
    );
    assert.equal(
      t.out(),
      `POST ${url}/api/v1/app/a1/data/\nContent-Type: application/x-www-form-urlencoded\n\n` +
        'cdata=base64(gzip([{"m":1,"s":"S100","d":[[-60,1.2]]},{"m":2,"s":"A","d":[[0,-300]]}]))\n',
    );
    assert.equal(t.err(), "");
  });

  it("push() exits 1 naming the URL when the agent is down", async () => {
    const t = testIo({ env: { TALLY_URL: url } });
    assert.equal(await push(["x=1", "--wait", "0s"], t.io), 1);
    assert.equal(
      t.err(),
      `tally push: Cannot push to ${url}/api/v1/push: connection refused (is "tally run" running?)\n`,
    );
  });

  it("push() --stdin exits 1 after the input it could not read, having reported it", async () => {
    const t = testIo({ stdin: "M1:A:0:1;M2:A:0:x\n" });
    assert.equal(await push(["--stdin", "-f", "coscale", "--dry-run"], t.io), 1);
    assert.equal(
      t.err(),
      'tally push: Line 1, entry "M2:A:0:x": Value "x" is not a number\ntally push: 1 malformed entry was skipped\n',
    );
    assert.match(t.out(), /"m":1/);
  });

  it("push() exits 2 on usage errors, naming them", async () => {
    const cases: [string[], RegExp][] = [
      [[], /^tally push: Expected NAME=VALUE arguments or --stdin\n/],
      [["x=abc"], /^tally push: Invalid metric "x=abc": the value "abc" is not a finite number\n/],
      [["x=1", "--type", "gauges"], /^tally push: Invalid --type "gauges": expected one of counter, gauge, /],
      [
        ["--stdin", "x=1"],
        /^tally push: Expected either NAME=VALUE arguments or --stdin, got both \("x=1"\)\n/,
      ],
      [
        ["--stdin", "--format", "xml"],
        /^tally push: Invalid --format "xml": expected one of statsd, influx, json, coscale\n/,
      ],
      [
        ["--stdin", "--type", "counter"],
        /^tally push: --type applies to NAME=VALUE arguments, not to --stdin\n/,
      ],
      [["--stdin", "--precision", "s"], /^tally push: --precision applies to --format influx\n/],
      [
        ["--stdin", "-f", "influx", "--precision", "h"],
        /^tally push: Invalid --precision "h": expected one of ns, us, ms, s\n/,
      ],
      [["x=1", "--format", "json"], /^tally push: --format applies to --stdin\n/],
      [["x=1", "--url", "ftp://a"], /^tally push: Invalid --url "ftp:\/\/a": expected http:\/\/HOST:PORT/],
      [["x=1", "--frobnicate"], /^tally push: Unknown option '--frobnicate'/],
    ];
    for (const [args, message] of cases) {
      const t = testIo();
      assert.equal(await push(args, t.io), 2, args.join(" "));
      assert.match(t.err(), message, args.join(" "));
      assert.match(t.err(), /\n\nUsage: tally push /);
    }
  });
});
