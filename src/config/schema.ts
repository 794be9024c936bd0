/**
 * The config schema: the global tables (`agent`, `aggregation`, `http`, `store`) plus an `inputs` and an
 * `outputs` table whose entries are variants on `type`, assembled from the input and output registries.
 * Every table is strict, so a misspelt key is an error rather than a silently ignored setting.
 *
 * Messages are expectations (see `fields.ts`); the loader renders them as `expected …, found …`.
 *
 * @module
 */

import { availableParallelism } from "node:os";
import * as v from "valibot";
import { DEFAULTS } from "./defaults.ts";
import type { ConfigurablePlugin, InputRegistry, NoOutputs, OutputRegistry } from "./configurable_plugin.ts";
import { duration, hostPort, size } from "./fields.ts";

/** The validated config of one input: the plugin's config plus its `type`. */
export type InputConfigOf<P extends InputRegistry> = {
  [K in keyof P & string]: { readonly type: K } & v.InferOutput<P[K]["schema"]>;
}[keyof P & string];

/** The validated config of one output: the plugin's config plus its `type`. */
export type OutputConfigOf<O extends OutputRegistry> = InputConfigOf<O>;

/** The resolved config for the registries: durations in milliseconds, sizes in bytes. */
export type ConfigOf<P extends InputRegistry, O extends OutputRegistry = NoOutputs> = v.InferOutput<
  ReturnType<typeof configSchema<P, O>>
>;

const KIB = 1024;
const MIB = 1024 * KIB;
const GIB = 1024 * MIB;
const COMPONENT_ID_REGEXP = /^[A-Za-z0-9_-]+$/;
const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;

const AGENT = v.strictObject({
  data_dir: v.optional(
    v.pipe(
      v.string("a directory path"),
      v.nonEmpty("a non-empty directory path"),
      v.description("Where the store lives. A relative path resolves against the working directory."),
    ),
    DEFAULTS.agent.data_dir,
  ),
  flush_interval: v.optional(
    v.pipe(
      duration({ min: 100, max: 86_400_000 }),
      v.description(
        "The aggregation window; flushes align to wall-clock multiples of it. Windows that close while a " +
          "slow flush runs are stored with the next flush, folded into one point per series spanning them " +
          "when apart they would pass aggregation.max_series rows.",
      ),
    ),
    DEFAULTS.agent.flush_interval,
  ),
  workers: v.optional(
    v.pipe(
      workerCount(),
      v.description(
        'Parser/aggregator threads; "auto" is one per core minus one (at least 1), 0 parses inline.',
      ),
    ),
    DEFAULTS.agent.workers,
  ),
  log_level: v.optional(
    v.pipe(
      v.picklist(LOG_LEVELS, 'one of "debug", "info", "warn" or "error"'),
      v.description('The least severe log level written: "debug", "info", "warn" or "error".'),
    ),
    DEFAULTS.agent.log_level,
  ),
  ring_size: v.optional(
    v.pipe(
      size({ min: 128 * KIB, max: GIB }),
      v.description("The size of each worker's ring buffer (it must hold at least one 64 KiB datagram)."),
    ),
    DEFAULTS.agent.ring_size,
  ),
  when_full: v.optional(
    v.pipe(
      v.picklist(["drop"], '"drop" (the only policy so far)'),
      v.description('What happens to a frame when its ring is full: "drop" drops it and counts the drop.'),
    ),
    DEFAULTS.agent.when_full,
  ),
}, "a table");

const AGGREGATION = v.strictObject({
  percentiles: v.optional(
    v.pipe(
      v.array(
        v.pipe(
          v.number("a percentile from 0 to 100"),
          v.minValue(0, "a percentile from 0 to 100"),
          v.maxValue(100, "a percentile from 0 to 100"),
        ),
        "an array of percentiles like [50, 90, 99]",
      ),
      v.transform(function sortUnique(ps: number[]): number[] {
        return [...new Set(ps)].sort((a, b) => a - b);
      }),
      v.description("The percentiles reported for timers, histograms and distributions."),
    ),
    [...DEFAULTS.aggregation.percentiles],
  ),
  exact_limit: v.optional(
    v.pipe(
      integer(1, 65_536),
      v.description("Observations kept exactly per series and window before switching to the sketch."),
    ),
    DEFAULTS.aggregation.exact_limit,
  ),
  max_series: v.optional(
    v.pipe(
      integer(1, 100_000_000),
      v.description("The cap on live series; new series past it are rejected and counted."),
    ),
    DEFAULTS.aggregation.max_series,
  ),
  series_idle: v.optional(
    v.pipe(
      duration({ min: 1000 }),
      v.description(
        "How long a series may go without samples before it leaves /metrics; a counter that comes back " +
          "continues its total.",
      ),
    ),
    DEFAULTS.aggregation.series_idle,
  ),
}, "a table");

const HTTP = v.strictObject({
  listen: v.optional(
    v.pipe(
      hostPort(),
      v.description("The address to serve on, as HOST:PORT (IPv6 in brackets: [::1]:8127)."),
    ),
    DEFAULTS.http.listen,
  ),
  token: v.optional(
    v.pipe(
      v.string("a string"),
      v.description("A bearer token; required to listen on a non-loopback address unless insecure = true."),
    ),
    DEFAULTS.http.token,
  ),
  insecure: v.optional(
    v.pipe(
      v.boolean("true or false"),
      v.description(
        "Allows a non-loopback listen address without a token: anyone who can reach it may push.",
      ),
    ),
    DEFAULTS.http.insecure,
  ),
  max_body: v.optional(
    v.pipe(
      size({ min: KIB, max: GIB }),
      v.description("The largest request body accepted."),
    ),
    DEFAULTS.http.max_body,
  ),
}, "a table");

const STORE = v.strictObject({
  retention: v.optional(
    v.pipe(
      duration({ min: 60_000 }),
      v.description("How long stored points are kept, and events after they end."),
    ),
    DEFAULTS.store.retention,
  ),
  max_size: v.optional(
    v.pipe(
      size({ min: MIB }),
      v.description("The cap on the store's size on disk; the oldest points go first."),
    ),
    DEFAULTS.store.max_size,
  ),
}, "a table");

const NO_OUTPUTS: NoOutputs = {};
const cache = new WeakMap<InputRegistry, WeakMap<OutputRegistry, unknown>>();

/**
 * Builds the root config schema for a registry of input plugins and one of output plugins.
 *
 * Each plugin's schema must be an object schema (optionally piped); it becomes a strict object with a
 * `type` literal equal to the registry key, so adding a plugin is one line in its registry.
 *
 * @param plugins The input registry, e.g. `{ statsd }`.
 * @param outputs The output registry, e.g. `{ remote_write }`; none by default.
 * @returns The root schema, from the parsed TOML document to the resolved config.
 * @throws {TypeError} When a registry key differs from its plugin's `type`, or a plugin's schema is not
 *   an object schema (a programming error, caught by the tests).
 */
export function configSchema<P extends InputRegistry, O extends OutputRegistry = NoOutputs>(
  plugins: P,
  outputs: O = NO_OUTPUTS as O,
) {
  let byOutputs = cache.get(plugins);
  if (byOutputs === undefined) {
    byOutputs = new WeakMap();
    cache.set(plugins, byOutputs);
  }
  const cached = byOutputs.get(outputs) as ReturnType<typeof buildRoot<P, O>> | undefined;
  if (cached !== undefined) return cached;
  const root = buildRoot(plugins, outputs);
  byOutputs.set(outputs, root);
  return root;
}

/** The `type` variant of one registry: each plugin's table with its `type` literal. */
function variantOf<R extends InputRegistry>(registry: R, role: "input" | "output") {
  const types = Object.keys(registry);
  const typeExpected = types.length === 0
    ? `no ${role} type (none are registered)`
    : types.length === 1
    ? listOf(types)
    : `one of ${listOf(types)}`;
  const options = Object.entries(registry).map(([key, plugin]) =>
    pluginOption(key, plugin, typeExpected, role)
  );
  return v.variant("type", options, typeExpected) as unknown as v.GenericSchema<unknown, InputConfigOf<R>>;
}

function buildRoot<P extends InputRegistry, O extends OutputRegistry>(plugins: P, outputs: O) {
  const inputs = variantOf(plugins, "input");
  const outputVariant = variantOf(outputs, "output");
  return v.strictObject({
    agent: v.optional(v.pipe(AGENT, v.description("The collector itself.")), {}),
    aggregation: v.optional(
      v.pipe(AGGREGATION, v.description("How samples become points at each flush.")),
      {},
    ),
    http: v.optional(
      v.pipe(
        HTTP,
        v.description("The HTTP endpoint: /metrics, /healthz, /readyz, the query API and HTTP push."),
      ),
      {},
    ),
    store: v.optional(v.pipe(STORE, v.description("The local store (SQLite) under the data directory.")), {}),
    inputs: v.optional(
      v.pipe(
        v.record(
          v.pipe(
            v.string(),
            v.regex(COMPONENT_ID_REGEXP, 'an input id made of letters, digits, "_" and "-"'),
          ),
          inputs,
          'a table of inputs like [inputs.statsd] with type = "statsd"',
        ),
        v.description("The inputs, keyed by component id; `type` selects the plugin."),
      ),
      {},
    ),
    outputs: v.optional(
      v.pipe(
        v.record(
          v.pipe(
            v.string(),
            v.regex(COMPONENT_ID_REGEXP, 'an output id made of letters, digits, "_" and "-"'),
          ),
          outputVariant,
          'a table of outputs like [outputs.remote_write] with type = "remote_write"',
        ),
        v.description("The outputs (forwarders), keyed by component id; `type` selects the plugin."),
      ),
      {},
    ),
  }, "a table");
}

/** The keys every object-like valibot schema has; plugin schemas are checked against it at build. */
interface ObjectLike {
  readonly type: string;
  readonly entries: v.ObjectEntries;
  readonly pipe?: readonly [unknown, ...v.PipeItem<unknown, unknown, v.BaseIssue<unknown>>[]];
}

function pluginOption(
  key: string,
  plugin: ConfigurablePlugin,
  typeExpected: string,
  role: "input" | "output",
) {
  const Role = role === "input" ? "Input" : "Output";
  if (key !== plugin.type) {
    throw new TypeError(`${Role} registry key "${key}" differs from its plugin type "${plugin.type}"`);
  }
  const schema = plugin.schema as unknown as Partial<ObjectLike>;
  if (
    schema.entries === undefined || !["object", "strict_object", "loose_object"].includes(schema.type ?? "")
  ) {
    throw new TypeError(
      `${Role} plugin "${plugin.type}" has a config schema of type "${schema.type}", not an object`,
    );
  }
  const object = v.strictObject({ ...schema.entries, type: v.literal(plugin.type, typeExpected) }, "a table");
  let piped: v.GenericSchema = object;
  for (const action of pipeActions(schema)) piped = v.pipe(piped, action);
  return piped as typeof object;
}

/** The plugin's own checks and transforms, outermost last; pipe[0] is the (possibly piped) object itself. */
function pipeActions(schema: unknown): v.PipeItem<unknown, unknown, v.BaseIssue<unknown>>[] {
  const pipe = (schema as Partial<ObjectLike>).pipe;
  if (pipe === undefined) return [];
  const [inner, ...actions] = pipe;
  return [...pipeActions(inner), ...actions];
}

function workerCount() {
  const expected = '"auto" or an integer from 0 to 256';
  return v.pipe(
    v.union(
      [
        v.literal("auto"),
        v.pipe(v.number(expected), v.integer(expected), v.minValue(0, expected), v.maxValue(256, expected)),
      ],
      expected,
    ),
    v.transform(function resolveWorkers(n: number | "auto"): number {
      return n === "auto" ? Math.max(1, availableParallelism() - 1) : n;
    }),
  );
}

function integer(min: number, max: number) {
  const expected = `an integer from ${min} to ${max}`;
  return v.pipe(
    v.number(expected),
    v.integer(expected),
    v.minValue(min, expected),
    v.maxValue(max, expected),
  );
}

function listOf(values: readonly string[]): string {
  const quoted = values.map((s) => `"${s}"`);
  return quoted.length <= 1 ? quoted.join("") : `${quoted.slice(0, -1).join(", ")} or ${quoted.at(-1)}`;
}
