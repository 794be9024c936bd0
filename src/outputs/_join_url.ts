/**
 * Builds a receiver's endpoint from the base URL a user configures, as the OpenTelemetry exporters do with
 * `OTEL_EXPORTER_OTLP_ENDPOINT` and the Influx clients with their server URL: the base's path with a path
 * appended, its query kept, and query parameters added.
 *
 * @module
 */

/**
 * Appends a path (and query parameters) to a base URL: `http://host:4318` + `v1/metrics` →
 * `http://host:4318/v1/metrics`; `http://gw/otlp/?tenant=a` + `v1/logs` → `http://gw/otlp/v1/logs?tenant=a`.
 *
 * @param base The base URL.
 * @param path The path to append, without a leading slash.
 * @param params Query parameters to set; those whose value is `""` are left out.
 * @returns The URL.
 * @throws {TypeError} When `base` is not a URL.
 */
export function joinUrl(base: string, path: string, params: Readonly<Record<string, string>> = {}): string {
  const url = new URL(base);
  url.pathname = `${url.pathname.replace(/\/+$/, "")}/${path}`;
  for (const [name, value] of Object.entries(params)) {
    if (value !== "") url.searchParams.set(name, value);
  }
  return url.href;
}
