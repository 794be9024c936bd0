import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { createLogger } from "./log.ts";
import { createHttpApp, DEFAULT_BODY_LIMIT_BYTES } from "./http_app.ts";

function echoRoutes(): Hono {
  const app = new Hono();
  app.post("/echo", async (c) => c.text(String((await c.req.arrayBuffer()).byteLength)));
  app.get("/boom", () => {
    throw new Error("secret detail at /etc/shadow");
  });
  app.get("/teapot", () => {
    throw new HTTPException(418, { message: "Short and stout" });
  });
  return app;
}

function otherRoutes(): Hono {
  const app = new Hono();
  app.get("/other", (c) => c.text("other"));
  return app;
}

describe("createHttpApp()", () => {
  it("createHttpApp() mounts every route set at /", async () => {
    const app = createHttpApp({ routes: [echoRoutes(), otherRoutes()], ready: () => true });
    assert.equal(await (await app.request("/echo", { method: "POST", body: "abc" })).text(), "3");
    assert.equal(await (await app.request("/other")).text(), "other");
  });

  it("createHttpApp() requires the bearer token on every route but the probes", async () => {
    const app = createHttpApp({ routes: [otherRoutes()], ready: () => true, token: "s3cret" });
    assert.equal((await app.request("/other")).status, 401);
    assert.equal((await app.request("/other", { headers: { authorization: "Bearer wrong" } })).status, 401);
    const ok = await app.request("/other", { headers: { authorization: "Bearer s3cret" } });
    assert.equal(ok.status, 200);
    assert.equal(await ok.text(), "other");
    assert.equal((await app.request("/healthz")).status, 200);
    assert.equal((await app.request("/readyz")).status, 200);
  });

  it("createHttpApp() asks for no token when the token is empty", async () => {
    const app = createHttpApp({ routes: [otherRoutes()], ready: () => true, token: "" });
    assert.equal((await app.request("/other")).status, 200);
  });

  it("createHttpApp() answers /healthz with 200 ok", async () => {
    const res = await createHttpApp({ routes: [], ready: () => false }).request("/healthz");
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "ok");
  });

  it("createHttpApp() answers /readyz with 503 until ready", async () => {
    let ready = false;
    const app = createHttpApp({ routes: [], ready: () => ready });
    assert.equal((await app.request("/readyz")).status, 503);
    ready = true;
    const res = await app.request("/readyz");
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "ready");
  });

  it("createHttpApp() answers /readyz with 503 and the problems while there are any", async () => {
    let problems: string[] = ['output remote_write "vm" has not delivered for 301 s'];
    const app = createHttpApp({ routes: [], ready: () => true, problems: () => problems });
    const res = await app.request("/readyz");
    assert.equal(res.status, 503);
    assert.equal(await res.text(), 'not ready\noutput remote_write "vm" has not delivered for 301 s\n');
    problems = [];
    assert.equal((await app.request("/readyz")).status, 200);
  });

  it("createHttpApp() rejects bodies over the limit with a JSON 413", async () => {
    const app = createHttpApp({ routes: [echoRoutes()], ready: () => true, bodyLimitBytes: 10 });
    const ok = await app.request("/echo", { method: "POST", body: "0123456789" });
    assert.equal(await ok.text(), "10");
    const res = await app.request("/echo", { method: "POST", body: "0123456789a" });
    assert.equal(res.status, 413);
    assert.deepEqual(await res.json(), { error: "Request body is larger than the limit of 10 bytes" });
  });

  it("createHttpApp() applies a 1 MiB body limit by default", async () => {
    const app = createHttpApp({ routes: [echoRoutes()], ready: () => true });
    const fits = await app.request("/echo", {
      method: "POST",
      body: new Uint8Array(DEFAULT_BODY_LIMIT_BYTES),
    });
    assert.equal(await fits.text(), String(1024 * 1024));
    const over = await app.request("/echo", {
      method: "POST",
      body: new Uint8Array(DEFAULT_BODY_LIMIT_BYTES + 1),
    });
    assert.equal(over.status, 413);
  });

  it("createHttpApp() answers unknown paths with a JSON 404", async () => {
    const res = await createHttpApp({ routes: [], ready: () => true }).request("/nope");
    assert.equal(res.status, 404);
    assert.deepEqual(await res.json(), { error: 'No route for GET "/nope"' });
  });

  it("createHttpApp() turns a throwing handler into a JSON 500 without details and logs it", async () => {
    const lines: string[] = [];
    const log = createLogger({}, { write: (line) => lines.push(line), now: () => 0 });
    const app = createHttpApp({ routes: [echoRoutes()], ready: () => true, log });
    const res = await app.request("/boom");
    assert.equal(res.status, 500);
    const body = await res.text();
    assert.deepEqual(JSON.parse(body), { error: "Internal server error" });
    assert.doesNotMatch(body, /secret|shadow|at /);
    assert.equal(lines.length, 1);
    assert.match(
      lines[0]!,
      /level=error msg="HTTP handler failed" method=GET path=\/boom error="Error: secret detail/,
    );
  });

  it("createHttpApp() keeps the response of an HTTPException", async () => {
    const res = await createHttpApp({ routes: [echoRoutes()], ready: () => true }).request("/teapot");
    assert.equal(res.status, 418);
    assert.equal(await res.text(), "Short and stout");
  });
});
