/**
 * What every OTLP request of an output says about its origin: the resource (`host.name`, `service.name`,
 * the user's `resource_attributes`) and the instrumentation scope (`tally` and its version), plus string
 * attribute lists, in both encodings. Encoded once per output; the hot loop copies the bytes.
 *
 * ```proto
 * message Resource             { repeated KeyValue attributes = 1; }
 * message InstrumentationScope { string name = 1; string version = 2; }
 * message KeyValue             { string key = 1; AnyValue value = 2; }
 * message AnyValue             { oneof value { string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4; … } }
 * ```
 *
 * @module
 */

import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import type { Labels } from "../../model/sample.ts";

/** The instrumentation scope's name. */
export const SCOPE_NAME = "tally";

/** One attribute as OTLP/JSON writes it. */
export interface JsonKeyValue {
  /** The key. */
  readonly key: string;
  /** The value: a string, an integer (as a decimal string, as OTLP/JSON writes int64) or a double. */
  readonly value:
    | { readonly stringValue: string }
    | { readonly intValue: string }
    | { readonly doubleValue: number };
}

/** Options of {@link resourceAttributes}. */
export interface ResourceOptions {
  /** `service.name`. */
  readonly serviceName: string;
  /** `host.name`, unless `attributes` sets it. */
  readonly hostName: string;
  /** The user's attributes; they win over `host.name` and `service.name`. */
  readonly attributes: Readonly<Record<string, string>>;
}

/**
 * The resource's attributes: `host.name`, `service.name`, then the user's in name order, a user
 * attribute replacing either of the first two.
 *
 * @param options The service name, the host name and the user's attributes.
 * @returns The attributes.
 */
export function resourceAttributes(options: ResourceOptions): Labels {
  const own = new Map<string, string>([["host.name", options.hostName], [
    "service.name",
    options.serviceName,
  ]]);
  const user = Object.entries(options.attributes).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  for (const [key, value] of user) {
    if (own.has(key)) own.set(key, value);
  }
  return [...own, ...user.filter(([key]) => key !== "host.name" && key !== "service.name")];
}

/**
 * Encodes string attributes as repeated `KeyValue` fields.
 *
 * @param field The field number of the attributes in their message (7 in data points, 1 in a Resource).
 * @param attributes The attributes.
 * @returns The fields' bytes.
 */
export function attributeFields(field: number, attributes: Labels): Uint8Array {
  const writer = new BinaryWriter();
  for (const [key, value] of attributes) {
    writer.tag(field, WireType.LengthDelimited).fork();
    writer.tag(1, WireType.LengthDelimited).string(key);
    writer.tag(2, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).string(value).join();
    writer.join();
  }
  return writer.finish();
}

/**
 * Encodes the `resource` field (number 1 of `ResourceMetrics` and `ResourceLogs`).
 *
 * @param attributes The resource's attributes.
 * @returns The field's bytes.
 */
export function resourceField(attributes: Labels): Uint8Array {
  const resource = attributeFields(1, attributes);
  return new BinaryWriter().tag(1, WireType.LengthDelimited).bytes(resource).finish();
}

/**
 * Encodes the `scope` field (number 1 of `ScopeMetrics` and `ScopeLogs`).
 *
 * @param version tally's version.
 * @returns The field's bytes.
 */
export function scopeField(version: string): Uint8Array {
  return new BinaryWriter()
    .tag(1, WireType.LengthDelimited)
    .fork()
    .tag(1, WireType.LengthDelimited)
    .string(SCOPE_NAME)
    .tag(2, WireType.LengthDelimited)
    .string(version)
    .join()
    .finish();
}

/**
 * String attributes as OTLP/JSON writes them.
 *
 * @param attributes The attributes.
 * @returns The JSON values.
 */
export function jsonAttributes(attributes: Labels): JsonKeyValue[] {
  return attributes.map(([key, value]) => ({ key, value: { stringValue: value } }));
}
