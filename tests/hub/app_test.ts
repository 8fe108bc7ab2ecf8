import assert from "node:assert/strict";
import { createTestHub } from "../_helpers/test_hub.ts";
import { refuseOversizedBody } from "../../hub/app.ts";
import { buildParts } from "../../hub/mod.ts";
import { resolveConfig } from "../../hub/config/mod.ts";
import { migrateToLatest, openDatabase } from "../../hub/db/mod.ts";
import { createAuthenticator } from "../../hub/auth/mod.ts";
import type { Logger } from "../../hub/observe/log.ts";
import { assertRedirect, assertStatus } from "../_helpers/responses.ts";

/** A logger that keeps what it is given. */
function recordingLogger() {
  const lines: Array<{ level: string; message: string; fields: unknown }> = [];
  const log = (level: string) => (message: string, fields?: unknown) => {
    lines.push({ level, message, fields });
  };
  const logger: Logger = {
    debug: log("debug"),
    info: log("info"),
    warn: log("warn"),
    error: log("error"),
  };
  return { logger, lines };
}

Deno.test("createHubApp() sets the version and security headers on API responses", async () => {
  await using hub = await createTestHub();
  const res = await hub.request("/hub/api/");
  await res.body?.cancel();
  assert.equal(res.headers.get("x-jupyterhub-version"), "5.3.0");
  assert.equal(res.headers.get("x-content-type-options"), "nosniff");
  assert.equal(res.headers.get("referrer-policy"), "same-origin");
  assert.equal(res.headers.get("cache-control"), "no-store");
  assert.equal(
    res.headers.get("content-security-policy"),
    "frame-ancestors 'none'; default-src 'none'",
  );
});

Deno.test("createHubApp() gives pages the page Content-Security-Policy and no API headers", async () => {
  await using hub = await createTestHub();
  const res = await hub.request("/hub/login");
  await res.body?.cancel();
  const csp = res.headers.get("content-security-policy") ?? "";
  assert.match(csp, /frame-ancestors 'none'/);
  assert.match(csp, /default-src 'self'/);
  assert.equal(res.headers.get("access-control-allow-headers"), null);
  assert.equal(res.headers.get("x-jupyterhub-version"), "5.3.0");
});

Deno.test("createHubApp() answers unknown pages with an HTML 404 and unknown API paths with JSON", async () => {
  await using hub = await createTestHub();
  const page = await hub.request("/hub/nowhere");
  assert.equal(page.status, 404);
  assert.match(page.headers.get("content-type") ?? "", /^text\/html/);
  assert.match(await page.text(), /404/);
  const api = await hub.request("/hub/api/nowhere");
  assert.equal(api.status, 404);
  assert.match(api.headers.get("content-type") ?? "", /^application\/json/);
  assert.equal((await api.json()).status, 404);
});

Deno.test("createHubApp() answers malformed percent-encoding with 400 on pages too", async () => {
  await using hub = await createTestHub();
  const res = await hub.request("/hub/%E0%A4%A");
  assert.equal(res.status, 400);
  assert.match(res.headers.get("content-type") ?? "", /^text\/html/);
  assert.match(await res.text(), /Malformed percent-encoding/);
});

Deno.test("createHubApp() turns an unexpected error into a bare 500 and logs the detail", async () => {
  const config = resolveConfig({ file: { auth: { type: "dummy" } } });
  const handle = openDatabase(":memory:");
  try {
    await migrateToLatest(handle);
    const { logger, lines } = recordingLogger();
    const { app: hub, events, proxy } = await buildParts({
      config,
      db: handle.db,
      authenticator: createAuthenticator(config),
      logger,
      cookieSecret: new Uint8Array(32).fill(1),
    });
    await using _closed = {
      [Symbol.asyncDispose]: async () => {
        proxy?.close();
        await events.close();
      },
    };
    // A broken database: the token lookup itself fails.
    await handle.db.schema.dropTable("api_tokens").execute();
    const boom = await hub.fetch(
      new Request("http://127.0.0.1:8000/hub/api/users", {
        headers: { authorization: "token " + "x".repeat(43) },
      }),
    );
    assert.equal(boom.status, 500);
    const body = await boom.json();
    assert.deepEqual(body, { status: 500, message: "Internal Server Error" });
    assert.equal(boom.headers.get("x-jupyterhub-version"), "5.3.0");
    const logged = lines.find((l) => l.level === "error");
    assert.ok(logged, "the error was not logged");
    assert.match(JSON.stringify(logged.fields), /api_tokens/);
  } finally {
    await handle.close();
  }
});

Deno.test("createHubApp() redirects the hub roots to the home page", async (t) => {
  await using hub = await createTestHub();
  const rows: Array<[string, string]> = [
    ["/", "/hub/"],
    ["/hub", "/hub/home"],
    ["/hub/", "/hub/home"],
  ];
  for (const [path, location] of rows) {
    await t.step(path, async () => {
      await assertRedirect(await hub.request(path), location);
    });
  }
});

Deno.test("createHubApp() mounts everything under base_url", async (t) => {
  await using hub = await createTestHub({ "base_url": "/jh/" });
  await t.step("API root", async () => {
    const res = await hub.request("/jh/hub/api");
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { version: "5.3.0" });
  });
  await t.step("API 404 is JSON", async () => {
    const res = await hub.request("/jh/hub/api/nope");
    assert.equal(res.status, 404);
    assert.equal((await res.json()).status, 404);
  });
  await t.step("health", async () => {
    await assertStatus(await hub.request("/jh/hub/health"), 200);
  });
  await t.step("the old prefix is not served", async () => {
    await assertStatus(await hub.request("/hub/api"), 404);
  });
  await t.step("base_url without its slash redirects", async () => {
    await assertRedirect(await hub.request("/jh"), "/jh/hub/");
  });
});

Deno.test("createHubApp() fetch() serves requests like app.request()", async () => {
  await using hub = await createTestHub();
  const res = await hub.fetch(
    new Request("http://127.0.0.1:8000/hub/api/"),
    {
      remoteAddr: { transport: "tcp", hostname: "127.0.0.1", port: 50000 },
      completed: Promise.resolve(),
    },
  );
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { version: "5.3.0" });
});

Deno.test("GET /hub/logo serves the logo single-user servers link to", async () => {
  await using hub = await createTestHub();
  const res = await hub.request("/hub/logo");
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "image/svg+xml");
  assert.match(await res.text(), /^<svg /);
});

Deno.test("refuseOversizedBody(): a declared body over the path's limit gets the hub's 413 from the proxy; others pass", () => {
  const config = resolveConfig({
    file: {
      "base_url": "/jh/",
      api: { "max_body_size": 2048 },
      http: { "max_form_size": 1024 },
    },
  });
  const refuse = refuseOversizedBody(config);
  const hub = { data: { hub: true } };
  const at = (path: string, contentLength: number | null) =>
    refuse({ path, contentLength }, hub);
  const api = at("/jh/hub/api/users", 2049)!;
  assert.equal(api.status, 413);
  assert.equal(api.contentType, "application/json");
  assert.deepEqual(JSON.parse(api.body), {
    status: 413,
    message: "Request body is larger than 2048 bytes: send a smaller body",
  });
  const form = at("/jh/hub/login", 1025)!;
  assert.equal(form.status, 413);
  assert.match(form.contentType, /^text\/html/);
  assert.match(form.body, /larger than 1024 bytes/);
  // The OAuth endpoints take forms: the form limit.
  assert.equal(at("/jh/hub/api/oauth2/token", 1025)?.status, 413);
  assert.equal(at("/jh/hub/api/users", 2048), null);
  assert.equal(at("/jh/hub/api/users", null), null, "chunked: the hub counts");
  assert.equal(
    refuse({ path: "/jh/user/a/api/contents", contentLength: 1e9 }, {
      data: { user: "a" },
    }),
    null,
    "a user's server sets its own limits",
  );
});
