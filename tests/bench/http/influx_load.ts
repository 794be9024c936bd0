/**
 * The Influx load of the HTTP benchmark: batches of line protocol built once, then posted by a few
 * concurrent loops (keep-alive `fetch`) for a fixed time, every response counted by status.
 *
 * @module
 */

/** What one load run did. */
export interface InfluxLoadResult {
  /** Requests answered 2xx. */
  readonly accepted: number;
  /** Requests answered otherwise, by status (0 for a network error). */
  readonly refused: Readonly<Record<string, number>>;
  /** Lines in the 2xx requests. */
  readonly lines: number;
  /** How long the load ran, seconds. */
  readonly seconds: number;
  /** Response times of the 2xx requests, ms, sorted. */
  readonly latenciesMs: readonly number[];
}

/**
 * Builds `count` batches of `lines` lines each: `bench_cpu,host=h<N>,region=r<N%8>` with three fields (a
 * float, an integer and a boolean) and a nanosecond timestamp of now, over `series` hosts.
 *
 * @param count How many distinct batches.
 * @param lines Lines per batch.
 * @param series Distinct hosts.
 * @returns The batches, UTF-8.
 */
export function influxBatches(count: number, lines: number, series: number): Uint8Array<ArrayBuffer>[] {
  const encoder = new TextEncoder();
  const batches: Uint8Array<ArrayBuffer>[] = [];
  const ns = BigInt(Date.now()) * 1_000_000n;
  let n = 0;
  for (let b = 0; b < count; b++) {
    let text = "";
    for (let i = 0; i < lines; i++, n++) {
      const host = n % series;
      text += `bench_cpu,host=h${host},region=r${host % 8} usage=${(n % 1000) / 10},procs=${
        n % 300
      }i,up=t ${ns}\n`;
    }
    batches.push(encoder.encode(text));
  }
  return batches;
}

/**
 * Posts the batches round-robin from `connections` loops for `seconds`.
 *
 * @param url The write URL, e.g. `http://127.0.0.1:8127/write`.
 * @param batches The bodies.
 * @param options Concurrency, duration and lines per batch.
 * @returns The counts and latencies.
 */
export async function postInflux(
  url: string,
  batches: readonly Uint8Array<ArrayBuffer>[],
  options: { readonly connections: number; readonly seconds: number; readonly linesPerBatch: number },
): Promise<InfluxLoadResult> {
  const refused: Record<string, number> = {};
  const latencies: number[] = [];
  let accepted = 0;
  let next = 0;
  const started = performance.now();
  const end = started + options.seconds * 1000;
  async function loop(): Promise<void> {
    while (performance.now() < end) {
      const body = batches[next++ % batches.length]!;
      const sent = performance.now();
      let status = 0;
      try {
        const res = await fetch(url, { method: "POST", body, headers: { "content-type": "text/plain" } });
        await res.arrayBuffer();
        status = res.status;
      } catch {
        status = 0;
      }
      if (status >= 200 && status < 300) {
        accepted++;
        latencies.push(performance.now() - sent);
      } else {
        refused[String(status)] = (refused[String(status)] ?? 0) + 1;
        // A refusal (503 while the pipeline is full) is retried after a breath, as a client would.
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  }
  await Promise.all(Array.from({ length: options.connections }, () => loop()));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { accepted, refused, lines: accepted * options.linesPerBatch, seconds, latenciesMs: latencies };
}

/**
 * The value at a quantile of sorted numbers.
 *
 * @param sorted Ascending numbers.
 * @param q The quantile in [0, 1].
 * @returns The value, or NaN for no numbers.
 */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}
