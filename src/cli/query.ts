/**
 * `tally query NAME`: reads the local store and prints, per series, the latest value, the range's min
 * and max, and a sparkline. `tally query --events` prints the events instead, with their start and end.
 *
 * @module
 */

import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { parseTime } from "../store/_time.ts";
import { Store, STORE_FILE } from "../store/store.ts";
import type { StoredEvent } from "../store/event_table.ts";
import type { SeriesResult } from "../store/point_table.ts";
import { matchName } from "./_name_match.ts";
import type { NameMatch } from "./_name_match.ts";
import { sparkline } from "./_sparkline.ts";
import type { CliIo } from "./cli_io.ts";

const USAGE = `Usage: tally query NAME [options]
       tally query --events [options]

Prints each series named NAME from the local store: its kind, latest value, min and max over the range,
and a sparkline. Counters show the increase per flush window, summaries the median. NAME is the name as
received (api.requests) or its name on /metrics (api_requests_total).
With --events, prints the events that started in the range instead, newest first: start, end (or
"open"), duration, kind, title, labels and text.

Options:
      --events          print events instead of a series
      --since TIME      start of the range: a duration back from now (15m, 1h, 7d), epoch seconds
                        or ms, or an RFC 3339 time (default 1h)
      --until TIME      end of the range, same forms (default now)
  -l, --label K=V       only series carrying this label, repeatable
      --data-dir DIR    the collector's data directory (default ./data)
      --json            print the series as JSON instead
  -h, --help            show this help
`;

const DEFAULT_DATA_DIR = "./data";
const DEFAULT_SINCE = "1h";
const TIME_EXPECTED = 'expected a duration like "1h", epoch seconds or ms, or an RFC 3339 time';

/**
 * Runs `tally query`.
 *
 * @param args The arguments after `query`.
 * @param io Output streams and the working directory the data directory resolves against.
 * @returns The exit code: 0 when series were printed, 1 when none matched or the store cannot be read,
 *   2 on a usage error.
 */
export function query(args: readonly string[], io: CliIo): Promise<number> {
  // Async by contract (every command is); the store reads themselves are synchronous.
  return Promise.resolve(runQuery(args, io));
}

function runQuery(args: readonly string[], io: CliIo): number {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: {
        since: { type: "string", default: DEFAULT_SINCE },
        until: { type: "string" },
        label: { type: "string", short: "l", multiple: true },
        events: { type: "boolean", default: false },
        "data-dir": { type: "string", default: DEFAULT_DATA_DIR },
        json: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (error) {
    return usageError(io, error instanceof Error ? error.message : String(error));
  }
  const flags = parsed.values;
  if (flags.help) {
    io.stdout(USAGE);
    return 0;
  }
  if (flags.events && parsed.positionals.length > 0) {
    return usageError(io, `--events takes no series NAME, got ${parsed.positionals.join(" ")}`);
  }
  if (!flags.events && parsed.positionals.length === 0) return usageError(io, "Missing series NAME");
  if (parsed.positionals.length > 1) {
    return usageError(
      io,
      `Expected one series NAME, got ${parsed.positionals.length}: ${parsed.positionals.join(" ")}`,
    );
  }
  const name = parsed.positionals[0] ?? "";

  const nowMs = Date.now();
  const sinceMs = parseTime(flags.since, nowMs);
  if (sinceMs === undefined) return usageError(io, `Invalid --since "${flags.since}": ${TIME_EXPECTED}`);
  let untilMs: number | undefined;
  if (flags.until !== undefined) {
    untilMs = parseTime(flags.until, nowMs);
    if (untilMs === undefined) return usageError(io, `Invalid --until "${flags.until}": ${TIME_EXPECTED}`);
  }
  const labels: Record<string, string> = {};
  for (const pair of flags.label ?? []) {
    const eq = pair.indexOf("=");
    if (eq <= 0) return usageError(io, `Invalid --label "${pair}": expected NAME=VALUE`);
    // defineProperty, not assignment: a label named "__proto__" must stay a label.
    Object.defineProperty(labels, pair.slice(0, eq), {
      value: pair.slice(eq + 1),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }

  const dataDir = flags["data-dir"];
  // Messages show the path as the user wrote it; the store opens it resolved against the cwd.
  const shownPath = `${dataDir.replace(/\/+$/, "")}/${STORE_FILE}`;
  if (!existsSync(resolve(io.cwd, dataDir, STORE_FILE))) {
    io.stderr(`Cannot open store "${shownPath}": file not found\n`);
    return 1;
  }
  let series: SeriesResult[] = [];
  let events: StoredEvent[] = [];
  let store: Store | undefined;
  let other: NameMatch | undefined;
  try {
    store = Store.open(resolve(io.cwd, dataDir), { readOnly: true });
    const range = { sinceMs, ...(untilMs === undefined ? {} : { untilMs }) };
    if (flags.events) events = store.events(range);
    else {
      series = store.query({ name, labels, ...range });
      if (series.length === 0 && !store.names().includes(name)) {
        // Not a stored name: perhaps the /metrics spelling (deploys_total) of one.
        other = matchName(name, store.names());
        series = other.matches.flatMap((match) => store!.query({ name: match, labels, ...range }));
      }
    }
  } catch (error) {
    io.stderr(`${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  } finally {
    store?.close();
  }

  if (flags.events) {
    if (events.length === 0) {
      io.stderr(`No events since ${flags.since} in "${shownPath}"\n`);
      return 1;
    }
    io.stdout(flags.json ? JSON.stringify(events) + "\n" : renderEvents(events));
    return 0;
  }

  if (series.length === 0) {
    const filter = Object.keys(labels).length === 0 ? "" : ` with labels ${formatLabels(labels)}`;
    const shown = other === undefined || other.matches.length === 0
      ? `"${name}"`
      : `"${name}" (stored as ${other.matches.map((m) => `"${m}"`).join(", ")})`;
    const hint = other === undefined || other.similar.length === 0
      ? ""
      : `; did you mean ${other.similar.map((m) => `"${m}"`).join(", ")}?`;
    io.stderr(`No series named ${shown}${filter} since ${flags.since} in "${shownPath}"${hint}\n`);
    return 1;
  }
  if (other !== undefined) {
    const stored = [...new Set(series.map((s) => s.name))].map((m) => `"${m}"`).join(", ");
    io.stderr(`Showing ${stored}: "${name}" is its name on /metrics\n`);
  }
  if (flags.json) {
    io.stdout(JSON.stringify(series) + "\n");
    return 0;
  }
  io.stdout(renderTable(series));
  return 0;
}

/**
 * Renders one line per series: `name{labels}  kind  last=…  min=…  max=…  sparkline  (N points)`, each
 * column padded to its widest cell so the values line up.
 */
function renderTable(series: readonly SeriesResult[]): string {
  const rows = series.map(function seriesRow(s): string[] {
    const values = s.points.map((p) => p.value);
    let min = Infinity;
    let max = -Infinity;
    for (const value of values) {
      if (value < min) min = value;
      if (value > max) max = value;
    }
    return [
      s.name + formatLabels(s.labels),
      s.kind,
      `last=${formatNumber(values[values.length - 1]!)}`,
      `min=${formatNumber(min)}`,
      `max=${formatNumber(max)}`,
      sparkline(values),
      values.length === 1 ? "(1 point)" : `(${values.length} points)`,
    ];
  });
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  let out = "";
  for (const row of rows) {
    out += row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join(
      "  ",
    ) +
      "\n";
  }
  return out;
}

/**
 * Renders one line per event: start, end (`open` while it has none), duration, kind, title, labels and
 * text, the columns padded to line up.
 */
function renderEvents(events: readonly StoredEvent[]): string {
  const rows = events.map(function eventRow(e): string[] {
    return [
      new Date(e.t).toISOString(),
      e.end === null ? "open" : new Date(e.end).toISOString(),
      e.end === null ? "-" : formatDuration(e.end - e.t),
      e.kind,
      JSON.stringify(e.title),
      formatLabels(e.labels),
      e.text === "" ? "" : JSON.stringify(e.text),
    ];
  });
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join("  ").trimEnd())
    .join("\n") + "\n";
}

/** A duration as `0s`, `1m30s`, `2h5m`, `3d4h`: the two largest units. */
function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  const units: Array<[string, number]> = [["d", 86_400], ["h", 3600], ["m", 60], ["s", 1]];
  const parts: string[] = [];
  let rest = seconds;
  for (const [unit, size] of units) {
    if (rest < size && !(unit === "s" && parts.length === 0)) continue;
    parts.push(`${Math.floor(rest / size)}${unit}`);
    rest %= size;
    if (parts.length === 2) break;
  }
  return parts.join("");
}

/** Formats labels the Prometheus way: `{env="prod",host="a"}`, or nothing when there are none. */
function formatLabels(labels: Readonly<Record<string, string>>): string {
  const names = Object.keys(labels).sort();
  if (names.length === 0) return "";
  return "{" + names.map((n) => `${n}=${JSON.stringify(labels[n])}`).join(",") + "}";
}

/** Six significant digits at most, without trailing zeros: 0.1 + 0.2 prints as 0.3. */
function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  return String(Number(value.toPrecision(6)));
}

function usageError(io: CliIo, message: string): number {
  io.stderr(`tally query: ${message}\n\n${USAGE}`);
  return 2;
}
