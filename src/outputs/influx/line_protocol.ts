/**
 * InfluxDB line protocol escaping (https://docs.influxdata.com/influxdb/v2/reference/syntax/line-protocol/):
 * pure functions from names and values to the text of one line's parts.
 *
 * | part | escaped with a backslash | other characters |
 * |---|---|---|
 * | measurement | comma, space | newline → `\n` |
 * | tag key, tag value, field key | comma, equals sign, space | newline → `\n` |
 * | string field value (inside `"…"`) | double quote, backslash | newline → `\n`, carriage return → `\r` |
 *
 * A literal backslash in a measurement, tag or field key is written as it is when an ordinary character
 * follows it, which every reader (InfluxDB 1.x, 2, 3 and VictoriaMetrics) reads back as one backslash
 * (`C:\Temp`); it is doubled when it ends the text or precedes another backslash or a character escaped
 * there, which InfluxDB 2, 3 and VictoriaMetrics read back as one backslash. InfluxDB 1.x reads backslashes
 * literally except before a comma, space or equals sign, which they always escape: a doubled backslash inside
 * the text is kept as two, and one that ends a tag or a measurement escapes the separator after it, so the
 * line cannot parse. For the v1 API, {@link trimTrailingBackslashes} drops those first.
 *
 * Newlines end a line everywhere (VictoriaMetrics splits on them even inside quoted strings), so a newline
 * in a name or value is written as the two characters `\n`, which receivers store as they are: lossy, but
 * one point stays one line, as Telegraf writes them.
 *
 * @module
 */

const MEASUREMENT_REGEXP = /[, \n\\]/;
const KEY_REGEXP = /[,= \n\\]/;
const STRING_REGEXP = /["\\\n\r]/;

/**
 * Escapes a measurement name.
 *
 * @param name The name as received.
 * @returns The text to write.
 */
export function escapeMeasurement(name: string): string {
  return MEASUREMENT_REGEXP.test(name) ? escape(name, ", ") : name;
}

/**
 * Escapes a tag key, a tag value or a field key.
 *
 * @param text The key or value.
 * @returns The text to write.
 */
export function escapeKey(text: string): string {
  return KEY_REGEXP.test(text) ? escape(text, ",= ") : text;
}

/**
 * Quotes a string field value.
 *
 * @param value The value.
 * @returns `"…"` with `"` and `\` escaped and newlines written as `\n`.
 */
export function quoteString(value: string): string {
  if (!STRING_REGEXP.test(value)) return `"${value}"`;
  let out = '"';
  for (const ch of value) {
    out += ch === '"' ? '\\"' : ch === "\\" ? "\\\\" : ch === "\n" ? "\\n" : ch === "\r" ? "\\r" : ch;
  }
  return `${out}"`;
}

/**
 * Drops the backslashes that end a name or tag, which InfluxDB 1.x cannot parse (its parser takes a
 * backslash before the separator that follows as escaping it), unless nothing would be left.
 *
 * @param text A measurement, tag key or tag value.
 * @returns The text without trailing backslashes.
 */
export function trimTrailingBackslashes(text: string): string {
  if (!text.endsWith("\\")) return text;
  const trimmed = text.replace(/\\+$/, "");
  return trimmed === "" ? text : trimmed;
}

/**
 * Writes a number as a float field value (no `i` suffix).
 *
 * @param value A finite number.
 * @returns Its shortest round-trip text (`42`, `0.1`, `1e+21`).
 */
export function formatFloat(value: number): string {
  return String(value);
}

function escape(text: string, special: string): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === "\n") {
      out += "\\n";
    } else if (ch === "\\") {
      const next = text[i + 1];
      out += next === undefined || next === "\\" || next === "\n" || special.includes(next) ? "\\\\" : "\\";
    } else {
      out += special.includes(ch) ? `\\${ch}` : ch;
    }
  }
  return out;
}
