/**
 * tally's own metrics: counters and gauges with labels, rendered on `/metrics` next to user metrics.
 *
 * Component metrics follow Vector's component spec: `tally_component_received_events_total`,
 * `…_sent_events_total`, `…_dropped_events_total`, `…_errors_total`, each labelled with
 * `component_type` and `component_id`.
 *
 * @module
 */

import type { Labels } from "../model/sample.ts";

/** One self-metric family. */
export interface SelfFamily {
  /** The full metric name, e.g. `tally_component_received_events_total`. */
  readonly name: string;
  /** The `# HELP` text. */
  readonly help: string;
  /** Counter (monotonic) or gauge. */
  readonly type: "counter" | "gauge";
  /** The series: labels and value. */
  readonly series: ReadonlyArray<{ readonly labels: Labels; readonly value: number }>;
}

/** A counter or gauge bound to fixed labels; cheap to bump on hot paths. */
export interface SelfCell {
  /** Adds `n` (default 1). */
  add(n?: number): void;
  /** Sets the value (gauges). */
  set(value: number): void;
  /** Reads the value. */
  get(): number;
}

interface FamilyState {
  readonly help: string;
  readonly type: "counter" | "gauge";
  readonly cells: Map<string, { labels: Labels; value: number }>;
}

/** The registry of self-metrics. A resource owned by the collector; one per process. */
export class SelfStats {
  #families = new Map<string, FamilyState>();
  #collectors: Array<() => void> = [];

  /**
   * Returns the cell for `name` with `labels`, creating family and cell on first use.
   *
   * @param name The metric name.
   * @param labels The labels; sorted here.
   * @param options The help text and type of the family.
   * @returns The cell.
   */
  cell(
    name: string,
    labels: Readonly<Record<string, string>>,
    options: { readonly help: string; readonly type: "counter" | "gauge" },
  ): SelfCell {
    let family = this.#families.get(name);
    if (family === undefined) {
      family = { help: options.help, type: options.type, cells: new Map() };
      this.#families.set(name, family);
    }
    const sorted: Labels = Object.entries(labels).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const key = sorted.map(([k, v]) => `${k}=${v}`).join(",");
    let state = family.cells.get(key);
    if (state === undefined) {
      state = { labels: sorted, value: 0 };
      family.cells.set(key, state);
    }
    const s = state;
    return {
      add(n = 1) {
        s.value += n;
      },
      set(value) {
        s.value = value;
      },
      get: () => s.value,
    };
  }

  /**
   * Registers a callback run before every snapshot, for values read from elsewhere (`/proc/net/udp`,
   * live series, ring fill).
   *
   * @param collect The callback; it should `set()` cells.
   */
  onCollect(collect: () => void): void {
    this.#collectors.push(collect);
  }

  /**
   * Runs the collectors and returns every family, sorted by name.
   *
   * @returns The families.
   */
  snapshot(): SelfFamily[] {
    for (const collect of this.#collectors) collect();
    const out: SelfFamily[] = [];
    for (const [name, f] of [...this.#families].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      out.push({ name, help: f.help, type: f.type, series: [...f.cells.values()] });
    }
    return out;
  }
}

/** The uniform per-component counters (Vector's component spec). */
export interface ComponentStats {
  /** Events (lines, value lists, samples) received. */
  readonly received: SelfCell;
  /** Bytes received. */
  readonly receivedBytes: SelfCell;
  /** Events sent onward. */
  readonly sent: SelfCell;
  /** Events dropped, by reason. */
  dropped(reason: string): SelfCell;
  /** Errors, by type. */
  errors(errorType: string): SelfCell;
}

/**
 * Returns the uniform counters for one component.
 *
 * @param stats The registry.
 * @param component The component's type (plugin name) and id (config key), and optionally more labels
 *   naming one source inside it (`{ script: "lvs_check" }` for a script of a `scripts` input).
 * @returns The component's counters.
 */
export function componentStats(
  stats: SelfStats,
  component: {
    readonly type: string;
    readonly id: string;
    readonly labels?: Readonly<Record<string, string>>;
  },
): ComponentStats {
  const base = { ...component.labels, component_type: component.type, component_id: component.id };
  const counter = { type: "counter" } as const;
  return {
    received: stats.cell("tally_component_received_events_total", base, {
      ...counter,
      help: "Events received by the component (lines, value lists, samples)",
    }),
    receivedBytes: stats.cell("tally_component_received_bytes_total", base, {
      ...counter,
      help: "Bytes received by the component",
    }),
    sent: stats.cell("tally_component_sent_events_total", base, {
      ...counter,
      help: "Events sent onward by the component",
    }),
    dropped: (reason) =>
      stats.cell("tally_component_dropped_events_total", { ...base, reason }, {
        ...counter,
        help: "Events dropped by the component, by reason",
      }),
    errors: (errorType) =>
      stats.cell("tally_component_errors_total", { ...base, error_type: errorType }, {
        ...counter,
        help: "Errors in the component, by type",
      }),
  };
}
