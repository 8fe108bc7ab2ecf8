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
import type { HubEnv } from "../middleware/identity.ts";
import { createScopeGuard } from "../middleware/require_scope.ts";
import {
  type ProgressEvent,
  type ServerManager,
  serverPrefix,
} from "../servers.ts";
import { expectObject, readJson } from "./_body.ts";
import { validServerName } from "../auth/usernames.ts";
import { requireUser } from "./_lookup.ts";
import type { ApiDeps } from "./_deps.ts";

/** How long a start request waits before answering 202 (JupyterHub's slow_spawn_timeout). */
const SLOW_SPAWN_MS = 10_000;
/** How long a stop request waits before answering 202. */
const SLOW_STOP_MS = 10_000;
/** Keep-alive interval of the progress stream. */
const KEEPALIVE_MS = 8_000;

function serverNameOf(c: Context): string {
  return validServerName(c.req.param("server_name") ?? "");
}

/** The `/users/{name}/server(s)` sub-app. */
export function createServersApi(
  deps: ApiDeps & { servers?: ServerManager },
): Hono<HubEnv> {
  const app = new Hono<HubEnv>();
  const needs = createScopeGuard(deps.db);
  const { db, config } = deps;
  const manager = () => {
    if (!deps.servers) {
      throw new HubError(503, "This hub runs without a spawner");
    }
    return deps.servers;
  };

  const start = async (c: Context<HubEnv>) => {
    const user = await requireUser(db, c.req.param("user_name")!);
    const server = serverNameOf(c);
    if (server && !config.spawner.namedServers) {
      throw new HubError(400, "Named servers are not enabled.");
    }
    const body = await readJson(c);
    const options = body === undefined
      ? undefined
      : expectObject(body, "user options body");
    if (server && config.spawner.namedServerLimit > 0) {
      const existing = await namedServerNames(db, user.id);
      if (
        !existing.includes(server) &&
        existing.length >= config.spawner.namedServerLimit
      ) {
        throw new HubError(
          400,
          `User ${user.name} already has the maximum of ${config.spawner.namedServerLimit} named servers.  One must be deleted before a new server can be created`,
        );
      }
    }
    const servers = manager();
    if (servers.isPending(user.name, server)) return c.body(null, 202);
    await servers.start(user, server, options);
    const ready = await servers.waitReady(user.name, server, SLOW_SPAWN_MS);
    c.header("Content-Type", "text/plain");
    return c.body(null, ready ? 201 : 202);
  };

  const stop = async (c: Context<HubEnv>) => {
    const user = await requireUser(db, c.req.param("user_name")!);
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
    const stopping = manager().stop(user, server).then(async () => {
      if (remove) {
        await deleteServer(db, user.id, server);
      }
    });
    const done = await Promise.race([
      stopping.then(() => true),
      new Promise<false>((r) => setTimeout(() => r(false), SLOW_STOP_MS)),
    ]);
    stopping.catch((e) =>
      deps.logger.warn("stop failed", {
        user: user.name,
        error: (e as Error).message,
      })
    );
    return c.body(null, done ? 204 : 202);
  };

  app.post("/users/:user_name/server", needs("servers"), start);
  app.post("/users/:user_name/servers/:server_name", needs("servers"), start);
  app.post("/users/:user_name/servers/", needs("servers"), start);
  app.delete("/users/:user_name/server", needs("delete:servers"), stop);
  app.delete(
    "/users/:user_name/servers/:server_name",
    needs("delete:servers"),
    stop,
  );
  app.delete("/users/:user_name/servers/", needs("delete:servers"), stop);

  const progress = async (c: Context<HubEnv>) => {
    const user = await requireUser(db, c.req.param("user_name")!);
    const server = serverNameOf(c);
    const row = await getServer(db, user.id, server);
    const servers = manager();
    const live = servers.progress(user.name, server);
    // The same URL the spawn reports (names path-escaped like JupyterHub's, `@` kept).
    const prefix = serverPrefix(config.baseUrl, user.name, server);
    let replay: ProgressEvent[] | null = null;
    if (!live || live.finished) {
      if (row?.status === "running") {
        replay = [{
          progress: 100,
          ready: true,
          message: `Server ready at ${prefix}`,
          url: prefix,
        }];
      } else if (servers.lastFailure(user.name, server) !== undefined) {
        replay = [{
          progress: 100,
          failed: true,
          message: `Spawn failed: ${servers.lastFailure(user.name, server)}`,
        }];
      } else if (!row && server) {
        throw new HubError(404, `${user.name} has no server named '${server}'`);
      } else {
        throw new HubError(400, `${user.name}'s server is not starting...`);
      }
    }
    const encoder = new TextEncoder();
    let timer: ReturnType<typeof setInterval> | undefined;
    const stream = new ReadableStream<Uint8Array>({
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
            const view = servers.progress(user.name, server);
            // Gone (stopped and forgotten) or replaced by a newer spawn: this stream is over.
            if (!view || view.events !== live!.events) return;
            const waiting = view.next();
            while (sent < view.events.length) {
              const event = view.events[sent++]!;
              // Intermediate events never carry `ready` (JupyterHub strips it).
              send(`data: ${JSON.stringify(event)}\n\n`);
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
    return new Response(stream, {
      headers: {
        "Content-Type": "text/event-stream",
        "Cache-Control": "no-cache",
        "X-Accel-Buffering": "no",
      },
    });
  };
  app.get("/users/:user_name/server/progress", needs("read:servers"), progress);
  app.get(
    "/users/:user_name/servers/:server_name/progress",
    needs("read:servers"),
    progress,
  );
  return app;
}
