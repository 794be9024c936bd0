import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { availableParallelism } from "node:os";
import * as v from "valibot";
import type { InputPlugin } from "../inputs/input.ts";
import { ConfigError } from "./config_error.ts";
import { duration, listenAddress } from "./fields.ts";
import { resolveConfig } from "./resolve.ts";
import type { ConfigOverrides } from "./resolve.ts";

// Fake plugins, so these tests pin the generic assembly rather than any real plugin.
const statsdSchema = v.object({
  listen: v.optional(v.array(listenAddress(), "an array of addresses"), ["udp:127.0.0.1:8125"]),
  tag_style: v.optional(v.picklist(["dogstatsd", "influx"]), "dogstatsd"),
});
const statsd: InputPlugin<typeof statsdSchema> = {
  type: "statsd",
  schema: statsdSchema,
  example: {},
  create: () => {
    throw new Error("Not used in these tests");
  },
  resources: (config) => config.listen,
};
const probeSchema = v.pipe(
  v.pipe(
    v.strictObject({ target: v.string("a target URL"), every: v.optional(duration({ min: 1000 }), "30s") }),
    v.check((c) => c.target !== "http://forbidden", 'a target other than "http://forbidden"'),
  ),
  v.check((c) => c.target !== "http://denied", 'a target other than "http://denied"'),
);
const probe: InputPlugin<typeof probeSchema> = {
  type: "probe",
  schema: probeSchema,
  example: { target: "http://127.0.0.1:9100/metrics" },
  create: () => {
    throw new Error("Not used in these tests");
  },
};
const PLUGINS = { statsd, probe } as const;
const DEFAULT_INPUTS = { statsd: { type: "statsd" } };

function resolve(document: unknown, overrides: ConfigOverrides = {}) {
  return resolveConfig(document, {
    plugins: PLUGINS,
    file: "/etc/tally.toml",
    overrides,
    defaultInputs: DEFAULT_INPUTS,
  });
}

function errorOf(document: unknown, overrides: ConfigOverrides = {}): ConfigError {
  try {
    resolve(document, overrides);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  assert.fail("Expected a ConfigError");
}

describe("resolveConfig()", () => {
  it("resolves an empty document to the embedded defaults in milliseconds and bytes", () => {
    const config = resolve({});
    assert.deepEqual(config.agent, {
      data_dir: "./data",
      flush_interval: 10_000,
      workers: Math.max(1, availableParallelism() - 1),
      log_level: "info",
      ring_size: 4 * 1024 * 1024,
      when_full: "drop",
    });
    assert.deepEqual(config.aggregation, {
      percentiles: [50, 90, 95, 99],
      exact_limit: 256,
      max_series: 100_000,
      series_idle: 300_000,
    });
    assert.deepEqual(config.http, {
      listen: { hostname: "127.0.0.1", port: 8127 },
      token: "",
      insecure: false,
      max_body: 1024 * 1024,
    });
    assert.deepEqual(config.store, { retention: 7 * 86_400_000, max_size: 1024 ** 3 });
    assert.deepEqual(config.inputs, {
      statsd: { type: "statsd", listen: ["udp:127.0.0.1:8125"], tag_style: "dogstatsd" },
    });
  });

  it("runs exactly the inputs of an [inputs] table, and none for an empty one", () => {
    const config = resolve({ inputs: { edge: { type: "probe", target: "http://a" } } });
    assert.deepEqual(config.inputs, { edge: { type: "probe", target: "http://a", every: 30_000 } });
    assert.deepEqual(resolve({ inputs: {} }).inputs, {});
  });

  it("converts durations and sizes and sorts percentiles", () => {
    const config = resolve({
      agent: { flush_interval: "1s", ring_size: 262_144, workers: 0 },
      aggregation: { percentiles: [99, 50, 99.9, 50] },
      store: { retention: "30d", max_size: "512MiB" },
    });
    assert.equal(config.agent.flush_interval, 1000);
    assert.equal(config.agent.ring_size, 262_144);
    assert.equal(config.agent.workers, 0);
    assert.deepEqual(config.aggregation.percentiles, [50, 99, 99.9]);
    assert.equal(config.store.retention, 30 * 86_400_000);
    assert.equal(config.store.max_size, 512 * 1024 * 1024);
  });

  it("names the file, the key path, what was expected and what was found", () => {
    const error = errorOf({ inputs: { statsd: { type: "statsd", listen: ["foo"] } } });
    assert.equal(
      error.message,
      'Invalid config "/etc/tally.toml" at inputs.statsd.listen[0]: expected an address like ' +
        '"udp:HOST:PORT", "tcp:HOST:PORT" or "unix:PATH", found "foo"',
    );
    assert.equal(error.file, "/etc/tally.toml");
    assert.deepEqual(error.issues.map((i) => i.path), [["inputs", "statsd", "listen", 0]]);
  });

  it("reports wrong types with the value found", () => {
    const cases: Array<[unknown, string]> = [
      [
        { agent: { workers: "many" } },
        'at agent.workers: expected "auto" or an integer from 0 to 256, found "many"',
      ],
      [
        { agent: { workers: 1.5 } },
        'at agent.workers: expected "auto" or an integer from 0 to 256, found 1.5',
      ],
      [
        { agent: { log_level: "loud" } },
        'at agent.log_level: expected one of "debug", "info", "warn" or "error", found "loud"',
      ],
      [
        { agent: { flush_interval: 10 } },
        'at agent.flush_interval: expected a duration like "500ms", "10s", "5m", "1h" or "7d", found 10',
      ],
      [{ agent: { flush_interval: "10 seconds" } }, 'found "10 seconds"'],
      [
        { agent: { flush_interval: "10ms" } },
        'at agent.flush_interval: expected a duration from "100ms" to "1d", found "10ms"',
      ],
      [
        { agent: { ring_size: "4MB" } },
        'at agent.ring_size: expected a size like "512KiB", "4MiB", "1GiB" or an integer of bytes, found "4MB"',
      ],
      [
        { agent: { ring_size: "1KiB" } },
        'at agent.ring_size: expected a size from "128KiB" to "1GiB", found "1KiB"',
      ],
      [
        { aggregation: { percentiles: [50, 150] } },
        "at aggregation.percentiles[1]: expected a percentile from 0 to 100, found 150",
      ],
      [
        { aggregation: { percentiles: "p99" } },
        'at aggregation.percentiles: expected an array of percentiles like [50, 90, 99], found "p99"',
      ],
      [{ http: { insecure: "yes" } }, 'at http.insecure: expected true or false, found "yes"'],
      [{ http: { listen: "8127" } }, 'at http.listen: expected an address like "HOST:PORT", found "8127"'],
      [{ http: "127.0.0.1:8127" }, 'at http: expected a table, found "127.0.0.1:8127"'],
      [{ agent: { data_dir: "" } }, 'at agent.data_dir: expected a non-empty directory path, found ""'],
    ];
    for (const [document, expected] of cases) {
      const message = errorOf(document).message;
      assert.ok(message.includes(expected), `${message}\n  does not include\n${expected}`);
    }
  });

  it("refuses unknown keys everywhere and suggests the nearest known key", () => {
    const error = errorOf({
      agent: { flush_intervl: "1s" },
      colour: "blue",
      inputs: {
        statsd: { type: "statsd", tag_styl: "influx" },
        edge: { type: "probe", target: "x", evry: "1m" },
      },
    });
    assert.deepEqual(error.issues.map((i) => i.where), [
      "agent.flush_intervl",
      "inputs.statsd.tag_styl",
      "inputs.edge.evry",
      "colour",
    ]);
    const [agent, statsdIssue, probeIssue, root] = error.issues.map((i) => i.text);
    assert.equal(
      agent,
      'expected one of "data_dir", "flush_interval", "workers", "log_level", "ring_size" or "when_full" ' +
        '(did you mean "flush_interval"?), found the unknown key "flush_intervl"',
    );
    assert.equal(
      statsdIssue,
      'expected one of "type", "listen" or "tag_style" (did you mean "tag_style"?), found the unknown key "tag_styl"',
    );
    assert.equal(
      probeIssue,
      'expected one of "type", "target" or "every" (did you mean "every"?), found the unknown key "evry"',
    );
    assert.equal(
      root,
      'expected one of "agent", "aggregation", "http", "store", "inputs" or "outputs", found the unknown key ' +
        '"colour"',
    );
  });

  it("lists several problems one per line under a header", () => {
    const error = errorOf({ agent: { workers: -1, log_level: 3 } });
    assert.equal(
      error.message,
      [
        'Invalid config "/etc/tally.toml": 2 problems',
        '  at agent.workers: expected "auto" or an integer from 0 to 256, found -1',
        '  at agent.log_level: expected one of "debug", "info", "warn" or "error", found 3',
      ].join("\n"),
    );
  });

  it("checks the input type against the registry", () => {
    assert.equal(
      errorOf({ inputs: { x: { type: "collectd" } } }).message,
      'Invalid config "/etc/tally.toml" at inputs.x.type: expected one of "statsd" or "probe", found "collectd"',
    );
    assert.equal(
      errorOf({ inputs: { x: { listen: [] } } }).message,
      'Invalid config "/etc/tally.toml" at inputs.x.type: expected one of "statsd" or "probe", found nothing',
    );
  });

  it("keeps a plugin's own checks and required keys", () => {
    assert.match(
      errorOf({ inputs: { edge: { type: "probe" } } }).message,
      /at inputs\.edge\.target: expected a target URL, found nothing$/,
    );
    assert.match(
      errorOf({ inputs: { edge: { type: "probe", target: "http://forbidden" } } }).message,
      /at inputs\.edge: expected a target other than "http:\/\/forbidden", found a table$/,
    );
    assert.match(
      errorOf({ inputs: { edge: { type: "probe", target: "http://denied" } } }).message,
      /at inputs\.edge: expected a target other than "http:\/\/denied", found a table$/,
    );
  });

  it("refuses input ids that cannot be labels", () => {
    assert.match(
      errorOf({ inputs: { "my input": { type: "statsd" } } }).message,
      /at inputs\."my input": expected an input id made of letters, digits, "_" and "-", found the key "my input"$/,
    );
  });

  it("refuses two components binding the same address, naming both", () => {
    const error = errorOf({
      inputs: {
        a: { type: "statsd", listen: ["udp:127.0.0.1:8125"] },
        b: { type: "statsd", listen: ["udp:127.0.0.1:8125"] },
      },
    });
    assert.equal(
      error.message,
      'Invalid config "/etc/tally.toml" at inputs.b: expected an address no other listener binds, ' +
        'found "udp:127.0.0.1:8125", which inputs.a also binds',
    );
  });

  it("treats wildcard hosts as overlapping and port 0 as never conflicting", () => {
    assert.match(
      errorOf({
        inputs: {
          a: { type: "statsd", listen: ["udp:0.0.0.0:9125"] },
          b: { type: "statsd", listen: ["udp:10.0.0.1:9125"] },
        },
      }).message,
      /at inputs\.b: .*found "udp:10\.0\.0\.1:9125", which inputs\.a also binds$/,
    );
    assert.match(
      errorOf({
        http: { listen: "127.0.0.1:9000" },
        inputs: { a: { type: "statsd", listen: ["tcp:127.0.0.1:9000"] } },
      })
        .message,
      /at inputs\.a: .*found "tcp:127\.0\.0\.1:9000", which http also binds$/,
    );
    assert.match(
      errorOf({ inputs: { a: { type: "statsd", listen: ["unix:/run/t.sock", "unix:/run/t.sock"] } } })
        .message,
      /at inputs\.a: expected an address no other listener binds, found "unix:\/run\/t\.sock" twice$/,
    );
    const fine = resolve({
      inputs: {
        a: { type: "statsd", listen: ["udp:127.0.0.1:0", "tcp:127.0.0.1:8125", "udp:127.0.0.1:8125"] },
        b: { type: "statsd", listen: ["udp:127.0.0.1:0", "udp:127.0.0.2:8125"] },
      },
    });
    assert.deepEqual(Object.keys(fine.inputs), ["a", "b"]);
  });

  it("refuses a non-loopback HTTP endpoint without a token unless insecure is set", () => {
    const error = errorOf({ http: { listen: "0.0.0.0:8127" } });
    assert.match(
      error.message,
      /^Invalid config "\/etc\/tally\.toml" at http\.token: expected a bearer token, found "": http\.listen "0\.0\.0\.0:8127" is not a loopback address, .* Either set http\.token .*, or accept an open endpoint with --insecure \(http\.insecure = true\)$/,
    );
    assert.match(
      errorOf({}, { http: "0.0.0.0:8127" }).message,
      /at http\.token: expected a bearer token, found "": --http "0\.0\.0\.0:8127" is not a loopback/,
    );
    assert.equal(resolve({ http: { listen: "0.0.0.0:8127", token: "s3cret" } }).http.token, "s3cret");
    assert.equal(resolve({ http: { listen: "[::]:8127", insecure: true } }).http.insecure, true);
    assert.equal(resolve({ http: { listen: "localhost:8127" } }).http.listen.hostname, "localhost");
    assert.equal(resolve({ http: { listen: "[::1]:8127" } }).http.listen.hostname, "::1");
  });
});

describe("resolveConfig() overrides", () => {
  it("lets flags win over the document", () => {
    const config = resolve(
      {
        agent: { data_dir: "/var/lib/tally", flush_interval: "1m", workers: 3 },
        http: { listen: "127.0.0.1:1" },
      },
      { dataDir: "/srv/tally", flushInterval: "1s", workers: "0", http: "127.0.0.1:9127" },
    );
    assert.equal(config.agent.data_dir, "/srv/tally");
    assert.equal(config.agent.flush_interval, 1000);
    assert.equal(config.agent.workers, 0);
    assert.deepEqual(config.http.listen, { hostname: "127.0.0.1", port: 9127 });
  });

  it("resolves a relative data_dir against cwd", () => {
    assert.equal(resolve({}, { cwd: "/home/me" }).agent.data_dir, "/home/me/data");
    assert.equal(resolve({}, { cwd: "/home/me", dataDir: "d" }).agent.data_dir, "/home/me/d");
    assert.equal(resolve({ agent: { data_dir: "/abs" } }, { cwd: "/home/me" }).agent.data_dir, "/abs");
  });

  it("replaces every statsd input with one on the flag's addresses, keeping the first one's settings", () => {
    const config = resolve(
      {
        inputs: {
          main: { type: "statsd", listen: ["udp:127.0.0.1:8125"], tag_style: "influx" },
          other: { type: "statsd", listen: ["tcp:127.0.0.1:8125"] },
          edge: { type: "probe", target: "http://a" },
        },
      },
      { statsd: ["udp:127.0.0.1:9125", "unix:/tmp/tally.sock"] },
    );
    assert.deepEqual(config.inputs, {
      edge: { type: "probe", target: "http://a", every: 30_000 },
      statsd: { type: "statsd", listen: ["udp:127.0.0.1:9125", "unix:/tmp/tally.sock"], tag_style: "influx" },
    });
    assert.deepEqual(resolve({}, { statsd: ["tcp:127.0.0.1:1"] }).inputs, {
      statsd: { type: "statsd", listen: ["tcp:127.0.0.1:1"], tag_style: "dogstatsd" },
    });
  });

  it("replaces every collectd input with one on --collectd's addresses, next to the default statsd input", () => {
    const collectd: InputPlugin<typeof statsdSchema> = { ...statsd, type: "collectd" };
    const plugins = { statsd, collectd } as const;
    const resolveWith = (document: unknown, addresses: readonly string[]) =>
      resolveConfig(document, { plugins, overrides: { collectd: addresses }, defaultInputs: DEFAULT_INPUTS });
    assert.deepEqual(resolveWith({}, ["udp:127.0.0.1:25826"]).inputs, {
      statsd: { type: "statsd", listen: ["udp:127.0.0.1:8125"], tag_style: "dogstatsd" },
      collectd: { type: "collectd", listen: ["udp:127.0.0.1:25826"], tag_style: "dogstatsd" },
    });
    const file = {
      inputs: {
        a: { type: "collectd", listen: ["udp:127.0.0.1:1"], tag_style: "influx" },
        b: { type: "collectd", listen: ["udp:127.0.0.1:2"] },
      },
    };
    assert.deepEqual(resolveWith(file, ["udp:[::1]:25826"]).inputs, {
      collectd: { type: "collectd", listen: ["udp:[::1]:25826"], tag_style: "influx" },
    });
    assert.throws(() => resolveWith({}, ["nowhere"]), /at --collectd\[0\]: expected an address like/);
  });

  it("sets udp_receive on every statsd and collectd input from --udp-receive, naming the flag when wrong", () => {
    const udpSchema = v.strictObject({
      listen: v.optional(v.array(listenAddress(), "an array of addresses"), ["udp:127.0.0.1:8125"]),
      udp_receive: v.optional(
        v.picklist(["auto", "recvmmsg", "dgram"], '"auto", "recvmmsg" or "dgram"'),
        "auto",
      ),
    });
    const udpStatsd: InputPlugin<typeof udpSchema> = {
      type: "statsd",
      schema: udpSchema,
      example: {},
      create: () => {
        throw new Error("Not used in these tests");
      },
    };
    const collectd: InputPlugin<typeof udpSchema> = { ...udpStatsd, type: "collectd" };
    const plugins = { statsd: udpStatsd, collectd, probe } as const;
    const resolveWith = (document: unknown, overrides: ConfigOverrides) =>
      resolveConfig(document, { plugins, file: "/etc/tally.toml", overrides, defaultInputs: DEFAULT_INPUTS });
    const file = {
      inputs: {
        s: { type: "statsd", listen: ["udp:127.0.0.1:1"] },
        c: { type: "collectd", listen: ["udp:127.0.0.1:2"], udp_receive: "recvmmsg" },
        p: { type: "probe", target: "http://127.0.0.1:9100/metrics" },
      },
    };
    const inputs = resolveWith(file, { udpReceive: "dgram" }).inputs;
    assert.equal(inputs["s"]?.type === "statsd" ? inputs["s"].udp_receive : undefined, "dgram");
    assert.equal(inputs["c"]?.type === "collectd" ? inputs["c"].udp_receive : undefined, "dgram");
    assert.equal("udp_receive" in (inputs["p"] ?? {}), false);
    assert.throws(
      () => resolveWith({}, { udpReceive: "fast" }),
      /at --udp-receive: expected "auto", "recvmmsg" or "dgram", found "fast"/,
    );
  });

  it("reports bad flags by the flag's name", () => {
    const error = errorOf({}, {
      statsd: ["udp:127.0.0.1:8125", "foo"],
      workers: "two",
      flushInterval: "fast",
    });
    assert.deepEqual(error.issues.map((i) => i.where), ["--flush-interval", "--workers", "--statsd[1]"]);
    assert.match(error.message, /^ {2}at --statsd\[1\]: expected an address like .*, found "foo"$/m);
    assert.equal(
      errorOf({}, { http: "nowhere" }).message,
      'Invalid config "/etc/tally.toml" at --http: expected an address like "HOST:PORT", found "nowhere"',
    );
  });

  it("leaves a malformed table in the file to be reported against the file", () => {
    assert.equal(
      errorOf({ agent: "fast" }, { workers: 1 }).message,
      'Invalid config "/etc/tally.toml" at agent: expected a table, found "fast"',
    );
  });

  it("omits the file from messages when there is none", () => {
    let message = "";
    try {
      resolveConfig({}, { plugins: PLUGINS, overrides: { workers: "x" }, defaultInputs: DEFAULT_INPUTS });
    } catch (error) {
      message = (error as Error).message;
    }
    assert.equal(
      message,
      'Invalid config at --workers: expected "auto" or an integer from 0 to 256, found "x"',
    );
  });
});
