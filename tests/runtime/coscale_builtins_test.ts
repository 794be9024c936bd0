/**
 * What the coscale_api input relies on, under both runtimes: `randomUUID` from `node:crypto` for session
 * tokens, `Buffer` from `node:buffer` decoding `cdata`'s base64, the HTTP app's bounded gunzip over a
 * `Response` body, and `URLSearchParams` decoding a form as Go's `url.Values.Encode()` writes it.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { randomUUID } from "node:crypto";
import { gzipSync } from "node:zlib";
import { gunzipLimited } from "../../src/internal/http_app.ts";

describe("coscale_api builtins", () => {
  it("randomUUID() gives distinct version-4 UUIDs", () => {
    const a = randomUUID();
    assert.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.notEqual(a, randomUUID());
  });

  it("Buffer decodes base64 of gzip, and gunzipLimited() inflates it from a Response body within a bound", async () => {
    const json = '[{"m":1, "s":"A", "d":[[0,1.5]]}]';
    const cdata = Buffer.from(gzipSync(json)).toString("base64");
    const zipped = Buffer.from(cdata, "base64");
    const inflated = await gunzipLimited(new Response(zipped).body!, 1024);
    assert.equal(inflated.kind, "ok");
    assert.equal(inflated.kind === "ok" ? new TextDecoder().decode(inflated.bytes) : "", json);
    const bomb = await gunzipLimited(new Response(gzipSync(" ".repeat(1 << 20))).body!, 1024);
    assert.equal(bomb.kind, "too_large");
  });

  it("URLSearchParams decodes a form as Go encodes it: + as a space, percent escapes", () => {
    const form = new URLSearchParams("dataType=DOUBLE&name=queue+depth&cdata=ab%2Bc%2F%3D%3D");
    assert.equal(form.get("name"), "queue depth");
    assert.equal(form.get("cdata"), "ab+c/==");
  });
});
