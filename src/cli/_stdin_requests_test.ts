import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { Buffer } from "node:buffer";
import { JSON_BATCH_UNITS, stdinRequests, TEXT_BATCH_BYTES } from "./_stdin_requests.ts";
import type { StdinFormat, StdinProblem, StdinRequest } from "./_stdin_requests.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

async function* input(text: string, chunk = 4096): AsyncGenerator<Uint8Array> {
  const bytes = encoder.encode(text);
  for (let i = 0; i < bytes.length; i += chunk) yield bytes.slice(i, i + chunk);
}

async function requestsOf(
  text: string,
  format: StdinFormat,
): Promise<{ requests: StdinRequest[]; problems: StdinProblem[] }> {
  const requests: StdinRequest[] = [];
  const problems: StdinProblem[] = [];
  const options = {
    precision: "s",
    appId: "app 1",
    onProblem: (p: StdinProblem) => void problems.push(p),
  } as const;
  for await (const request of stdinRequests(input(text), format, options)) requests.push(request);
  return { requests, problems };
}

function bodyText(request: StdinRequest): string {
  const body = request.request.body;
  return typeof body === "string" ? body : decoder.decode(body);
}

/** The JSON payload inside a CoScale form body. */
function cdataOf(request: StdinRequest): unknown {
  const cdata = new URLSearchParams(bodyText(request)).get("cdata") ?? "";
  return JSON.parse(gunzipSync(Buffer.from(cdata, "base64")).toString());
}

describe("stdinRequests()", () => {
  it("stdinRequests() passes StatsD lines through unchanged, gzipped, to /api/v1/statsd", async () => {
    const { requests, problems } = await requestsOf("a:1|c\nb:2|g|#env:prod\n", "statsd");
    assert.deepEqual(problems, []);
    assert.equal(requests.length, 1);
    const [r] = requests;
    assert.deepEqual({ ...r!.request, body: bodyText(r!) }, {
      method: "POST",
      path: "/api/v1/statsd",
      contentType: "text/plain; charset=utf-8",
      body: "a:1|c\nb:2|g|#env:prod\n",
      gzip: true,
    });
    assert.deepEqual([r!.firstLine, r!.lastLine], [1, 2]);
  });

  it("stdinRequests() sends influx lines to /write with the precision", async () => {
    const { requests } = await requestsOf("cpu,host=a usage=0.5 1764748800\n", "influx");
    assert.equal(requests[0]!.request.path, "/write?precision=s");
    assert.equal(bodyText(requests[0]!), "cpu,host=a usage=0.5 1764748800\n");
  });

  it("stdinRequests() cuts a large text input into in-order bodies within the limit", async () => {
    const lines = Array.from({ length: 60_000 }, (_, i) => `metric.${i}:${i}|c`);
    const { requests } = await requestsOf(lines.join("\n") + "\n", "statsd");
    assert.ok(requests.length > 1, `${requests.length} requests`);
    for (const r of requests) assert.ok((r.request.body as Uint8Array).length <= TEXT_BATCH_BYTES);
    assert.equal(requests.map(bodyText).join(""), lines.join("\n") + "\n");
    assert.deepEqual(requests.map((r) => r.firstLine), [
      1,
      ...requests.slice(0, -1).map((r) => r.lastLine + 1),
    ]);
    assert.equal(requests.at(-1)!.lastLine, 60_000);
  });

  it("stdinRequests() reads JSON lines: a metric, an array of them, a push body", async () => {
    const text = '{"name":"a","type":"gauge","value":1}\n\n' +
      '[{"name":"b","type":"counter","value":2},{"name":"c","type":"set","value":"x"}]\n' +
      '{"metrics":[{"name":"d","type":"gauge","value":-1e3,"labels":{"env":"prod"}}]}\n';
    const { requests, problems } = await requestsOf(text, "json");
    assert.deepEqual(problems, []);
    assert.equal(requests.length, 1);
    assert.equal(requests[0]!.request.path, "/api/v1/push");
    assert.equal(requests[0]!.request.gzip, true);
    assert.deepEqual(JSON.parse(bodyText(requests[0]!)), {
      metrics: [
        { name: "a", type: "gauge", value: 1 },
        { name: "b", type: "counter", value: 2 },
        { name: "c", type: "set", value: "x" },
        { name: "d", type: "gauge", value: -1000, labels: { env: "prod" } },
      ],
    });
    assert.deepEqual(requests[0]!.origins, ["line 1", "line 3 [0]", "line 3 [1]", "line 4 metrics[0]"]);
  });

  it("stdinRequests() reports a JSON line that does not parse and sends its neighbours", async () => {
    const { requests, problems } = await requestsOf(
      '{"name":"a","value":1}\n{oops\n{"name":"b","value":2}\n',
      "json",
    );
    assert.deepEqual(problems, [{ line: 2, message: "Line 2 is not JSON: {oops" }]);
    assert.deepEqual(JSON.parse(bodyText(requests[0]!)).metrics.map((m: { name: string }) => m.name), [
      "a",
      "b",
    ]);
  });

  it("stdinRequests() reads a pretty-printed JSON document as one input", async () => {
    const document = JSON.stringify({ metrics: [{ name: "a", value: 1 }, { name: "b", value: 2 }] }, null, 2);
    const { requests, problems } = await requestsOf(`\n${document}\n`, "json");
    assert.deepEqual(problems, []);
    assert.deepEqual(JSON.parse(bodyText(requests[0]!)), {
      metrics: [{ name: "a", value: 1 }, { name: "b", value: 2 }],
    });
    assert.deepEqual(requests[0]!.origins, ["metrics[0]", "metrics[1]"]);
    const broken = await requestsOf('{\n  "metrics": [\n', "json");
    assert.deepEqual(broken.requests, []);
    assert.deepEqual(broken.problems, [
      { line: 0, message: "Standard input is neither one JSON value per line nor one JSON document" },
    ]);
  });

  it("stdinRequests() keeps large JSON bodies under the limit", async () => {
    const lines = Array.from(
      { length: 20_000 },
      (_, i) => JSON.stringify({ name: `metric_${i}`, type: "gauge", value: i }),
    );
    const { requests } = await requestsOf(lines.join("\n"), "json");
    assert.ok(requests.length > 1);
    let total = 0;
    for (const r of requests) {
      assert.ok(bodyText(r).length <= JSON_BATCH_UNITS);
      total += JSON.parse(bodyText(r)).metrics.length;
    }
    assert.equal(total, 20_000);
  });

  it("stdinRequests() turns the CoScale grammar into the cdata form for the app's data/ route", async () => {
    const { requests, problems } = await requestsOf(
      'M1:S100:-60:1.2;M2:S100:0:2\nM3:X:0:1\nM1:S100:[-30:-1e3,0:2.5E-1]:{"Queue":"q;1"}\n',
      "coscale",
    );
    assert.deepEqual(problems, [
      {
        line: 2,
        message: 'Line 2, entry "M3:X:0:1": Subject "X" is not A (the application) or S<server id>',
      },
    ]);
    assert.equal(requests.length, 1);
    const [r] = requests;
    assert.equal(r!.request.path, "/api/v1/app/app%201/data/");
    assert.equal(r!.request.contentType, "application/x-www-form-urlencoded");
    assert.notEqual(r!.request.gzip, true);
    const payload = [
      { m: 1, s: "S100", d: [[-60, 1.2]] },
      { m: 2, s: "S100", d: [[0, 2]] },
      { m: 1, s: "S100", d: [[-30, -1000], [0, 0.25]], dv: { Queue: "q;1" } },
    ];
    assert.deepEqual(cdataOf(r!), payload);
    assert.equal(r!.request.shownBody, `cdata=base64(gzip(${JSON.stringify(payload)}))`);
    assert.deepEqual([r!.firstLine, r!.lastLine], [1, 3]);
  });

  it("stdinRequests() sends nothing for empty input", async () => {
    for (const format of ["statsd", "influx", "json", "coscale"] as const) {
      assert.deepEqual(await requestsOf("", format), { requests: [], problems: [] }, format);
    }
  });
});
