import assert from "node:assert/strict";
import { resolveConfig } from "../../hub/config/mod.ts";
import { migrateToLatest, openDatabase } from "../../hub/db/mod.ts";
import { createAuthenticator } from "../../hub/auth/mod.ts";
import { silentLogger } from "../../hub/observe/log.ts";
import { startHub } from "../../hub/mod.ts";
import { startEchoUpstream } from "../_helpers/echo_upstream.ts";
import { makeTestCertificate } from "../_helpers/tls.ts";

async function hubWith(dir: string, file: Record<string, unknown> = {}) {
  const config = resolveConfig({
    file: {
      data_dir: dir,
      auth: { type: "dummy" },
      http: { ip: "127.0.0.1", port: 0 },
      hub: { port: 0 },
      ...file,
    },
  });
  const handle = openDatabase(config.dbPath);
  await migrateToLatest(handle);
  const running = await startHub({
    config,
    db: handle.db,
    authenticator: createAuthenticator(config),
    logger: silentLogger,
    cookieSecret: new Uint8Array(32).fill(1),
  });
  return {
    running,
    async [Symbol.asyncDispose]() {
      await running.stop();
      await handle.close();
    },
  };
}

Deno.test("startHub() serves the hub through the proxy and routes /user/<name>/ to its target", async () => {
  const dir = await Deno.makeTempDir({ prefix: "onehub-runtime-" });
  try {
    await using up = await startEchoUpstream();
    await using hub = await hubWith(dir);
    const { publicUrl, routes } = hub.running;
    const api = await fetch(`${publicUrl}hub/api`);
    assert.equal(api.status, 200);
    assert.equal(api.headers.get("x-jupyterhub-version"), "5.3.0");
    await api.body?.cancel();
    await routes.add("/user/alice", up.origin, {
      user: "alice",
      "server_name": "",
    });
    const res = await fetch(`${publicUrl}user/alice/lab?x=1`);
    assert.equal(res.status, 200);
    const seen = await res.json();
    assert.equal(seen.url, "/user/alice/lab?x=1");
    assert.equal(
      new Map(seen.headers as Array<[string, string]>).get("host"),
      new URL(publicUrl).host,
    );
    // Unrouted user paths fall to the hub (which will later offer to start the server).
    const other = await fetch(`${publicUrl}user/bob/`);
    assert.equal(other.headers.get("x-jupyterhub-version"), "5.3.0");
    await other.body?.cancel();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("startHub() restores the routes it added after a restart", async () => {
  const dir = await Deno.makeTempDir({ prefix: "onehub-runtime-" });
  try {
    await using up = await startEchoUpstream();
    {
      await using hub = await hubWith(dir);
      await hub.running.routes.add("/user/alice", up.origin, {
        user: "alice",
        "server_name": "",
      });
    }
    await using again = await hubWith(dir);
    const res = await fetch(`${again.running.publicUrl}user/alice/api/status`);
    assert.equal(res.status, 200);
    assert.equal((await res.json()).url, "/user/alice/api/status");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("startHub() answers 503 with the hub's error page when a routed server is down", async () => {
  const dir = await Deno.makeTempDir({ prefix: "onehub-runtime-" });
  try {
    await using hub = await hubWith(dir);
    const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (closed.addr as Deno.NetAddr).port;
    closed.close();
    await hub.running.routes.add("/user/alice", `http://127.0.0.1:${port}`, {
      user: "alice",
    });
    const res = await fetch(`${hub.running.publicUrl}user/alice/tree`);
    assert.equal(res.status, 503);
    assert.match(
      await res.text(),
      /This server is not running or not answering/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("startHub() serves HTTPS from the configured certificate and redirects plain HTTP", async () => {
  const dir = await Deno.makeTempDir({ prefix: "onehub-tls-" });
  try {
    const tls = await makeTestCertificate(dir);
    const redirect = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const httpPort = (redirect.addr as Deno.NetAddr).port;
    redirect.close();
    await using hub = await hubWith(dir, {
      http: { ip: "127.0.0.1", port: httpPort },
      https: {
        enabled: true,
        port: 0,
        tls: { cert: tls.certPath, key: tls.keyPath },
        hsts: true,
        "hsts_max_age": 600,
      },
    });
    const client = Deno.createHttpClient({ caCerts: [tls.caPem] });
    try {
      assert.match(hub.running.publicUrl, /^https:\/\/127\.0\.0\.1:\d+\/$/);
      const res = await fetch(`${hub.running.publicUrl}hub/api`, { client });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("strict-transport-security"), "max-age=600");
      await res.body?.cancel();
      const plain = await fetch(
        `http://127.0.0.1:${httpPort}/hub/login?next=x`,
        { redirect: "manual" },
      );
      assert.equal(plain.status, 301);
      assert.equal(
        plain.headers.get("location"),
        `https://127.0.0.1:${
          new URL(hub.running.publicUrl).port
        }/hub/login?next=x`,
      );
      await plain.body?.cancel();
    } finally {
      client.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
