/**
 * `/hub/spawn`, `/hub/spawn-pending`, `/hub/user/<name>/…` and
 * `/hub/user-redirect/…` (JupyterHub's single-user server contract): starting a server
 * from the browser, waiting for it, and what happens when a request for a
 * server reaches the hub because the server is not (yet) routed.
 *
 * @module
 */
import { getServer } from "../db/servers.ts";
import { type Context, Hono } from "hono";
import { html } from "hono/html";
import {
  layout,
  notRunningPage,
  spawnOptionsPage,
  spawnPendingPage,
} from "../../templates/mod.ts";
import type { HubConfig } from "../config.ts";
import type { Db } from "../db/mod.ts";
import { getUser } from "../db/users.ts";
import type { UserRow } from "../db/schema.ts";
import { HubError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { safeNextUrl } from "../next_url.ts";
import type { HubEnv } from "../middleware/identity.ts";
import { formOf, formXsrf } from "../middleware/form_xsrf.ts";
import { validServerName } from "../auth/usernames.ts";
import { assertScopes } from "../middleware/require_scope.ts";
import { escapeName, type ServerManager, serverPrefix } from "../servers.ts";

/** Dependencies of the spawn pages. */
export interface SpawnPagesDeps {
  db: Db;
  config: HubConfig;
  servers: ServerManager;
  logger: Logger;
}

/** The 424 JupyterLab turns into its "server unavailable" dialog. */
function notRunningJson(c: Context, wanted: string, spawnUrl: string) {
  return c.json({
    status: 424,
    message: `JupyterHub server no longer running at ${
      wanted.split("?")[0]
    }. Restart the server at ${spawnUrl}`,
  }, 424);
}

/** How long `/hub/spawn` waits before showing the pending page. */
const SPAWN_PAGE_WAIT_MS = 1_000;

/** The spawn pages (paths relative to `{base_url}hub`). */
export function createSpawnPages(deps: SpawnPagesDeps): Hono<HubEnv> {
  const app = new Hono<HubEnv>();
  const { db, config, servers } = deps;
  const hub = `${config.baseUrl}hub/`;
  const nextOf = (c: Context) =>
    safeNextUrl(c.req.query("next"), {
      baseUrl: config.baseUrl,
      publicOrigin: config.publicUrl,
    });
  const loginRedirect = (c: Context) => {
    const here = new URL(c.req.url);
    return c.redirect(
      `${hub}login?next=${encodeURIComponent(here.pathname + here.search)}`,
      302,
    );
  };
  const target = async (c: Context<HubEnv>) => {
    const me = c.get("identity")!;
    const name = c.req.param("user_name") ?? me.name;
    const server = validServerName(c.req.param("server_name") ?? "");
    const user = await getUser(db, name);
    if (!user) throw new HubError(404, `No such user: ${name}`);
    if (server && !config.spawner.namedServers) {
      throw new HubError(400, "Named servers are not enabled.");
    }
    return {
      user,
      server,
      label: server ? `${user.name}/${server}` : `${user.name}'s server`,
    };
  };
  const suffix = (name: string, server: string) =>
    `${escapeName(name)}${server ? "/" + escapeName(server) : ""}`;

  /** Starts the server (unless a spawn is in flight), waits briefly, then shows spawn-pending. */
  const startThenPending = async (
    c: Context<HubEnv>,
    user: UserRow,
    server: string,
    options: Record<string, unknown> | undefined,
    next: string | null,
  ) => {
    if (!servers.isPending(user.name, server)) {
      await servers.start(user, server, options);
      await servers.waitReady(user.name, server, SPAWN_PAGE_WAIT_MS).catch(() =>
        false
      );
    }
    const query = next ? `?next=${encodeURIComponent(next)}` : "";
    return c.redirect(
      `${hub}spawn-pending/${suffix(user.name, server)}${query}`,
      302,
    );
  };

  const spawn = async (c: Context<HubEnv>) => {
    if (!c.get("identity")) return loginRedirect(c);
    const { user, server } = await target(c);
    await assertScopes(db, c.get("identity"), ["servers"], {
      user: user.name,
      server: `${user.name}/${server}`,
    });
    const next = nextOf(c);
    const row = await getServer(db, user.id, server);
    if (row?.status === "running" && !servers.isPending(user.name, server)) {
      return c.redirect(
        next ?? serverPrefix(config.baseUrl, user.name, server),
        302,
      );
    }
    if (config.spawner.optionsForm && !servers.isPending(user.name, server)) {
      return c.html(spawnOptionsPage({
        baseUrl: config.baseUrl,
        user: c.get("identity")!.name,
        label: server ? `${user.name}/${server}` : `${user.name}'s server`,
        action: new URL(c.req.url).pathname + new URL(c.req.url).search,
        xsrf: c.get("xsrf"),
        formHtml: config.spawner.optionsForm,
        error: null,
      }));
    }
    return await startThenPending(c, user, server, undefined, next);
  };
  app.get("/spawn", spawn);
  app.get("/spawn/:user_name", spawn);
  app.get("/spawn/:user_name/:server_name", spawn);

  // The options form posts here: its fields become user_options ({name: [values]}, as JupyterHub's
  // default options_from_form keeps them), checked against the session's XSRF token.
  const spawnWithOptions = async (c: Context<HubEnv>) => {
    if (!c.get("identity")) return loginRedirect(c);
    const { user, server } = await target(c);
    await assertScopes(db, c.get("identity"), ["servers"], {
      user: user.name,
      server: `${user.name}/${server}`,
    });
    const form = formOf(c);
    const options: Record<string, string[]> = {};
    for (const [key, value] of form.entries()) {
      if (key === "_xsrf" || typeof value !== "string") continue;
      (options[key] ??= []).push(value);
    }
    const next = nextOf(c);
    return await startThenPending(c, user, server, options, next);
  };
  const spawnXsrf = formXsrf({
    token: "session",
    onFail: () => {
      throw new HubError(
        403,
        "This form has expired: reload the page and try again",
      );
    },
  });
  app.post("/spawn", spawnXsrf, spawnWithOptions);
  app.post("/spawn/:user_name", spawnXsrf, spawnWithOptions);
  app.post("/spawn/:user_name/:server_name", spawnXsrf, spawnWithOptions);

  const pending = async (c: Context<HubEnv>) => {
    if (!c.get("identity")) return loginRedirect(c);
    const { user, server, label } = await target(c);
    await assertScopes(db, c.get("identity"), ["servers"], {
      user: user.name,
      server: `${user.name}/${server}`,
    });
    const next = nextOf(c) ?? serverPrefix(config.baseUrl, user.name, server);
    const spawnUrl = `${hub}spawn/${suffix(user.name, server)}?next=${
      encodeURIComponent(next)
    }`;
    const identity = c.get("identity")!;
    if (servers.isPending(user.name, server)) {
      const progress = `${hub}api/users/${escapeName(user.name)}/${
        server ? `servers/${escapeName(server)}` : "server"
      }/progress`;
      return c.html(spawnPendingPage({
        baseUrl: config.baseUrl,
        user: identity.name,
        label,
        progressUrl: `${progress}?_xsrf=${encodeURIComponent(c.get("xsrf"))}`,
        nextUrl: next,
        spawnUrl,
      }));
    }
    const row = await getServer(db, user.id, server);
    if (row?.status === "running") return c.redirect(next, 302);
    const failure = servers.lastFailure(user.name, server);
    if (failure !== undefined) {
      // The error page with the reason and a way to try again (JupyterHub's single-user server contract).
      return c.html(
        layout({
          title: "Spawn failed",
          baseUrl: config.baseUrl,
          user: identity.name,
          body: html`<div class="card">
  <h1>500: Spawn failed</h1>
  <p class="error" id="spawn-error">Spawn failed: ${failure}</p>
  <p><a class="button" id="retry" href="${spawnUrl}">Try again</a></p>
</div>`,
        }),
        500,
      );
    }
    return c.html(
      notRunningPage({
        baseUrl: config.baseUrl,
        user: identity.name,
        label,
        spawnUrl,
      }),
      424,
    );
  };
  app.get("/spawn-pending/:user_name", pending);
  app.get("/spawn-pending/:user_name/:server_name", pending);

  // A request for a server that reached the hub (not routed): JupyterHub's UserUrlHandler.
  app.all("/user/:user_name/*", async (c) => {
    const url = new URL(c.req.url);
    const name = c.req.param("user_name");
    // What follows the name segment as sent (its escaping may differ from escapeName's).
    const afterUser = url.pathname.slice(`${hub}user/`.length);
    const slash = afterUser.indexOf("/");
    const rest = slash < 0 ? "" : afterUser.slice(slash + 1);
    const user = await getUser(db, name);
    // Named server only if the first segment names an existing server of the user.
    let server = "";
    const first = decodeURIComponent(rest.split("/")[0] ?? "");
    if (user && first && config.spawner.namedServers) {
      const named = await getServer(db, user.id, first);
      if (named) server = first;
    }
    const wanted = `${config.baseUrl}user/${
      escapeName(name)
    }/${rest}${url.search}`;
    const looksLikeApi =
      (c.req.header("accept") ?? "").includes("application/json") ||
      rest.split("/").includes("api") || c.req.method !== "GET";
    if (!c.get("identity")) {
      if (c.req.method === "GET" && !looksLikeApi) return loginRedirect(c);
      throw new HubError(403, "Missing or invalid credentials.");
    }
    if (!user) {
      throw new HubError(404, "No access to resources or resources not found");
    }
    await assertScopes(db, c.get("identity"), ["access:servers"], {
      user: user.name,
      server: `${user.name}/${server}`,
    });
    const spawnUrl = `${hub}spawn/${suffix(user.name, server)}?next=${
      encodeURIComponent(url.pathname + url.search)
    }`;
    // JupyterHub fails every non-GET here (`post = put = … = _fail_api_request`), running or not.
    if (c.req.method !== "GET" && c.req.method !== "HEAD") {
      return notRunningJson(c, wanted, spawnUrl);
    }
    if (
      (servers.isPending(user.name, server) ||
        servers.lastFailure(user.name, server) !== undefined) &&
      !looksLikeApi
    ) {
      return c.redirect(
        `${hub}spawn-pending/${suffix(user.name, server)}?next=${
          encodeURIComponent(wanted)
        }`,
        303,
      );
    }
    const row = await getServer(db, user.id, server);
    if (row?.status === "running") {
      // Redirect-loop guard: the proxy should have routed this; try again a few times, then give up.
      const redirects = Number(url.searchParams.get("redirects") ?? "0");
      if (!Number.isInteger(redirects) || redirects >= 4) {
        throw new HubError(500, "Redirect loop detected.");
      }
      await new Promise((r) =>
        setTimeout(r, Math.min(2 ** redirects, 10) * (redirects ? 1000 : 0))
      );
      const back = new URL(wanted, url);
      back.searchParams.set("redirects", String(redirects + 1));
      return c.redirect(back.pathname + back.search, 302);
    }
    if (looksLikeApi) return notRunningJson(c, wanted, spawnUrl);
    return c.html(
      notRunningPage({
        baseUrl: config.baseUrl,
        user: c.get("identity")!.name,
        label: server ? `${user.name}/${server}` : `${user.name}'s server`,
        spawnUrl,
      }),
      424,
    );
  });
  app.get(
    "/user/:user_name",
    (c) =>
      c.redirect(`${hub}user/${escapeName(c.req.param("user_name"))}/`, 302),
  );

  app.get("/user-redirect/*", (c) => {
    const identity = c.get("identity");
    if (!identity) return loginRedirect(c);
    const url = new URL(c.req.url);
    const rest = url.pathname.slice(`${hub}user-redirect/`.length);
    const next = `${config.baseUrl}user/${
      escapeName(identity.name)
    }/${rest}${url.search}`;
    return c.redirect(
      `${hub}spawn/${escapeName(identity.name)}?next=${
        encodeURIComponent(next)
      }`,
      302,
    );
  });
  return app;
}
