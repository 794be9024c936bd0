/**
 * Structured logger: one logfmt line per record on stderr, a level, and fields.
 *
 * No per-event logging anywhere: drops and bad lines are counted in self-metrics and, at most, reported
 * through {@link Logger.every} which rate-limits by key.
 *
 * @module
 */

/** Log levels, least to most severe. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** Structured fields attached to a record. */
export type LogFields = Readonly<Record<string, string | number | boolean | undefined>>;

/** A structured logger bound to a set of fields. */
export interface Logger {
  /** Logs at debug level. */
  debug(msg: string, fields?: LogFields): void;
  /** Logs at info level. */
  info(msg: string, fields?: LogFields): void;
  /** Logs at warn level. */
  warn(msg: string, fields?: LogFields): void;
  /** Logs at error level. */
  error(msg: string, fields?: LogFields): void;
  /**
   * Logs a warning at most once per `intervalMs` for `key`; the record carries how many were suppressed.
   */
  every(key: string, intervalMs: number, msg: string, fields?: LogFields): void;
  /** Returns a logger that adds `fields` to every record. */
  child(fields: LogFields): Logger;
}

/** Options for {@link createLogger}. */
export interface LoggerOptions {
  /** The minimum level written. */
  readonly level?: LogLevel;
  /** The sink for finished lines; stderr by default. */
  readonly write?: (line: string) => void;
  /** The clock, for tests. */
  readonly now?: () => number;
}

const LEVELS: Readonly<Record<LogLevel, number>> = { debug: 10, info: 20, warn: 30, error: 40 };
const BARE_VALUE_REGEXP = /^[A-Za-z0-9_.:/@+-]+$/;

/**
 * Creates a logfmt logger: `ts=… level=warn msg="Ring full" component_type=statsd`.
 *
 * @param fields Fields attached to every record.
 * @param options Level, sink and clock.
 * @returns The logger.
 */
export function createLogger(fields: LogFields = {}, options: LoggerOptions = {}): Logger {
  const min = LEVELS[options.level ?? "info"];
  const write = options.write ?? ((line: string) => process.stderr.write(line + "\n"));
  const now = options.now ?? Date.now;
  const limits = new Map<string, { last: number; suppressed: number }>();
  return makeLogger(fields);

  function makeLogger(bound: LogFields): Logger {
    function emit(level: LogLevel, msg: string, extra?: LogFields): void {
      if (LEVELS[level] < min) return;
      let line = `ts=${new Date(now()).toISOString()} level=${level} msg=${quote(msg)}`;
      line += render(bound) + render(extra);
      write(line);
    }
    return {
      debug: (msg, f) => emit("debug", msg, f),
      info: (msg, f) => emit("info", msg, f),
      warn: (msg, f) => emit("warn", msg, f),
      error: (msg, f) => emit("error", msg, f),
      every(key, intervalMs, msg, f) {
        const t = now();
        const seen = limits.get(key);
        if (seen !== undefined && t - seen.last < intervalMs) {
          seen.suppressed++;
          return;
        }
        const suppressed = seen?.suppressed ?? 0;
        limits.set(key, { last: t, suppressed: 0 });
        emit("warn", msg, suppressed > 0 ? { ...f, suppressed } : f);
      },
      child: (more) => makeLogger({ ...bound, ...more }),
    };
  }
}

function render(fields: LogFields | undefined): string {
  if (fields === undefined) return "";
  let out = "";
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    out += ` ${k}=${typeof v === "string" ? quote(v) : String(v)}`;
  }
  return out;
}

function quote(value: string): string {
  return BARE_VALUE_REGEXP.test(value) ? value : JSON.stringify(value);
}
