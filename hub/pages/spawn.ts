/**
 * `/hub/spawn`, `/hub/spawn-pending`, `/hub/user/<name>/…` and
 * `/hub/user-redirect/…` (JupyterHub's single-user server contract): starting a server
 * from the browser, waiting for it, and what happens when a request for a
 * server reaches the hub because the server is not (yet) routed.
 *
 * @module
 */
import { userOrigin } from "../servers/urls.ts";
import { getServer } from "../db/servers.ts";
import { type Context, Hono } from "hono";
import { html } from "hono/html";
import {
  layout,
  notRunningPage,
  type ProfileChoice,
  spawnOptionsPage,
  spawnPendingPage,
} from "../../templates/mod.ts";
import type { HubConfig } from "../config/mod.ts";
import type { Db } from "../db/mod.ts";
import { getUser, groupNamesByUser } from "../db/users.ts";
import type { ServerRow, UserRow } from "../db/schema.ts";
import { profilesFor } from "../servers/profiles.ts";
import { HubError } from "../errors.ts";
import type { Logger } from "../observe/log.ts";
import { safeNextUrl } from "../next_url.ts";
import type { HubEnv } from "../middleware/identity.ts";
import { formOf, formXsrf } from "../middleware/form_xsrf.ts";
import { validServerName } from "../auth/usernames.ts";
import { assertScopes } from "../middleware/require_scope.ts";
import { routeParam } from "../middleware/route_param.ts";
import {
  escapeName,
  type ServerManager,
  serverPrefix,
} from "../servers/manager.ts";

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

/** The user and server a spawn route names, and how the pages call it. */
interface SpawnTarget {
  user: UserRow;
  server: string;
  /** `alice's server` or `alice/gpu`. */
  label: string;
}

/** What the spawn pages share: deps, paths and the small helpers every handler uses. */
interface SpawnSite {
  deps: SpawnPagesDeps;
  /** `{base_url}hub/` */
  hub: string;
  nextOf(c: Context): string | null;
  loginRedirect(c: Context): Response;
  /** The user and server the route names, checked (404, named servers on). */
  target(c: Context<HubEnv>): Promise<SpawnTarget>;
  /** `alice` or `alice/gpu`, escaped for a path. */
  suffix(name: string, server: string): string;
}

function spawnSite(deps: SpawnPagesDeps): SpawnSite {
  const { db, config } = deps;
  const hub = `${config.baseUrl}hub/`;
  return {
    deps,
    hub,
    nextOf: (c) =>
      safeNextUrl(c.req.query("next"), {
        baseUrl: config.baseUrl,
        publicOrigin: config.publicUrl,
        subdomainHost: config.subdomainHost,
      }),
    loginRedirect(c) {
      const here = new URL(c.req.url);
      return c.redirect(
        `${hub}login?next=${encodeURIComponent(here.pathname + here.search)}`,
        302,
      );
    },
    async target(c) {
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
    },
    suffix: (name, server) =>
      `${escapeName(name)}${server ? "/" + escapeName(server) : ""}`,
  };
}

/** The route's user and server, when the caller may start it (`servers` scope). */
async function startableTarget(
  c: Context<HubEnv>,
  site: SpawnSite,
): Promise<SpawnTarget> {
  const found = await site.target(c);
  await assertScopes(site.deps.db, c.get("identity"), {
    required: ["servers"],
    resource: {
      user: found.user.name,
      server: `${found.user.name}/${found.server}`,
    },
  });
  return found;
}

/** Starts the server (unless a spawn is in flight), waits briefly, then shows spawn-pending. */
async function startThenPending(
  c: Context<HubEnv>,
  site: SpawnSite,
  user: UserRow,
  server: string,
  options: Record<string, unknown> | undefined,
): Promise<Response> {
  const { servers } = site.deps;
  if (!servers.isPending(user.name, server)) {
    await servers.start(user, server, {
      options,
      actor: c.get("identity")?.name,
    });
    await servers.waitReady(user.name, server, {
      timeoutMs: SPAWN_PAGE_WAIT_MS,
    }).catch(() => false);
  }
  const next = site.nextOf(c);
  const query = next ? `?next=${encodeURIComponent(next)}` : "";
  return c.redirect(
    `${site.hub}spawn-pending/${site.suffix(user.name, server)}${query}`,
    302,
  );
}

/** `GET /spawn[/user[/server]]`: to the server when it runs, the options form when set, else start. */
async function spawnRoute(
  c: Context<HubEnv>,
  site: SpawnSite,
  target: SpawnTarget,
): Promise<Response> {
  const { db, config, servers } = site.deps;
  const { user, server, label } = target;
  const row = await getServer(db, user.id, server);
  if (row?.status === "running" && !servers.isPending(user.name, server)) {
    return c.redirect(
      site.nextOf(c) ?? servers.where(user.name, server).url,
      302,
    );
  }
  const profiles = await profileChoices(site, user, row);
  const ask = config.spawner.optionsForm || profiles.length > 1;
  if (ask && !servers.isPending(user.name, server)) {
    const url = new URL(c.req.url);
    return c.html(spawnOptionsPage({
      baseUrl: config.baseUrl,
      user: c.get("identity")!.name,
      label,
      action: url.pathname + url.search,
      xsrf: c.get("xsrf"),
      formHtml: config.spawner.optionsForm,
      error: null,
      profiles,
    }));
  }
  return await startThenPending(c, site, user, server, undefined);
}

/** The profiles `user` may pick, the last one used (or the default) checked. */
async function profileChoices(
  site: SpawnSite,
  user: UserRow,
  row: ServerRow | undefined,
): Promise<ProfileChoice[]> {
  const { config, db } = site.deps;
  if (!config.profiles.length) return [];
  const groups = (await groupNamesByUser(db, [user.id])).get(user.id) ?? [];
  const open = profilesFor(config.profiles, groups);
  const last = row ? JSON.parse(row.user_options).profile : undefined;
  const checked = open.find((p) => p.slug === last) ??
    open.find((p) => p.default) ?? open[0];
  return open.map((p) => ({
    slug: p.slug,
    displayName: p.displayName,
    description: p.description,
    checked: p === checked,
  }));
}

/**
 * `POST /spawn…`: the options form. Its fields become user_options
 * (`{name: [values]}`, as JupyterHub's default options_from_form keeps
 * them); the session's XSRF token was checked before.
 */
async function spawnWithOptionsRoute(
  c: Context<HubEnv>,
  site: SpawnSite,
  { user, server }: SpawnTarget,
): Promise<Response> {
  const options: Record<string, string[]> = {};
  for (const [key, value] of formOf(c).entries()) {
    if (key === "_xsrf" || typeof value !== "string") continue;
    (options[key] ??= []).push(value);
  }
  return await startThenPending(c, site, user, server, options);
}

/** The error page of a failed spawn, with the reason and a way to try again. */
function spawnFailedPage(
  c: Context,
  site: SpawnSite,
  user: string,
  failure: string,
  spawnUrl: string,
) {
  return c.html(
    layout({
      title: "Spawn failed",
      baseUrl: site.deps.config.baseUrl,
      user,
      body: html`<div class="card">
  <h1>500: Spawn failed</h1>
  <p class="error" id="spawn-error">Spawn failed: ${failure}</p>
  <p><a class="button" id="retry" href="${spawnUrl}">Try again</a></p>
</div>`,
    }),
    500,
  );
}

/** `GET /spawn-pending/…`: progress while spawning; then the server, the failure, or "not running". */
async function pendingRoute(
  c: Context<HubEnv>,
  site: SpawnSite,
  target: SpawnTarget,
): Promise<Response> {
  const { user, server, label } = target;
  const { db, config, servers } = site.deps;
  const next = site.nextOf(c) ?? servers.where(user.name, server).url;
  const spawnUrl = `${site.hub}spawn/${site.suffix(user.name, server)}?next=${
    encodeURIComponent(next)
  }`;
  const identity = c.get("identity")!;
  if (servers.isPending(user.name, server)) {
    const progress = `${site.hub}api/users/${escapeName(user.name)}/${
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
    return spawnFailedPage(c, site, identity.name, failure, spawnUrl);
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
}

/** What a `/hub/user/<name>/…` URL names: the user, a named server when its first segment is one, the rest. */
async function userUrlTarget(c: Context<HubEnv>, site: SpawnSite) {
  const { db, config } = site.deps;
  const url = new URL(c.req.url);
  const name = routeParam(c, "user_name");
  // What follows the name segment as sent (its escaping may differ from escapeName's).
  const afterUser = url.pathname.slice(`${site.hub}user/`.length);
  const slash = afterUser.indexOf("/");
  const rest = slash < 0 ? "" : afterUser.slice(slash + 1);
  const user = await getUser(db, name);
  let server = "";
  const first = decodeURIComponent(rest.split("/")[0] ?? "");
  if (
    user && first && config.spawner.namedServers &&
    await getServer(db, user.id, first)
  ) {
    server = first;
  }
  // On the user's own host with subdomain_host (JupyterHub: `user.host + …`).
  const wanted = `${userOrigin(config, name)}${config.baseUrl}user/${
    escapeName(name)
  }/${rest}${url.search}`;
  const looksLikeApi =
    (c.req.header("accept") ?? "").includes("application/json") ||
    rest.split("/").includes("api") || c.req.method !== "GET";
  return { url, user, server, wanted, looksLikeApi };
}

/** A running server whose request still reached the hub: back to it, a few times, then give up. */
async function retryRunning(
  c: Context,
  url: URL,
  wanted: string,
): Promise<Response> {
  const redirects = Number(url.searchParams.get("redirects") ?? "0");
  if (!Number.isInteger(redirects) || redirects >= 4) {
    throw new HubError(500, "Redirect loop detected.");
  }
  await new Promise((r) =>
    setTimeout(r, Math.min(2 ** redirects, 10) * (redirects ? 1000 : 0))
  );
  const back = new URL(wanted, url);
  back.searchParams.set("redirects", String(redirects + 1));
  const there = back.origin === url.origin
    ? back.pathname + back.search
    : back.href;
  return c.redirect(there, 302);
}

/** `/hub/user/<name>/…`: a request for a server that was not routed (JupyterHub's UserUrlHandler). */
async function userUrlRoute(
  c: Context<HubEnv>,
  site: SpawnSite,
): Promise<Response> {
  const { db, config, servers } = site.deps;
  const { url, user, server, wanted, looksLikeApi } = await userUrlTarget(
    c,
    site,
  );
  if (!c.get("identity")) {
    if (c.req.method === "GET" && !looksLikeApi) return site.loginRedirect(c);
    throw new HubError(403, "Missing or invalid credentials.");
  }
  if (!user) {
    throw new HubError(404, "No access to resources or resources not found");
  }
  await assertScopes(db, c.get("identity"), {
    required: ["access:servers"],
    resource: { user: user.name, server: `${user.name}/${server}` },
  });
  const suffix = site.suffix(user.name, server);
  const spawnUrl = `${site.hub}spawn/${suffix}?next=${
    encodeURIComponent(url.pathname + url.search)
  }`;
  // JupyterHub fails every non-GET here (`post = put = … = _fail_api_request`), running or not.
  if (c.req.method !== "GET" && c.req.method !== "HEAD") {
    return notRunningJson(c, wanted, spawnUrl);
  }
  const busy = servers.isPending(user.name, server) ||
    servers.lastFailure(user.name, server) !== undefined;
  if (busy && !looksLikeApi) {
    return c.redirect(
      `${site.hub}spawn-pending/${suffix}?next=${encodeURIComponent(wanted)}`,
      303,
    );
  }
  if ((await getServer(db, user.id, server))?.status === "running") {
    return retryRunning(c, url, wanted);
  }
  if (looksLikeApi) return notRunningJson(c, wanted, spawnUrl);
  const label = server ? `${user.name}/${server}` : `${user.name}'s server`;
  return c.html(
    notRunningPage({
      baseUrl: config.baseUrl,
      user: c.get("identity")!.name,
      label,
      spawnUrl,
    }),
    424,
  );
}

/** `/hub/user-redirect/…`: the same path on the caller's own server, through spawn. */
function userRedirectRoute(c: Context<HubEnv>, site: SpawnSite): Response {
  const identity = c.get("identity");
  if (!identity) return site.loginRedirect(c);
  const url = new URL(c.req.url);
  const rest = url.pathname.slice(`${site.hub}user-redirect/`.length);
  const own = { user: identity.name, server: "" };
  const next = `${
    serverPrefix(site.deps.config.baseUrl, own)
  }${rest}${url.search}`;
  return c.redirect(
    `${site.hub}spawn/${escapeName(identity.name)}?next=${
      encodeURIComponent(next)
    }`,
    302,
  );
}

/** The spawn pages (paths relative to `{base_url}hub`). */
export function createSpawnPages(deps: SpawnPagesDeps): Hono<HubEnv> {
  const app = new Hono<HubEnv>();
  const site = spawnSite(deps);
  // For a signed-in caller who may start the server the path names.
  const startable = (route: typeof spawnRoute) => async (c: Context<HubEnv>) =>
    c.get("identity")
      ? route(c, site, await startableTarget(c, site))
      : site.loginRedirect(c);
  const spawn = startable(spawnRoute);
  const spawnWithOptions = startable(spawnWithOptionsRoute);
  const pending = startable(pendingRoute);
  const spawnXsrf = formXsrf({
    token: "session",
    onFail: () => {
      throw new HubError(
        403,
        "This form has expired: reload the page and try again",
      );
    },
  });
  app.get("/spawn", spawn);
  app.get("/spawn/:user_name", spawn);
  app.get("/spawn/:user_name/:server_name", spawn);
  app.post("/spawn", spawnXsrf, spawnWithOptions);
  app.post("/spawn/:user_name", spawnXsrf, spawnWithOptions);
  app.post("/spawn/:user_name/:server_name", spawnXsrf, spawnWithOptions);
  app.get("/spawn-pending/:user_name", pending);
  app.get("/spawn-pending/:user_name/:server_name", pending);
  app.all("/user/:user_name/*", (c) => userUrlRoute(c, site));
  app.get(
    "/user/:user_name",
    (c) =>
      c.redirect(
        serverPrefix(site.hub, {
          user: routeParam(c, "user_name"),
          server: "",
        }),
        302,
      ),
  );
  app.get("/user-redirect/*", (c) => userRedirectRoute(c, site));
  return app;
}
