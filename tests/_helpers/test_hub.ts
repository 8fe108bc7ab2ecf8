/**
 * Test fixtures for the hub:
 * - `createTestHub(overrides)`: an in-memory SQLite hub with the dummy
 *   authenticator, a fixed clock and a silent logger, built by hub/mod.ts's
 *   `buildParts()` (the real wiring); `using` it closes the database.
 * - `hub.addUser(name, {admin})`, `hub.tokenFor(name, scopes?)`: arrange
 *   users and tokens without going through the API.
 * - `hub.request(path, init)`: sends a request through `app.request()` (no
 *   socket), with `token` as a shortcut for the Authorization header.
 * - `createTestHub(file, { withProxy: true })`: also an in-process proxy
 *   (`hub.proxy`, not listening) behind `hub.routes` (the `/proxy` API works).
 * - `hub.login(name, password?)`: logs in through the real form; returns the
 *   cookie header and the XSRF token for cookie-authenticated calls.
 * - `createTestHub(file, { spawner: "fake" })` (or a `Spawner` of your own,
 *   e.g. a configured `FakeSpawner`): a real `ServerManager` (`hub.servers`)
 *   with that spawner, the in-process proxy (implies `withProxy`), a
 *   temporary `data_dir` unless the file sets one, and the fake's `isReady`
 *   (`hub.fake` is the FakeSpawner, when it is one). Hub users must be
 *   named after existing non-root Linux accounts (`daemon`, `bin`, `sys`,
 *   `nobody`): the manager looks the account up. Disposing kills the fake's
 *   processes, waits for pending spawns and removes the data_dir.
 * - `createTestHub(file, { memAvailable })`: the machine's available memory
 *   as the manager sees it before a spawn (default: the real
 *   /proc/meminfo); `{ logger }`: a logger of your own (default: silent).
 *
 * @module
 */
import { type HubConfig, resolveConfig } from "../../hub/config/mod.ts";
import {
  type DatabaseHandle,
  migrateToLatest,
  openDatabase,
} from "../../hub/db/mod.ts";
import { createUsers, getUser } from "../../hub/db/users.ts";
import { createAuthenticator } from "../../hub/auth/mod.ts";
import { createHubApp, type HubApp } from "../../hub/app.ts";
import { buildParts } from "../../hub/mod.ts";
import { issueToken } from "../../hub/api/mod.ts";
import { type Logger, silentLogger } from "../../hub/observe/log.ts";
import type { Proxy } from "../../proxy/mod.ts";
import { importXsrfKey, xsrfForSession } from "../../hub/auth/xsrf.ts";
import type { ServerManager } from "../../hub/servers/manager.ts";
import type { RouteService } from "../../hub/servers/routes.ts";
import type { Spawner } from "../../spawners/mod.ts";
import { FakeSpawner } from "./fake_spawner.ts";
import type { EventLog } from "../../hub/observe/events.ts";
import type { HubMetrics } from "../../hub/observe/metrics.ts";
import type { ShutdownRequest } from "../../hub/api/shutdown.ts";

/** A hub under test. */
export interface TestHub extends HubApp, AsyncDisposable {
  config: HubConfig;
  /** With `withProxy`: an in-process proxy (not listening) and the hub's route service. */
  proxy: Proxy | null;
  routes: RouteService | null;
  /** With `spawner`: the server manager the hub uses. */
  servers: ServerManager | null;
  /** With `spawner: "fake"` or a FakeSpawner: that fake. */
  fake: FakeSpawner | null;
  handle: DatabaseHandle;
  /** The event log the app and the server manager share (`await events.flush()` before reading). */
  events: EventLog;
  metrics: HubMetrics;
  now: Date;
  addUser(name: string, options?: { admin?: boolean }): Promise<number>;
  tokenFor(name: string, scopes?: string[]): Promise<string>;
  request(
    path: string,
    init?: RequestInit & { token?: string; json?: unknown },
  ): Promise<Response>;
  login(
    name: string,
    password?: string,
  ): Promise<{ cookie: string; xsrf: string }>;
}

/** Options: config file-shaped overrides (snake_case keys). */
export async function createTestHub(
  file: Record<string, unknown> = {},
  options: {
    dbPath?: string;
    withProxy?: boolean;
    spawner?: Spawner | "fake";
    requestShutdown?: (request: ShutdownRequest) => void;
    memAvailable?: () => Promise<number | null>;
    logger?: Logger;
  } = {},
): Promise<TestHub> {
  const spawner = options.spawner === "fake"
    ? new FakeSpawner()
    : options.spawner ?? null;
  const fake = spawner instanceof FakeSpawner ? spawner : null;
  const dataDir = spawner && !("data_dir" in file)
    ? await Deno.makeTempDir({ prefix: "onehub-test-" })
    : null;
  const config = resolveConfig({
    file: {
      auth: { type: "dummy" },
      users: { allow_all: true },
      ...(dataDir ? { "data_dir": dataDir } : {}),
      ...file,
      // Fake servers run "as" daemon and bin (uid 1, 2): allow system accounts here.
      spawner: {
        "min_uid": 1,
        ...(file.spawner as Record<string, unknown> | undefined),
      },
    },
  });
  const handle = openDatabase(options.dbPath ?? ":memory:");
  await migrateToLatest(handle);
  const now = new Date("2026-11-25T12:00:00.000Z");
  const secret = new Uint8Array(32).fill(7);
  const parts = await buildParts({
    config,
    db: handle.db,
    authenticator: createAuthenticator(config),
    logger: options.logger ?? silentLogger,
    cookieSecret: secret,
    now: () => now,
    ...(spawner ? { spawner } : {}),
    ...(fake ? { isReady: fake.isReady } : {}),
    ...(options.memAvailable ? { memAvailable: options.memAvailable } : {}),
  });
  parts.hubApi.url = "http://127.0.0.1:1/hub/api";
  const { events, metrics } = parts;
  const withProxy = Boolean(options.withProxy || spawner);
  const proxy = withProxy ? parts.proxy : null;
  const routes = withProxy ? parts.routes : null;
  const servers = spawner ? parts.servers : null;
  // The parts as buildParts() wired them, less what this hub runs without:
  // no proxy, no spawner (and so no culler), no runner to shut it down.
  const hub = await createHubApp({
    ...parts.appDeps,
    routes,
    servers,
    culler: servers ? parts.culler : null,
    requestShutdown: options.requestShutdown ?? null,
  });
  const base = "http://127.0.0.1:8000";
  const request: TestHub["request"] = (path, init = {}) => {
    const headers = new Headers(init.headers);
    if (init.token) headers.set("Authorization", `token ${init.token}`);
    let body = init.body;
    if (init.json !== undefined) {
      body = JSON.stringify(init.json);
      if (!headers.has("content-type")) {
        headers.set("content-type", "application/json");
      }
    }
    const { token: _t, json: _j, ...rest } = init;
    return Promise.resolve(
      hub.app.request(base + path, {
        ...rest,
        headers,
        ...(body !== undefined ? { body } : {}),
      }),
    );
  };
  const xsrfKey = await importXsrfKey(secret);
  return {
    ...hub,
    config,
    handle,
    events,
    metrics,
    now,
    async addUser(name, opts = {}) {
      await createUsers(handle.db, [name], {
        admin: opts.admin ?? false,
        now: now.toISOString(),
      });
      return (await getUser(handle.db, name))!.id;
    },
    async tokenFor(name, scopes) {
      const owner = await getUser(handle.db, name);
      if (!owner) throw new Error(`tokenFor: no user ${name}`);
      const { token } = await issueToken(handle.db, owner, {
        scopes,
        note: "test",
        expiresInSeconds: null,
        now,
      });
      return token;
    },
    request,
    async login(name, password = "pw") {
      const form = await request("/hub/login");
      const html = await form.text();
      const xsrfField = /name="_xsrf" value="([^"]+)"/.exec(html)![1]!;
      const xsrfCookie = form.headers.getSetCookie().map((c) =>
        c.split(";")[0]!
      ).join("; ");
      const res = await request("/hub/login", {
        method: "POST",
        headers: {
          cookie: xsrfCookie,
          "content-type": "application/x-www-form-urlencoded",
        },
        body: new URLSearchParams({
          username: name,
          password,
          _xsrf: xsrfField,
        }).toString(),
      });
      await res.body?.cancel();
      if (res.status !== 302) throw new Error(`login failed: ${res.status}`);
      const cookies = res.headers.getSetCookie().map((c) => c.split(";")[0]!);
      const cookie = cookies.join("; ");
      const sessionId = cookies.find((c) =>
        c.startsWith("jupyterhub-session-id=")
      )!.split("=")[1]!;
      return { cookie, xsrf: await xsrfForSession(xsrfKey, sessionId) };
    },
    proxy,
    routes,
    servers,
    fake,
    async [Symbol.asyncDispose]() {
      fake?.killAll();
      await servers?.shutdown(false);
      await events.close();
      parts.proxy?.close();
      await handle.close();
      if (dataDir) await Deno.remove(dataDir, { recursive: true });
    },
  };
}

/** A test hub with a FakeSpawner (and so a ServerManager). */
export type FakeHub = TestHub & { fake: FakeSpawner; servers: ServerManager };

/** A test hub spawning with `fake`, with the users "daemon" and "bin" (who exist on every Debian). */
export async function fakeHub(
  file: Record<string, unknown> = {},
  fake = new FakeSpawner(),
): Promise<FakeHub> {
  const hub = await createTestHub(file, { spawner: fake });
  await hub.addUser("daemon");
  await hub.addUser("bin");
  return hub as FakeHub;
}
