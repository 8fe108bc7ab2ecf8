/**
 * Server routes: start (`POST …/server`, `…/servers/{name}`), stop
 * (`DELETE`), and the progress event stream, with JupyterHub's
 * 201/202/204/400/404/409/429 semantics (JupyterHub's REST API reference).
 *
 * @module
 */
import { deleteServer, getServer, namedServerNames } from "../db/servers.ts";
import { type Context, Hono } from "hono";
import { HubError } from "../errors.ts";
import type { Ctx, HubEnv } from "../middleware/identity.ts";
import { type ProgressEvent, type ServerManager } from "../servers/manager.ts";
import { expectObject, readJson } from "./_body.ts";
import { validServerName } from "../auth/usernames.ts";
import { routeUser } from "./_lookup.ts";
import type { ServerRow, UserRow } from "../db/schema.ts";
import { apiApp, type ApiDeps } from "./_deps.ts";

/** Keep-alive interval of the progress stream. */
const KEEPALIVE_MS = 8_000;

function serverNameOf(c: Context): string {
  return validServerName(c.req.param("server_name") ?? "");
}

/** What the server routes need: the API's deps and, when spawning is on, the manager. */
type ServersApiDeps = ApiDeps & { servers?: ServerManager };

function manager(deps: ServersApiDeps): ServerManager {
  if (!deps.servers) {
    throw new HubError(503, "This hub runs without a spawner");
  }
  return deps.servers;
}

/** 400 when starting `server` would give the user more named servers than allowed. */
async function checkNamedServerLimit(
  deps: ServersApiDeps,
  user: UserRow,
  server: string,
) {
  const limit = deps.config.spawner.namedServerLimit;
  if (!server || limit <= 0) return;
  const existing = await namedServerNames(deps.db, user.id);
  if (!existing.includes(server) && existing.length >= limit) {
    throw new HubError(
      400,
      `User ${user.name} already has the maximum of ${limit} named servers.  One must be deleted before a new server can be created`,
    );
  }
}

/** `POST …/server`, `…/servers/{name}`: 201 when ready in time, else 202. */
async function startRoute(c: Ctx, deps: ServersApiDeps): Promise<Response> {
  const user = await routeUser(c, deps.db);
  const server = serverNameOf(c);
  if (server && !deps.config.spawner.namedServers) {
    throw new HubError(400, "Named servers are not enabled.");
  }
  const body = await readJson(c);
  const options = body === undefined
    ? undefined
    : expectObject(body, "user options body");
  await checkNamedServerLimit(deps, user, server);
  const servers = manager(deps);
  if (servers.isPending(user.name, server)) return c.body(null, 202);
  await servers.start(user, server, {
    options,
    actor: c.get("identity")?.name,
  });
  const ready = await servers.waitReady(
    user.name,
    server,
    { timeoutMs: deps.config.spawner.slowSpawnTimeoutSeconds * 1000 },
  );
  c.header("Content-Type", "text/plain");
  return c.body(null, ready ? 201 : 202);
}

/** `DELETE …/server`, `…/servers/{name}` (`{"remove": true}` forgets a named one): 204, or 202 when slow. */
async function stopRoute(c: Ctx, deps: ServersApiDeps): Promise<Response> {
  const { db } = deps;
  const user = await routeUser(c, db);
  const server = serverNameOf(c);
  const body = await readJson(c);
  const remove = body !== undefined &&
    expectObject(body, "body").remove === true;
  if (remove && server === "") {
    throw new HubError(400, "Cannot delete the default server");
  }
  const row = await getServer(db, user.id, server);
  if (server && !row) {
    throw new HubError(404, `${user.name} has no server named '${server}'`);
  }
  if (row?.status === "stopping") return c.body(null, 202);
  const cause = {
    actor: c.get("identity")?.name ?? null,
    reason: remove ? "stopped and removed by request" : "stopped by request",
  };
  const stopping = manager(deps).stop(user, server, cause).then(async () => {
    if (remove) await deleteServer(db, user.id, server);
  });
  const done = await Promise.race([
    stopping.then(() => true),
    new Promise<false>((r) =>
      setTimeout(
        () => r(false),
        deps.config.spawner.slowStopTimeoutSeconds * 1000,
      )
    ),
  ]);
  stopping.catch((e) =>
    deps.logger.warn("stop failed", {
      user: user.name,
      error: (e as Error).message,
    })
  );
  return c.body(null, done ? 204 : 202);
}

/**
 * With no spawn in flight, what the progress stream replays: ready, the
 * last failure, or an error for a server that is not starting.
 */
function replayOf(
  servers: ServerManager,
  user: UserRow,
  server: string,
  row: ServerRow | undefined,
  url: string,
): ProgressEvent[] {
  if (row?.status === "running") {
    return [{
      progress: 100,
      ready: true,
      message: `Server ready at ${url}`,
      // Safe in HTML as it is: names are percent-encoded, hosts DNS labels.
      "html_message": `Server ready at <a href="${url}">${url}</a>`,
      url,
    }];
  }
  const failure = servers.lastFailure(user.name, server);
  if (failure !== undefined) {
    return [{
      progress: 100,
      failed: true,
      message: `Spawn failed: ${failure}`,
    }];
  }
  if (!row && server) {
    throw new HubError(404, `${user.name} has no server named '${server}'`);
  }
  throw new HubError(400, `${user.name}'s server is not starting...`);
}

/** The event stream: `replay`, or the live spawn's events until it finishes, with keep-alives. */
function progressStream(
  servers: ServerManager,
  key: { user: string; server: string },
  replay: ProgressEvent[] | null,
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const live = servers.progress(key.user, key.server);
  let timer: ReturnType<typeof setInterval> | undefined;
  return new ReadableStream<Uint8Array>({
    async start(controller) {
      const send = (text: string) => controller.enqueue(encoder.encode(text));
      send("\n\n");
      timer = setInterval(() => send("\n\n"), KEEPALIVE_MS);
      try {
        if (replay) {
          for (const e of replay) send(`data: ${JSON.stringify(e)}\n\n`);
          return;
        }
        let sent = 0;
        while (true) {
          const view = servers.progress(key.user, key.server);
          // Gone (stopped and forgotten) or replaced by a newer spawn: this stream is over.
          if (!view || view.events !== live!.events) return;
          const waiting = view.next();
          // Intermediate events never carry `ready` (JupyterHub strips it).
          while (sent < view.events.length) {
            send(`data: ${JSON.stringify(view.events[sent++])}\n\n`);
          }
          if (view.finished) return;
          await waiting;
        }
      } finally {
        clearInterval(timer);
        try {
          controller.close();
        } catch { /* client gone */ }
      }
    },
    cancel() {
      clearInterval(timer);
    },
  });
}

/** `GET …/progress`: the spawn's events as server-sent events. */
async function progressRoute(c: Ctx, deps: ServersApiDeps): Promise<Response> {
  const user = await routeUser(c, deps.db);
  const server = serverNameOf(c);
  const row = await getServer(deps.db, user.id, server);
  const servers = manager(deps);
  const live = servers.progress(user.name, server);
  // The same URL the spawn reports (names path-escaped like JupyterHub's, `@` kept).
  const { url } = servers.where(user.name, server);
  const replay = !live || live.finished
    ? replayOf(servers, user, server, row, url)
    : null;
  return new Response(
    progressStream(servers, { user: user.name, server }, replay),
    {
      headers: {
        "Content-Type": "text/event-stream",
        "Cache-Control": "no-cache",
        "X-Accel-Buffering": "no",
      },
    },
  );
}

/** The paths that name one server of a user (progress: the first two). */
const SERVER_PATHS = [
  "/users/:user_name/server",
  "/users/:user_name/servers/:server_name",
  "/users/:user_name/servers/",
] as const;

/** The `/users/{name}/server(s)` sub-app. */
export function createServersApi(deps: ServersApiDeps): Hono<HubEnv> {
  const { app, needs, on } = apiApp(deps);
  // A user's default server, a named one, and `servers/` (JupyterHub's empty name).
  for (const path of SERVER_PATHS) {
    app.post(path, needs("servers"), on(startRoute));
    app.delete(path, needs("delete:servers"), on(stopRoute));
  }
  for (const path of SERVER_PATHS.slice(0, 2)) {
    app.get(`${path}/progress`, needs("read:servers"), on(progressRoute));
  }
  return app;
}
