/**
 * The hub's web app: `createHubApp(deps)` mounts the middleware, the API
 * and the pages on one hono app over parts it is given; it builds none
 * (hub/mod.ts's `buildParts()` does, and runs it).
 *
 * A request's path through the hub:
 * 1. (Later: the proxy matches `/user/<name>/…` routes; everything else
 *    falls back to this app.)
 * 2. Every response gets `X-JupyterHub-Version` and security headers.
 * 3. The identity middleware resolves a token or login cookie into
 *    `c.var.identity` and enforces the cookie cross-site rules on the API.
 * 4. API routes check their declared scopes (`needs(...)`), pages check the
 *    login.
 * 5. The route answers JSON (API) or HTML from templates/ (pages).
 * 6. Errors become `{"status", "message"}` JSON on the API and an error page
 *    elsewhere, in `onError` below; never a bare 500 for bad input.
 *
 * Imports: everything in hub/ except cli/ and mod.ts, plus templates/mod.ts.
 * Tests: tests/hub/app_test.ts and the API tests.
 *
 * @module
 */
import { Hono } from "hono";
import type { Context, MiddlewareHandler } from "hono";
import { errorPage, LOGO_SVG } from "../templates/mod.ts";
import type { HubConfig } from "./config/mod.ts";
import type { Db } from "./db/mod.ts";
import type { Authenticator } from "./auth/mod.ts";
import { importXsrfKey } from "./auth/xsrf.ts";
import type { LoginThrottle } from "./auth/login_throttle.ts";
import { type AcmeChallenges, CHALLENGE_PREFIX } from "./https/acme/mod.ts";
import { HubError, reasonPhrase } from "./errors.ts";
import { isUserHost } from "./servers/urls.ts";
import type { Logger } from "./observe/log.ts";
import {
  apiCookieRules,
  type HubEnv,
  identityMiddleware,
} from "./middleware/identity.ts";
import {
  bodyLimit,
  bodyLimitFor,
  bodyTooLarge,
} from "./middleware/body_limit.ts";
import { clientMiddleware } from "./middleware/client.ts";
import { createApi } from "./api/mod.ts";
import { createLoginPages } from "./pages/login.ts";
import { createOAuthLoginPages } from "./pages/oauth_login.ts";
import type { AuthStateBox } from "./auth/auth_state.ts";
import type { OAuthSignIn } from "./auth/oauth/signin.ts";
import { createHomePages } from "./pages/home.ts";
import { createTokenPages } from "./pages/token.ts";
import { createAdminPages } from "./pages/admin.ts";
import { createStaticPages } from "./pages/static.ts";
import { createSharePages } from "./pages/share.ts";
import { API_CSP, pageCsp } from "./csp.ts";
import { HUB_API_VERSION } from "./version.ts";
import type { RouteService } from "./servers/routes.ts";
import type { ServerManager } from "./servers/manager.ts";
import { createSpawnPages } from "./pages/spawn.ts";
import { createOAuthProvider } from "./oauth_provider/mod.ts";
import { routePath } from "hono/route";
import type { EventLog } from "./observe/events.ts";
import type { HubMetrics } from "./observe/metrics.ts";
import type { Announcement } from "./announcement.ts";
import { metricsRoute } from "./api/metrics.ts";
import type { ShutdownRequest } from "./api/shutdown.ts";
import type { IdleCuller } from "./servers/culler.ts";
import type { ServiceManager } from "./services/mod.ts";
import type { CourseFiles } from "./servers/course_files.ts";

/**
 * Every part the app uses. hub/mod.ts's `buildParts()` builds them all (it
 * is the one place that does); nothing here has a default. A `null` part
 * is one this hub runs without.
 */
export interface HubAppDeps {
  config: HubConfig;
  db: Db;
  authenticator: Authenticator;
  logger: Logger;
  /** 32+ random bytes; signs XSRF tokens. */
  cookieSecret: Uint8Array;
  /**
   * What onehub's proxy sends as `X-Onehub-Proxy`: only requests showing it
   * (or, with `proxy.mode: external`, from a `proxy.trusted_proxies` peer)
   * have their `X-Forwarded-*` believed (middleware/client.ts). Null: none
   * believed but trusted external peers.
   */
  forwardedProof: string | null;
  /** The hub's clock. */
  now: () => Date;
  /** The proxy's routes (null: a hub without a proxy, the API alone in tests). */
  routes: RouteService | null;
  /** Starts and stops servers (null: a hub without a spawner). */
  servers: ServerManager | null;
  /** Failed-login throttle (`auth.throttle`). */
  throttle: LoginThrottle;
  /** Let's Encrypt http-01 answers to serve (null: ACME off). */
  acmeChallenges: AcmeChallenges | null;
  events: EventLog;
  metrics: HubMetrics;
  /** The idle culler, whose last pass the admin page shows (null: no spawner). */
  culler: IdleCuller | null;
  /** The configured services (`services.list`). */
  services: ServiceManager;
  /** Course files (the admin page's "Update course files"). */
  courseFiles: CourseFiles;
  /** What `POST /hub/api/shutdown` calls (null: no runner can stop this hub; that answers 503). */
  requestShutdown: ((request: ShutdownRequest) => void) | null;
  /** Seals users' auth state. */
  authState: AuthStateBox;
  /** Sign-in with the `auth.oauth` provider (null: auth.oauth off). */
  oauthSignIn: OAuthSignIn | null;
  /** The banner every page shows. */
  announcement: Announcement;
}

/** The built app. */
export interface HubApp {
  app: Hono<HubEnv>;
  /** The request handler for `Deno.serve`. */
  fetch: (
    request: Request,
    info?: Deno.ServeHandlerInfo,
  ) => Response | Promise<Response>;
}

/** The paths the app tells apart. */
interface Paths {
  hub: string;
  api: string;
  isApi: (path: string) => boolean;
}

function pathsOf(config: HubConfig): Paths {
  const hub = `${config.baseUrl}hub`;
  const api = `${hub}/api`;
  return {
    hub,
    api,
    isApi: (path) => path === api || path.startsWith(api + "/"),
  };
}

/** Step 1: security and version headers on every answer; errors as JSON or pages. */
const KNOWN_METHODS = new Set([
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "PATCH",
  "DELETE",
  "OPTIONS",
]);

function useResponseRules(
  app: Hono<HubEnv>,
  paths: Paths,
  options: HubAppDeps,
): void {
  const { isApi } = paths;
  const { config, logger, metrics } = options;
  const pageRules = pageCsp(config.subdomainHost);
  app.use("*", async (c, next) => {
    const done = metrics.requestDuration.time();
    await next();
    done({
      method: KNOWN_METHODS.has(c.req.method) ? c.req.method : "other",
      handler: routePath(c),
      code: String(c.res.status),
    });
    c.res.headers.set("X-JupyterHub-Version", HUB_API_VERSION);
    c.res.headers.set("X-Content-Type-Options", "nosniff");
    c.res.headers.set("Referrer-Policy", "same-origin");
    if (!c.res.headers.has("Content-Security-Policy")) {
      c.res.headers.set(
        "Content-Security-Policy",
        isApi(c.req.path) ? API_CSP : pageRules,
      );
    }
    if (isApi(c.req.path)) {
      c.res.headers.set(
        "Access-Control-Allow-Headers",
        "accept, content-type, authorization",
      );
      c.res.headers.set("Cache-Control", "no-store");
    }
  });
  const rules = { isApi, logger, baseUrl: config.baseUrl };
  app.onError((error, c) => errorResponse(c, error, rules));
  app.notFound((c) => errorResponse(c, new HubError(404), rules));
}

/** Step 2: what every request passes before a route: URL decoding, the body limit, the identity. */
function useRequestRules(
  app: Hono<HubEnv>,
  options: HubAppDeps,
  xsrfKey: CryptoKey,
): void {
  const { config, db, now } = options;
  app.use(
    "*",
    clientMiddleware({
      proof: options.forwardedProof,
      trustedProxies: () => config.proxy.trustedProxies,
      believePeers: config.proxy.mode === "external",
    }),
  );
  // hono hands an undecodable path parameter (`/users/%E0%A4%A`) to routes
  // as raw text; refuse such URLs before a name can be made from one.
  app.use("*", async (c, next) => {
    if (!isDecodable(new URL(c.req.url).pathname)) {
      throw new HubError(
        400,
        "Malformed percent-encoding in the URL: encode names as UTF-8, then percent-encode each byte",
      );
    }
    await next();
  });
  if (config.subdomainHost) app.use("*", hubHostOnly(config));
  // Before anything reads a body: JSON on the API, forms everywhere else.
  app.use("*", bodyLimit({ maxBytes: (path) => bodyLimitFor(config, path) }));
  app.use(
    "*",
    identityMiddleware({ db, xsrfKey, now }, {
      cookieRulesApply: apiCookieRules(config.baseUrl),
    }),
  );
}

/**
 * With `subdomain_host`, the hub answers on its own host only: a request
 * that reached it on a user's host (`alice.hub.example.org`: a server not
 * running, or a hub path typed there) is sent to the same path on the hub's
 * host (GET/HEAD) or refused, so no hub page, form or cookie ever lives in
 * a user's origin. ACME challenges for the users' names still pass.
 */
function hubHostOnly(config: HubConfig): MiddlewareHandler<HubEnv> {
  return async (c, next) => {
    const url = new URL(c.req.url);
    const host = c.req.header("host") ?? url.host;
    if (
      !isUserHost(config, host) || url.pathname.startsWith(CHALLENGE_PREFIX)
    ) return await next();
    if (c.req.method !== "GET" && c.req.method !== "HEAD") {
      throw new HubError(
        404,
        `Nothing is served here: ${host} is a user's server that is not running; the hub is at ${config.subdomainHost}`,
      );
    }
    return c.redirect(config.subdomainHost + url.pathname + url.search, 302);
  };
}

/** Step 3: the REST API, the OAuth provider, health and the ACME answers. */
function mountApi(
  app: Hono<HubEnv>,
  paths: Paths,
  options: HubAppDeps,
): void {
  const { config, db, logger, events, metrics, now } = options;
  const { services } = options;
  const metricsDeps = {
    db,
    config,
    metrics,
    now,
    services: () => services.up(),
  };
  for (const path of [`${paths.hub}/metrics`, `${paths.api}/metrics`]) {
    app.get(path, (c) => metricsRoute(c, metricsDeps));
  }
  const api = createApi({
    db,
    config,
    authenticator: options.authenticator,
    logger,
    events,
    now,
    authState: options.authState,
    version: HUB_API_VERSION,
    ...(options.requestShutdown
      ? { requestShutdown: options.requestShutdown }
      : {}),
    services,
    ...(options.routes ? { routes: options.routes } : {}),
    ...(options.servers ? { servers: options.servers } : {}),
  });
  // Before the API: its catch-all 404 would answer the OAuth paths otherwise.
  app.route(
    `${paths.api}/oauth2`,
    createOAuthProvider({
      db,
      config,
      logger,
      now,
      serviceOfClient: (id: string) => services.serviceOfClient(id),
    }),
  );
  app.route(paths.api, api);
  app.on(["GET", "HEAD"], `${paths.hub}/health`, (c) => c.body(null, 200));
  const challenges = options.acmeChallenges;
  if (challenges) {
    // http-01 is fetched at the site's root, whatever base_url is.
    app.get(`${CHALLENGE_PREFIX}:token`, (c) => {
      const answer = challenges.answer(c.req.path);
      return answer === null
        ? c.text("No such challenge", 404)
        : c.text(answer, 200);
    });
  }
}

/** The admin page and its JSON. */
function adminPages(options: HubAppDeps) {
  const { servers, culler } = options;
  return createAdminPages({
    db: options.db,
    config: options.config,
    announcement: options.announcement,
    events: options.events,
    courseFiles: options.courseFiles,
    ...(servers ? { servers } : {}),
    ...(culler ? { culler } : {}),
    services: () => options.services.status(),
  });
}

/** Step 4: the pages: login, home, token, admin, static files and (with a spawner) spawning. */
function mountPages(
  app: Hono<HubEnv>,
  paths: Paths,
  options: HubAppDeps,
): void {
  const { config, db, logger, servers, now } = options;
  const hubPrefix = paths.hub;
  app.get(`${hubPrefix}/logo`, (c) =>
    c.body(LOGO_SVG, 200, {
      "Content-Type": "image/svg+xml",
      "Cache-Control": "max-age=86400",
    }));
  const loginDeps = {
    db,
    config,
    authenticator: options.authenticator,
    logger,
    events: options.events,
    now,
    throttle: options.throttle,
    defaultNext: servers ? `${hubPrefix}/spawn` : `${hubPrefix}/home`,
    announcement: options.announcement,
    ...(servers ? { servers } : {}),
  };
  app.route(hubPrefix, createLoginPages(loginDeps));
  if (options.oauthSignIn) {
    app.route(
      hubPrefix,
      createOAuthLoginPages(loginDeps, options.oauthSignIn),
    );
  }
  app.route(hubPrefix, createStaticPages());
  app.route(
    hubPrefix,
    createSharePages({ db, config, events: options.events, now }),
  );
  app.route(
    hubPrefix,
    createHomePages({
      config,
      announcement: options.announcement,
      services: options.services,
    }),
  );
  app.route(hubPrefix, createTokenPages({ config }));
  app.route(hubPrefix, adminPages(options));
  if (servers) {
    app.route(hubPrefix, createSpawnPages({ db, config, servers, logger }));
    mountUnroutedServers(app, paths, config);
  }
}

/** A request for a server that is not routed reached the hub: send it into the hub's prefix. */
function mountUnroutedServers(
  app: Hono<HubEnv>,
  paths: Paths,
  config: HubConfig,
): void {
  app.all(`${config.baseUrl}user/*`, (c) => {
    if (c.req.method !== "GET" && c.req.method !== "HEAD") {
      throw new HubError(
        405,
        "This server is not running: start it from your home page",
      );
    }
    const url = new URL(c.req.url);
    return c.redirect(
      `${paths.hub}${
        url.pathname.slice(config.baseUrl.length - 1)
      }${url.search}`,
      302,
    );
  });
}

/** Step 5: the bare prefixes go to the home page. */
function mountRootRedirects(
  app: Hono<HubEnv>,
  paths: Paths,
  config: HubConfig,
): void {
  app.get(paths.hub, (c) => c.redirect(`${paths.hub}/home`, 302));
  app.get(`${paths.hub}/`, (c) => c.redirect(`${paths.hub}/home`, 302));
  if (config.baseUrl !== "/") {
    app.get(
      config.baseUrl.replace(/\/$/, ""),
      (c) => c.redirect(`${paths.hub}/`, 302),
    );
  }
  app.get(config.baseUrl, (c) => c.redirect(`${paths.hub}/`, 302));
}

/** Builds the hub app: the steps above, in order. */
export async function createHubApp(deps: HubAppDeps): Promise<HubApp> {
  await deps.announcement.load();
  const xsrfKey = await importXsrfKey(deps.cookieSecret);
  const paths = pathsOf(deps.config);
  const app = new Hono<HubEnv>({ strict: false });
  useResponseRules(app, paths, deps);
  useRequestRules(app, deps, xsrfKey);
  mountApi(app, paths, deps);
  mountPages(app, paths, deps);
  mountRootRedirects(app, paths, deps.config);
  return {
    app,
    fetch: (request, info) =>
      app.fetch(request, info ? { remoteAddr: info.remoteAddr } : {}),
  };
}

/** Whether a URL path percent-decodes to valid UTF-8. */
function isDecodable(path: string): boolean {
  try {
    decodeURIComponent(path);
    return true;
  } catch {
    return false;
  }
}

function errorResponse(
  c: Context<HubEnv>,
  error: Error,
  options: {
    isApi: (path: string) => boolean;
    logger: Logger;
    baseUrl: string;
  },
): Response | Promise<Response> {
  let status = 500;
  let message = "Internal Server Error";
  let headers: Record<string, string> = {};
  if (error instanceof HubError) {
    status = error.status;
    message = error.message;
    headers = error.headers;
  } else if (error instanceof URIError) {
    status = 400;
    message = "Malformed percent-encoding in the URL";
  } else {
    options.logger.error("unhandled error", {
      method: c.req.method,
      path: c.req.path,
      error: error.stack ?? error,
    });
  }
  for (const [k, v] of Object.entries(headers)) c.header(k, v);
  // deno-lint-ignore no-explicit-any
  const code = status as any;
  if (options.isApi(c.req.path)) {
    return c.json({ status, message: message || reasonPhrase(status) }, code);
  }
  const identity = c.get("identity") ?? null;
  return c.html(
    errorPage({
      baseUrl: options.baseUrl,
      user: identity?.name ?? null,
      status,
      message,
    }),
    code,
  );
}

/**
 * The built-in proxy's check before it relays to the hub: a declared body
 * over the path's limit gets the hub's own 413 (JSON on the API, the error
 * page elsewhere) from the proxy, so a client sending `Expect:
 * 100-continue` is refused before `100 Continue` (Deno's server would send
 * that before the hub could look at the request).
 */
export function refuseOversizedBody(
  config: HubConfig,
): (
  request: { path: string; contentLength: number | null },
  route: { data: Record<string, unknown> },
) => { status: number; contentType: string; body: string } | null {
  const { isApi } = pathsOf(config);
  return (request, route) => {
    const max = bodyLimitFor(config, request.path);
    if (
      route.data.hub !== true || request.contentLength === null ||
      request.contentLength <= max
    ) return null;
    const { status, message } = bodyTooLarge(max);
    if (isApi(request.path)) {
      return {
        status,
        contentType: "application/json",
        body: JSON.stringify({ status, message }),
      };
    }
    return {
      status,
      contentType: "text/html; charset=utf-8",
      body: String(
        errorPage({ baseUrl: config.baseUrl, user: null, status, message }),
      ),
    };
  };
}

/**
 * Error pages for the proxy (no route, server down, timeout), rendered from
 * templates/ with advice for people who hit a stopped server.
 */
export function renderProxyError(
  config: HubConfig,
): (
  status: number,
  request: { method: string; path: string },
) => { contentType: string; body: string } {
  const messages: Record<number, string> = {
    403: "Your access to this server has ended",
    404: "Nothing is served at this address",
    502: "The server behind this address sent an invalid answer",
    503: "This server is not running or not answering",
    504: "This server did not answer in time",
  };
  return (status) => ({
    contentType: "text/html; charset=utf-8",
    body: String(
      errorPage({
        baseUrl: config.baseUrl,
        user: null,
        status,
        message: messages[status] ?? "The request failed",
      }),
    ),
  });
}
