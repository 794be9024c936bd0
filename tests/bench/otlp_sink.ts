/**
 * The OTLP receiver of the forwarding benchmark (`forward.ts --only otlp`), in a process of its own so that
 * its work is not counted as tally's: a recording receiver on a free loopback port that answers every POST
 * at once, keeps the bodies, and on `GET /count` decodes all of them with the OpenTelemetry project's own
 * generated classes (`tests/harness/otlp_request.ts`) and answers how many data points and requests it got.
 *
 * Run: `bun tests/bench/otlp_sink.ts`; prints `port <N>` once listening; stops on SIGTERM.
 *
 * @module
 */
import { decodeOtlpMetrics } from "../harness/otlp_request.ts";
import { startRecordingReceiver, status } from "../harness/recording_receiver.ts";

const receiver = await startRecordingReceiver();
receiver.fallback = (res, request) => {
  if (request.method !== "GET") {
    status(200)(res, request);
    return;
  }
  let points = 0;
  const posts = receiver.requests.filter((r) => r.method === "POST");
  for (const post of posts) {
    const decoded = decodeOtlpMetrics(post.body, { gzip: post.headers["content-encoding"] === "gzip" });
    for (const rm of decoded.resourceMetrics) {
      for (const sm of rm.scopeMetrics) {
        for (const m of sm.metrics) points += (m.sum ?? m.gauge ?? m.summary)?.dataPoints.length ?? 0;
      }
    }
  }
  res.writeHead(200, { "content-type": "application/json" }).end(
    JSON.stringify({ points, requests: posts.length }),
  );
};
process.on("SIGTERM", () => {
  void receiver.close().then(() => process.exit(0));
});
console.log(`port ${new URL(receiver.url).port}`);
