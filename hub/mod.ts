/**
 * The composition root: `createHub(options)` builds every part of a hub
 * from its config (the proxy or the control of an external one, the route
 * table, the spawner and server manager, the web app) and returns them with
 * `start()` and `stop()`; `startHub(options)` builds and starts one (what
 * `onehub serve` runs). `buildParts(options)` is the one place that
 * constructs parts: `createHub` and the tests' hubs both come from it.
 *
 * `start()`, in order: the app listens on `hub.ip:hub.port` (what
 * single-user servers call), the proxy gets the hub as its `/` route, the
 * stored routes are synced, live servers are re-adopted and polled, the
 * public listeners open (plain HTTP, or HTTPS with files or Let's Encrypt),
 * and proxy activity is pulled into the database every
 * `proxy.activity_interval`.
 *
 * A request's path: the proxy matches `/user/<name>/…` routes and sends the
 * rest to the app (hub/app.ts, whose header follows it further).
 *
 * @module
 */
import { listUserNames } from "./db/users.ts";
import { userHost } from "./servers/urls.ts";
import { createProxy, hubProofFromToken, type Proxy } from "../proxy/mod.ts";
import { newSecret } from "./secrets.ts";
import { createSpawner, type Spawner } from "../spawners/mod.ts";
import { type HubConfig, lingerLimits, oauthOn } from "./config/mod.ts";
import { ConfigError } from "./errors.ts";
import type { Logger } from "./observe/log.ts";
import type { Db } from "./db/mod.ts";
import type { Authenticator } from "./auth/mod.ts";
import {
  inProcessControl,
  type ProxyControl,
  remoteControl,
  RouteService,
} from "./servers/routes.ts";
import { pullActivity } from "./servers/activity.ts";
import {
  createHubApp,
  type HubApp,
  type HubAppDeps,
  refuseOversizedBody,
  renderProxyError,
} from "./app.ts";
import { EventLog } from "./observe/events.ts";
import { LoginThrottle } from "./auth/login_throttle.ts";
import { Announcement } from "./announcement.ts";
import { HubMetrics } from "./observe/metrics.ts";
import type { ShutdownRequest } from "./api/shutdown.ts";
import { IdleCuller } from "./servers/culler.ts";
import { ServiceManager } from "./services/mod.ts";
import { syncConfigAccess } from "./config/access.ts";
import { CourseFiles } from "./servers/course_files.ts";
import { ServerManager } from "./servers/manager.ts";
import {
  type AuthStateBox,
  authStateBoxFromSecret,
} from "./auth/auth_state.ts";
import { OAuthSignIn } from "./auth/oauth/signin.ts";
import { setHubPriority } from "./priority.ts";
import { AcmeChallenges } from "./https/acme/mod.ts";
import {
  listenPublic,
  type PublicListeners,
  urlOf,
} from "./https/listeners.ts";

/** What {@linkcode createHub} needs. */
export interface HubOptions {
  config: HubConfig;
  db: Db;
  authenticator: Authenticator;
  logger: Logger;
  cookieSecret: Uint8Array;
  /** The external proxy's token when config has none. @default {$CONFIGPROXY_AUTH_TOKEN} */
  proxyToken?: string;
  /** The spawner (tests may pass a fake). @default {createSpawner(config.spawner.type)} */
  spawner?: Spawner;
  /** The readiness check of servers (with a fake spawner, the fake's). @default {an HTTP GET} */
  isReady?: (url: string) => Promise<boolean>;
  /** The machine's available memory, checked before each spawn (tests fake it). @default {MemAvailable of /proc/meminfo} */
  memAvailable?: () => Promise<number | null>;
  /** This hub's instance id: only its own servers are adopted. @default {""} */
  instanceId?: string;
  /** How often a Let's Encrypt certificate is checked for renewal. @default {12 h} */
  acmeRenewCheckMs?: number;
  /** Seals users' auth state (`onehub serve` loads its key). @default {keyed from cookieSecret} */
  authState?: AuthStateBox;
  /** The hub's clock: every timestamp it writes (tests fix it). @default {the system clock} */
  now?: () => Date;
}

/** Where a started hub answers. */
export interface HubUrls {
  /** Where people connect, e.g. "http://127.0.0.1:8000/" (the proxy's listener). */
  publicUrl: string;
  /** The hub's own listener, e.g. "http://127.0.0.1:8081". */
  hubUrl: string;
}

/** Every part of a hub, built and not yet listening. */
export interface Hub extends HubApp {
  /** The built-in proxy, or null in external mode. */
  proxy: Proxy | null;
  routes: RouteService;
  servers: ServerManager;
  events: EventLog;
  metrics: HubMetrics;
  /** The built-in idle culler (runs while `services.cull.enabled`). */
  culler: IdleCuller;
  /** The configured services (`services.list`). */
  services: ServiceManager;
  /** Resolves when `POST /hub/api/shutdown` asked the hub to stop (the runner then calls `stop()`). */
  shutdownRequested: Promise<void>;
  /** Listens, restores routes and servers, starts the periodic work. */
  start(): Promise<HubUrls>;
  /** Stops servers (when `spawner.stop_on_shutdown`), the timers and every listener. */
  stop(): Promise<void>;
}

/** Every user's host under `subdomain_host` (their certificate names). */
async function userHostNames(db: Db, config: HubConfig): Promise<string[]> {
  return (await listUserNames(db)).map((name) => userHost(config, name));
}

/** The built-in proxy's public listeners (HTTP, HTTPS, Let's Encrypt). */
function openPublic(
  proxy: Proxy,
  options: HubOptions,
  challenges: AcmeChallenges | null,
): Promise<PublicListeners> {
  const { config, logger, db } = options;
  const renew = options.acmeRenewCheckMs;
  return listenPublic({
    config,
    proxy,
    logger,
    ...(challenges ? { challenges } : {}),
    ...(renew ? { acmeRenewCheckMs: renew } : {}),
    ...(config.subdomainHost
      ? { moreDomains: () => userHostNames(db, config) }
      : {}),
  });
}

/** The built-in proxy, or null with `proxy.mode: external`. */
function builtinProxy(
  config: HubConfig,
  logger: Logger,
  hubProof: string,
): Proxy | null {
  if (config.proxy.mode !== "builtin") return null;
  return createProxy({
    hubProof,
    renderError: renderProxyError(config),
    refuse: refuseOversizedBody(config),
    connectTimeoutMs: config.proxy.connectTimeoutSeconds * 1000,
    trustedProxies: config.proxy.trustedProxies,
    hostRouting: config.subdomainHost !== "",
    linger: lingerLimits(config),
    logger,
    ...(config.https.hsts ? { hstsMaxAge: config.https.hstsMaxAge } : {}),
  });
}

/** The external proxy's token (`proxy.auth_token`, or $CONFIGPROXY_AUTH_TOKEN), or "". */
function externalProxyToken(options: HubOptions): string {
  return options.config.proxy.authToken || options.proxyToken ||
    Deno.env.get("CONFIGPROXY_AUTH_TOKEN") || "";
}

/**
 * The proof onehub's proxy shows the hub (middleware/client.ts): a fresh
 * secret per start for the built-in one, derived from the shared token for
 * an external `onehub proxy` (null without a token).
 */
async function forwardedProof(options: HubOptions): Promise<string | null> {
  if (options.config.proxy.mode === "builtin") return newSecret();
  const token = externalProxyToken(options);
  return token ? await hubProofFromToken(token) : null;
}

/** How routes reach the proxy: in process, or the external proxy's REST API. */
function proxyControl(options: HubOptions, proxy: Proxy | null): ProxyControl {
  if (proxy) return inProcessControl(proxy);
  const { config } = options;
  const token = externalProxyToken(options);
  if (!token) {
    throw new ConfigError(
      'proxy.mode is "external" but no proxy token is set: set proxy.auth_token or CONFIGPROXY_AUTH_TOKEN to the token the proxy was started with',
    );
  }
  return remoteControl({ apiUrl: config.proxy.apiUrl, token });
}

/** Serves the app on `hub.ip:hub.port`; resolves with its URL once it listens. */
async function listenHub(hub: HubApp, config: HubConfig, logger: Logger) {
  const controller = new AbortController();
  const listening = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve({
    hostname: config.hub.ip,
    port: config.hub.port,
    signal: controller.signal,
    onListen: (addr) => listening.resolve(addr as Deno.NetAddr),
    onError: (error) => {
      logger.error("hub request failed", {
        error: (error as Error).stack ?? error,
      });
      return new Response("Internal Server Error", { status: 500 });
    },
  }, hub.fetch);
  const addr = await listening.promise;
  return {
    url: urlOf("http", addr),
    close: async () => {
      controller.abort();
      await server.finished;
    },
  };
}

/** The proxy's `/` route to the hub, the stored routes, and the servers still alive. */
async function restoreState(
  control: ProxyControl,
  routes: RouteService,
  servers: ServerManager,
  hubUrl: string,
  logger: Logger,
  metrics: HubMetrics,
): Promise<void> {
  await control.add("/", hubUrl, { hub: true });
  const routesTimer = metrics.checkRoutes.time();
  const synced = await routes.sync(new Set(["/"]));
  routesTimer();
  if (synced.added.length || synced.removed.length) {
    logger.info("proxy routes restored", {
      added: synced.added.length,
      removed: synced.removed.length,
    });
  }
  const spawnersTimer = metrics.initSpawners.time();
  const adopted = await servers.reconcile();
  spawnersTimer();
  if (adopted.kept.length || adopted.cleaned.length) {
    logger.info("servers re-adopted", {
      kept: adopted.kept.join(",") || "none",
      cleaned: adopted.cleaned.join(",") || "none",
    });
  }
}

/** Pulls the proxy's activity into the database every `seconds` (JupyterHub's last_activity_interval). */
function pullActivityEvery(
  seconds: number,
  db: Db,
  routes: RouteService,
  logger: Logger,
  metrics: HubMetrics,
): ReturnType<typeof setInterval> {
  const timer = setInterval(() => {
    const done = metrics.proxyPoll.time();
    pullActivity(db, routes).then(() => done()).catch((error) =>
      logger.warn("could not pull proxy activity", {
        error: (error as Error).message,
      })
    );
  }, seconds * 1000);
  Deno.unrefTimer(timer);
  return timer;
}

/** What `POST /hub/api/shutdown` flips: the runner waits on `requested`, `stop()` reads `stopServers`. */
function shutdownSwitch(config: HubConfig, events: EventLog) {
  const shutdown = {
    requested: Promise.withResolvers<void>(),
    stopServers: undefined as boolean | undefined,
  };
  const requestShutdown = (request: ShutdownRequest) => {
    if (request.servers !== undefined) shutdown.stopServers = request.servers;
    events.record("hub.shutdown", {
      actor: request.actor,
      reason: "POST /hub/api/shutdown",
      servers: shutdown.stopServers ?? config.spawner.stopOnShutdown,
    });
    // The 202 still has to travel back through the proxy, whose connections
    // close at stop: give it a moment first (JupyterHub answers, then stops).
    const later = setTimeout(() => shutdown.requested.resolve(), 250);
    Deno.unrefTimer(later);
  };
  return { shutdown, requestShutdown };
}

/** The local spawner cannot enforce limits: say so once at start when some are set. */
function warnUnenforcedLimits(config: HubConfig, logger: Logger): void {
  if (config.spawner.type !== "local") return;
  const set = [
    config.limits.memoryBytes !== null && "limits.memory",
    config.limits.cpu !== null && "limits.cpu",
    config.limits.tasks > 0 && "limits.tasks",
    Object.keys(config.limits.groups).length > 0 && "limits.groups",
    config.profiles.some((p) => Object.keys(p.limits).length) &&
    "profiles' limits",
  ].filter(Boolean);
  if (set.length) {
    logger.warn(
      "limits are NOT enforced by the local spawner: set spawner.type systemd to enforce them",
      { configured: set.join(",") },
    );
  }
}

/** Starts the services, then applies the config's roles again: the services now have rows to assign roles to. */
async function startServices(
  services: ServiceManager,
  db: Db,
  config: HubConfig,
  logger: Logger,
): Promise<void> {
  await services.start();
  await syncConfigAccess(db, config, { logger });
}

/** The auth state box and, when `auth.oauth` is on, the provider sign-in. */
function signInParts(
  options: HubOptions,
  parts: { events: EventLog; now: () => Date },
) {
  const { config, db } = options;
  const authState = options.authState ??
    authStateBoxFromSecret(options.cookieSecret);
  const oauthSignIn = oauthOn(config)
    ? new OAuthSignIn({ db, config, authState, ...parts })
    : null;
  return { authState, oauthSignIn };
}

/** The proxy side: the built-in proxy (or none), how routes reach it, the proof it shows the hub. */
async function proxyParts(options: HubOptions) {
  const proof = await forwardedProof(options);
  const proxy = builtinProxy(options.config, options.logger, proof ?? "");
  const control = proxyControl(options, proxy);
  return {
    proof,
    proxy,
    control,
    routes: new RouteService(options.db, control),
  };
}

/** A new event log for the hub's database, kept as `events.*` says (read at each prune). */
export function eventLogFor(
  db: Db,
  config: HubConfig,
  logger: Logger,
): EventLog {
  return new EventLog({
    db,
    logger,
    retentionDays: () => config.events.retentionDays,
    maxRows: () => config.events.maxRows,
  });
}

/** The failed-login throttle `auth.throttle.*` describes. */
export function throttleFromConfig(
  config: HubConfig,
  logger: Logger,
): LoginThrottle {
  const t = config.auth.throttle;
  return new LoginThrottle({
    enabled: t.enabled,
    addressFailures: t.addressFailures,
    userFailures: t.userFailures,
    userHardLimit: t.userHardLimit,
    baseDelayMs: t.baseDelaySeconds * 1000,
    maxDelayMs: t.maxDelaySeconds * 1000,
    windowMs: t.windowSeconds * 1000,
    logger,
  });
}

/** What every part shares: the clock, the event log, the metrics, the hub API's URL (known once it listens). */
function sharedParts(options: HubOptions) {
  const { config, logger, db } = options;
  return {
    now: options.now ?? (() => new Date()),
    events: eventLogFor(db, config, logger),
    metrics: new HubMetrics(),
    // Known once the hub listens; servers started before that never exist.
    hubApi: { url: "" },
  };
}

type SharedParts = ReturnType<typeof sharedParts>;

/** The server side: the manager, the idle culler, the course files. */
function serverParts(
  options: HubOptions,
  shared: SharedParts & {
    routes: RouteService;
    oauthSignIn: OAuthSignIn | null;
  },
) {
  const { config, logger, db } = options;
  const { events, metrics, now, hubApi, routes, oauthSignIn } = shared;
  const courseFiles = new CourseFiles({ config, logger, events });
  const servers = new ServerManager({
    db,
    config,
    routes,
    spawner: options.spawner ?? createSpawner(config.spawner.type),
    logger,
    events,
    metrics,
    now,
    courseFiles,
    hubApiUrl: () => hubApi.url,
    ...(oauthSignIn ? { beforeSpawn: oauthSignIn.beforeSpawn } : {}),
    ...(options.instanceId ? { instanceId: options.instanceId } : {}),
    ...(options.isReady ? { isReady: options.isReady } : {}),
    ...(options.memAvailable ? { memAvailable: options.memAvailable } : {}),
  });
  const culler = new IdleCuller({
    db,
    config,
    servers,
    events,
    metrics,
    logger,
    now,
    refreshActivity: () => pullActivity(db, routes),
  });
  return { courseFiles, servers, culler };
}

/** Let's Encrypt's http-01 answers, when ACME is on. */
function acmeChallenges(config: HubConfig): AcmeChallenges | null {
  const on = config.https.enabled && config.https.letsencrypt.domains.length;
  return on ? new AcmeChallenges() : null;
}

/** Every part of a hub, wired to each other, not yet listening. */
export type HubParts = Awaited<ReturnType<typeof buildParts>>;

/**
 * The composition root: the only code that constructs the hub's parts
 * (proxy, routes, event log, metrics, sign-in, server manager, culler,
 * services, the app). `createHub` runs what it returns; tests call it with
 * a fake spawner and a fixed clock, so they run the real wiring.
 */
export async function buildParts(options: HubOptions) {
  const { config, logger, db } = options;
  const shared = sharedParts(options);
  const { events, metrics, now, hubApi } = shared;
  const { proof, proxy, control, routes } = await proxyParts(options);
  const { shutdown, requestShutdown } = shutdownSwitch(config, events);
  const { authState, oauthSignIn } = signInParts(options, { events, now });
  const { courseFiles, servers, culler } = serverParts(options, {
    ...shared,
    routes,
    oauthSignIn,
  });
  const services = new ServiceManager({
    ...{ db, config, logger, events, metrics, routes },
    hubApiUrl: () => hubApi.url,
  });
  const challenges = acmeChallenges(config);
  const appDeps: HubAppDeps = {
    config,
    db,
    authenticator: options.authenticator,
    logger,
    cookieSecret: options.cookieSecret,
    forwardedProof: proof,
    now,
    routes,
    servers,
    throttle: throttleFromConfig(config, logger),
    acmeChallenges: challenges,
    events,
    metrics,
    culler,
    services,
    courseFiles,
    requestShutdown,
    authState,
    oauthSignIn,
    announcement: new Announcement(config, db),
  };
  const app = await createHubApp(appDeps);
  return {
    proxy,
    control,
    routes,
    servers,
    challenges,
    app,
    appDeps,
    hubApi,
    events,
    metrics,
    shutdown,
    culler,
    services,
  };
}

/** What a started hub holds open, closed in order: public side first, then the proxy's connections, then the hub (its requests can finish). */
class OpenListeners {
  hub: Awaited<ReturnType<typeof listenHub>> | null = null;
  public: PublicListeners | null = null;
  activityTimer: ReturnType<typeof setInterval> | undefined;
  readonly #proxy: Proxy | null;

  constructor(proxy: Proxy | null) {
    this.#proxy = proxy;
  }

  async close(): Promise<void> {
    clearInterval(this.activityTimer);
    await this.public?.close();
    this.public = null;
    this.#proxy?.close();
    await this.hub?.close();
    this.hub = null;
  }
}

/** `start()`: the app listens, the routes and servers come back, the services and public listeners start, then the timers. */
async function startParts(
  options: HubOptions,
  parts: HubParts,
  open: OpenListeners,
): Promise<HubUrls> {
  const { config, logger, db } = options;
  const { control, routes, servers, events, metrics, proxy } = parts;
  const startupTimer = metrics.startup.time();
  warnUnenforcedLimits(config, logger);
  events.startPruning();
  open.hub = await listenHub(parts.app, config, logger);
  const hubUrl = open.hub.url;
  parts.hubApi.url = `${hubUrl}${config.baseUrl}hub/api`;
  try {
    await restoreState(control, routes, servers, hubUrl, logger, metrics);
    servers.startPolling();
    await startServices(parts.services, db, config, logger);
    if (proxy) open.public = await openPublic(proxy, options, parts.challenges);
  } catch (error) {
    await open.close();
    await events.close();
    throw error;
  }
  const every = config.proxy.activityIntervalSeconds;
  open.activityTimer = pullActivityEvery(every, db, routes, logger, metrics);
  parts.culler.start();
  startupTimer();
  const origin = open.public?.origin ?? (config.publicUrl || hubUrl);
  return { publicUrl: `${origin}${config.baseUrl}`, hubUrl };
}

/** `stop()`: timers, culler and services, the servers (when `spawner.stop_on_shutdown` or the shutdown asked), the last activity, the listeners. */
async function stopParts(
  options: HubOptions,
  parts: HubParts,
  open: OpenListeners,
): Promise<void> {
  const { config, logger, db } = options;
  clearInterval(open.activityTimer);
  await parts.culler.stop();
  await parts.services.stop();
  const stopServers = parts.shutdown.stopServers ??
    config.spawner.stopOnShutdown;
  await parts.servers.shutdown(stopServers).catch((error) =>
    logger.warn("could not stop servers", { error: (error as Error).message })
  );
  await pullActivity(db, parts.routes).catch(() => 0);
  await open.close();
  await parts.events.close();
}

/** Builds a hub from its config; nothing listens until `start()`. */
export async function createHub(options: HubOptions): Promise<Hub> {
  const parts = await buildParts(options);
  const open = new OpenListeners(parts.proxy);
  return {
    ...parts.app,
    proxy: parts.proxy,
    routes: parts.routes,
    servers: parts.servers,
    events: parts.events,
    metrics: parts.metrics,
    culler: parts.culler,
    services: parts.services,
    shutdownRequested: parts.shutdown.requested.promise,
    start: () => startParts(options, parts, open),
    stop: () => stopParts(options, parts, open),
  };
}

/** A running hub, as `onehub serve` keeps it. */
export interface RunningHub extends HubUrls {
  /** The built-in proxy, or null in external mode. */
  proxy: Proxy | null;
  routes: RouteService;
  servers: ServerManager;
  /** Resolves when the API asked the hub to shut down. */
  shutdownRequested: Promise<void>;
  stop(): Promise<void>;
}

/** Builds and starts the hub (and its proxy); resolves once both listen. */
export async function startHub(options: HubOptions): Promise<RunningHub> {
  const priority = setHubPriority(options.config.hub.nice);
  options.logger.info("hub priority", { ...priority });
  const hub = await createHub(options);
  const urls = await hub.start();
  return {
    ...urls,
    proxy: hub.proxy,
    routes: hub.routes,
    servers: hub.servers,
    shutdownRequested: hub.shutdownRequested,
    stop: hub.stop,
  };
}
