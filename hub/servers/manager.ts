/**
 * Server lifecycle: the one place that starts, stops, watches and re-adopts
 * single-user servers (what jupyterhub keeps in `handlers/base.py` and
 * `user.py`). It is the sole caller of spawners/ and of proxy route changes
 * for servers.
 *
 * Spawn: concurrency limit → server token (`users:activity!user`,
 * `access:servers!server=u/s`) → OAuth client (secret = that token) →
 * environment → spawner → state saved at once (a SIGKILLed hub can find the
 * process again) → readiness (any answer below 500 from `{prefix}api`,
 * redirects not followed) → proxy route → ready. Every step is reported to
 * the progress stream; a failure undoes all of it and keeps the reason.
 *
 * @module
 */
import { httpAnswers } from "../net.ts";
import { sleep, withTimeout } from "../concurrency.ts";
import { roleDefinitions } from "../db/roles.ts";
import { BUILTIN_ROLES } from "../rbac/roles.ts";
import {
  ensureUser,
  freePort,
  lookupUser,
  type Spawner,
  SpawnError,
  type SpawnerState,
  type StartResult,
  type SystemUser,
  systemUsername,
  tailFile,
} from "../../spawners/mod.ts";
import type { HubConfig } from "../config/mod.ts";
import type { Db } from "../db/mod.ts";
import type { ServerRow, UserRow } from "../db/schema.ts";
import { deleteServerTokens, insertToken } from "../db/tokens.ts";
import {
  getServer,
  markServerStopped,
  recordSpawning,
  saveServerState,
  serversWithStatus,
  type ServerWithUser,
  setServerStatus,
} from "../db/servers.ts";

/** Who owns a server: all a stop or a clean-up needs of the user. */
export type ServerOwner = Pick<UserRow, "id" | "name">;

/** The owner of a server row read with its user's name (no second query). */
function ownerOf(row: ServerWithUser): ServerOwner {
  return { id: row.user_id, name: row.user_name };
}
import { clientIdFor, deleteClient, upsertServerClient } from "../db/oauth.ts";
import {
  serverPrefix,
  singleUserEnv,
  type SingleUserEnvInput,
} from "./single_user_env.ts";
import { type ServerLocation, serverLocation } from "./urls.ts";
import { hashSecret, newSecret, tokenPrefix } from "../secrets.ts";
import { HubError } from "../errors.ts";
import type { Logger } from "../observe/log.ts";
import { EventLog } from "../observe/events.ts";
import { HubMetrics } from "../observe/metrics.ts";
import { resolveSpawn, type SpawnChoice } from "./profiles.ts";
import { groupNamesByUser } from "../db/users.ts";
import type { CourseFiles } from "./course_files.ts";
import type { RouteService } from "./routes.ts";

/** One progress event (JupyterHub's REST API reference). */
export interface ProgressEvent {
  progress?: number;
  message: string;
  "html_message"?: string;
  ready?: boolean;
  failed?: boolean;
  url?: string;
}

/** Where a spawn stands. */
interface Pending {
  key: string;
  events: ProgressEvent[];
  listeners: Set<() => void>;
  done: Promise<void>;
  finished: boolean;
  /** Set by `stop` during the spawn: the spawn gives up at its next step. */
  cancelled: boolean;
  /** Date.now() when it was asked for. */
  requestedAt: number;
  /** Who asked (the event log's actor). */
  actor: string;
  /** The limits, URL and environment this start resolved to (profiles, group limits). */
  choice: SpawnChoice;
}

/** Dependencies of {@linkcode ServerManager}. */
export interface ServerManagerDeps {
  db: Db;
  config: HubConfig;
  routes: RouteService;
  spawner: Spawner;
  logger: Logger;
  /** The hub API URL servers call, e.g. "http://127.0.0.1:8081/hub/api" (known once the hub listens). */
  hubApiUrl: () => string;
  now?: () => Date;
  /** Readiness check (tests may replace it). @default {an HTTP GET without redirects} */
  isReady?: (url: string) => Promise<boolean>;
  /**
   * This hub's instance id (hub/db/hub_state.ts), recorded with every
   * server it starts; `reconcile` adopts only its own. @default {""}
   */
  instanceId?: string;
  /** Where spawns, stops and exits are recorded. @default {a log of `db`} */
  events?: EventLog;
  /** Spawn, stop and poll durations. @default {a private set} */
  metrics?: HubMetrics;
  /** Course files merged into the home before the server starts. */
  courseFiles?: CourseFiles;
  /**
   * Runs before a start is accepted (the sign-in's refresh, hub/auth/
   * oauth_signin.ts); what it returns is added to the server's environment.
   * A throw refuses the start.
   */
  beforeSpawn?: (user: UserRow) => Promise<Record<string, string>>;
}

/** Who asked for a stop, and why (the event log's actor and reason). */
export interface StopCause {
  actor: string | null;
  reason: string;
  /** The event kind. @default {"server.stop"} */
  kind?: string;
}

export { escapeName, serverPrefix } from "./single_user_env.ts";

/** A unit/log label for a server: `alice` or `alice-gpu`, reduced to `[a-z0-9._@-]`. */
export function spawnId(unixName: string, server: string): string {
  if (!server) return unixName;
  const safe = server.toLowerCase().replace(/[^a-z0-9._@-]/g, "-");
  if (safe === server) return `${unixName}-${server}`;
  // Different names could reduce to the same label: keep them apart with a short checksum.
  let h = 0;
  for (const ch of server) h = (h * 31 + ch.codePointAt(0)!) >>> 0;
  return `${unixName}-${safe}-${h.toString(16).padStart(8, "0").slice(0, 6)}`;
}

/**
 * The Linux account a hub user's servers run as (`spawner.user_prefix`),
 * made when `create` (`spawner.create_system_users`); refused below
 * `spawner.min_uid`. The one rule for whose account a hub user gets: spawns
 * and the course files' update both ask it.
 *
 * @throws {SpawnError} naming the account and the fix.
 */
export async function unixAccountOf(
  name: string,
  config: HubConfig,
  options: { create: boolean },
): Promise<SystemUser> {
  const unixName = systemUsername(name, config.spawner.userPrefix);
  let unix = await lookupUser(unixName);
  if (!unix && options.create) unix = await ensureUser(unixName);
  if (!unix) {
    throw new SpawnError(
      `No Linux account named "${unixName}" exists for ${name}: create it (useradd -m ${unixName}) or set spawner.create_system_users`,
    );
  }
  // A hub user named after a system account (an OAuth login "daemon", say) must not become it.
  if (unix.uid < config.spawner.minUid) {
    throw new SpawnError(
      `The Linux account "${unixName}" (uid ${unix.uid}) is a system account: servers never run as accounts below uid ${config.spawner.minUid} (spawner.min_uid); give hub users accounts of their own with spawner.user_prefix and spawner.create_system_users`,
    );
  }
  return unix;
}

/** Scopes with a bare `!server` filter made `!server=<user>/<server>` (the server they are for). */
export function fillServerFilter(
  scopes: readonly string[],
  user: string,
  server: string,
): string[] {
  return scopes.map((s) => s.replace(/!server$/, `!server=${user}/${server}`));
}

/**
 * The spawner settings of a server's environment, as JupyterHub's
 * Spawner.get_env uses them: env_keep from the hub's own environment,
 * the limits (MEM_LIMIT, CPU_LIMIT), notebook_dir, debug,
 * disable_user_config, then spawner.environment with the chosen
 * profile's over it.
 */
export function spawnSettings(
  config: HubConfig,
  user: string,
  choice: SpawnChoice,
  server = "",
): Partial<SingleUserEnvInput> {
  const kept: Record<string, string> = {};
  for (const name of config.spawner.envKeep) {
    const value = Deno.env.get(name);
    if (value !== undefined) kept[name] = value;
  }
  const { notebookDir, debug, disableUserConfig } = config.spawner;
  return {
    kept,
    clientAllowedScopes: fillServerFilter(
      config.spawner.oauthClientAllowedScopes,
      user,
      server,
    ),
    limits: choice.limits,
    ...(notebookDir
      ? { rootDir: notebookDir.replaceAll("{username}", user) }
      : {}),
    debug,
    disableUserConfig,
    extra: { ...config.spawner.environment, ...choice.environment },
  };
}

/** Starts, stops and watches servers. */
export class ServerManager {
  readonly #deps: ServerManagerDeps;
  readonly #pending = new Map<string, Pending>();
  /** Starts still checking (before their spawn is pending), so a second request joins instead of spawning again. */
  readonly #starting = new Map<string, Promise<{ pending: boolean }>>();
  /** Last failure per server key, for spawn-pending pages. */
  readonly #failures = new Map<string, string>();
  #timer: ReturnType<typeof setInterval> | null = null;

  readonly #events: EventLog;
  readonly #metrics: HubMetrics;

  constructor(deps: ServerManagerDeps) {
    this.#deps = deps;
    this.#events = deps.events ??
      new EventLog({ db: deps.db, logger: deps.logger });
    this.#metrics = deps.metrics ?? new HubMetrics();
  }

  #now(): Date {
    return this.#deps.now?.() ?? new Date();
  }

  /** Where a server lives: prefix, route key, browser URL (server_urls.ts). */
  where(user: string, server: string): ServerLocation {
    return serverLocation(this.#deps.config, user, server);
  }

  /** Key of a server: "alice/" or "alice/gpu". */
  static key(user: string, server: string): string {
    return `${user}/${server}`;
  }

  /** The in-flight spawn of a server, if any. */
  isPending(user: string, server: string): boolean {
    const p = this.#pending.get(ServerManager.key(user, server));
    return p !== undefined && !p.finished;
  }

  /** The reason the last spawn of a server failed, if it did. */
  lastFailure(user: string, server: string): string | undefined {
    return this.#failures.get(ServerManager.key(user, server));
  }

  /** Number of spawns in flight. */
  get pendingCount(): number {
    let n = 0;
    for (const p of this.#pending.values()) if (!p.finished) n++;
    return n;
  }

  /**
   * Starts a server (or joins the spawn already in flight). Resolves with
   * the pending record; `waitReady` waits for it.
   *
   * @throws {HubError} 429 past the concurrent-spawn limit, 400 when running.
   */
  start(
    user: UserRow,
    server: string,
    userOptions?: Record<string, unknown>,
    actor?: string,
  ): Promise<{ pending: boolean }> {
    const key = ServerManager.key(user.name, server);
    const existing = this.#pending.get(key);
    if (existing && !existing.finished) {
      this.#metrics.spawnDuration.observe(0, { status: "already-pending" });
      return Promise.resolve({ pending: true });
    }
    const inFlight = this.#starting.get(key);
    if (inFlight) return inFlight;
    const starting = this.#start(user, server, userOptions, key, actor)
      .finally(() => this.#starting.delete(key));
    this.#starting.set(key, starting);
    return starting;
  }

  async #start(
    user: UserRow,
    server: string,
    userOptions: Record<string, unknown> | undefined,
    key: string,
    actor: string | undefined,
  ): Promise<{ pending: boolean }> {
    const row = await this.#row(user.id, server);
    if (row?.status === "stopping") {
      throw new HubError(400, `${user.name}:${server} is pending stop`);
    }
    if (row?.status === "running") {
      const alive = await this.#deps.spawner.poll(JSON.parse(row.state)).catch(
        () => ({ running: false }),
      );
      if (alive.running) {
        throw new HubError(400, `${user.name}'s server is already running`);
      }
      await this.#cleanup(user, server, "died");
    }
    if (this.pendingCount >= this.#deps.config.spawner.concurrentLimit) {
      this.#metrics.spawnDuration.observe(0, { status: "throttled" });
      const retry = 30 + Math.floor(Math.random() * 30);
      throw new HubError(
        429,
        `Too many users trying to log in right now. Try again in ${retry} seconds.`,
        {
          headers: { "Retry-After": String(retry) },
        },
      );
    }
    const extraEnv = await this.#deps.beforeSpawn?.(user) ?? {};
    const { options, choice } = await this.#choose(user, row, userOptions);
    choice.environment = { ...choice.environment, ...extraEnv };
    const pending: Pending = {
      key,
      events: [],
      listeners: new Set(),
      done: Promise.resolve(),
      finished: false,
      cancelled: false,
      requestedAt: Date.now(),
      actor: actor ?? user.name,
      choice,
    };
    this.#pending.set(key, pending);
    this.#failures.delete(key);
    pending.done = this.#spawn(user, server, options, pending);
    return { pending: true };
  }

  /**
   * What a start gets: the user's options (the last ones when none are
   * given) and, from the profiles and group limits, its limits, default URL
   * and environment; the chosen profile is kept in the options.
   *
   * @throws {HubError} 400 for a profile the user may not pick.
   */
  async #choose(
    user: UserRow,
    row: ServerRow | undefined,
    given: Record<string, unknown> | undefined,
  ): Promise<{ options: Record<string, unknown>; choice: SpawnChoice }> {
    const { config, db } = this.#deps;
    const options = given ?? (row ? JSON.parse(row.user_options) : {});
    const groups = (await groupNamesByUser(db, [user.id])).get(user.id) ?? [];
    const choice = resolveSpawn({
      profiles: config.profiles,
      groupLimits: config.limits.groups,
      global: {
        ...(config.limits.memoryBytes !== null
          ? { memoryBytes: config.limits.memoryBytes }
          : {}),
        ...(config.limits.cpu !== null ? { cpu: config.limits.cpu } : {}),
        ...(config.limits.tasks ? { tasks: config.limits.tasks } : {}),
      },
      defaultUrl: config.spawner.defaultUrl,
      groups,
      userOptions: options,
    });
    return {
      options: choice.profile === null
        ? options
        : { ...options, profile: choice.profile },
      choice,
    };
  }

  /** Spawn step 2b: the course files, merged as the user; a failure is logged, never fatal. */
  async #courseFiles(user: UserRow, unix: SystemUser, p: Pending) {
    const courseFiles = this.#deps.courseFiles;
    if (!courseFiles?.enabled) return;
    this.#emit(p, { progress: 25, message: "Updating course files..." });
    await courseFiles.mergeFor(unix, p.actor).catch((error) =>
      this.#events.record("course_files.failed", {
        user: user.name,
        actor: p.actor,
        reason: (error as Error).message,
      })
    );
  }

  /** Waits up to `ms` for a spawn to finish; true when the server is ready. */
  async waitReady(user: string, server: string, ms: number): Promise<boolean> {
    const p = this.#pending.get(ServerManager.key(user, server));
    if (p && !p.finished) {
      await Promise.race([p.done, sleep(ms)]);
    }
    const last = p?.events.at(-1);
    if (p && !p.finished) return false;
    if (last?.failed) throw new HubError(500, last.message);
    return true;
  }

  /** Progress events so far plus a way to wait for more. */
  progress(
    user: string,
    server: string,
  ):
    | { events: ProgressEvent[]; finished: boolean; next(): Promise<void> }
    | null {
    const p = this.#pending.get(ServerManager.key(user, server));
    if (!p) return null;
    return {
      events: p.events,
      finished: p.finished,
      next: () => new Promise<void>((resolve) => p.listeners.add(resolve)),
    };
  }

  #emit(p: Pending, event: ProgressEvent): void {
    p.events.push(event);
    for (const l of p.listeners) l();
    p.listeners.clear();
  }

  async #row(userId: number, server: string): Promise<ServerRow | undefined> {
    return await getServer(this.#deps.db, userId, server);
  }

  /** Spawn step 1: the row says "spawning" before anything starts, so a restarted hub knows to look. */
  async #recordSpawning(
    user: UserRow,
    server: string,
    userOptions: Record<string, unknown> | undefined,
  ): Promise<void> {
    const previous = await this.#row(user.id, server);
    await recordSpawning(this.#deps.db, {
      userId: user.id,
      name: server,
      url: serverPrefix(this.#deps.config.baseUrl, user.name, server),
      userOptions: userOptions ??
        (previous ? JSON.parse(previous.user_options) : {}),
      hubInstance: this.#deps.instanceId ?? "",
      at: this.#now().toISOString(),
    });
  }

  /** Spawn step 2: the Linux account the server runs as (made when the config says so). */
  #unixAccount(user: UserRow): Promise<SystemUser> {
    const { config } = this.#deps;
    return unixAccountOf(user.name, config, {
      create: config.spawner.createSystemUsers,
    });
  }

  /**
   * Spawn step 3: the server's API token (replacing any earlier one of this
   * server) and its OAuth client, whose secret is the same token.
   */
  async #serverCredentials(user: UserRow, server: string): Promise<string> {
    const { db } = this.#deps;
    const where = this.where(user.name, server);
    const note = `Server at ${where.prefix}`;
    const access = `access:servers!server=${user.name}/${server}`;
    // Found by relation, never by the (user-writable) note: JupyterHub's way.
    const serverId = (await getServer(db, user.id, server))!.id;
    await deleteServerTokens(db, serverId);
    const token = newSecret();
    const { config } = this.#deps;
    const onServer = (scopes: readonly string[]) =>
      fillServerFilter(scopes, user.name, server);
    // JupyterHub 5: spawner.server_token_scopes, else the (redefinable) server role.
    const scopes = config.spawner.serverTokenScopes.length
      ? config.spawner.serverTokenScopes
      : ((await roleDefinitions(db)).server ?? BUILTIN_ROLES.server).scopes;
    await insertToken(db, {
      userId: user.id,
      serviceId: null,
      prefix: tokenPrefix(token),
      hash: await hashSecret(token),
      scopes: onServer(scopes),
      note,
      created: this.#now().toISOString(),
      expiresAt: null,
      serverId,
    });
    await upsertServerClient(db, {
      user: user.name,
      server,
      serverId,
      secret: token,
      // A full URL on the user's own host with subdomain_host (JupyterHub's too).
      redirectUri: `${where.url}oauth_callback`,
      allowedScopes: [
        access,
        ...onServer(config.spawner.oauthClientAllowedScopes),
      ],
      description: note,
      now: this.#now(),
    });
    return token;
  }

  /** Spawn step 4: the spawner starts the process (bounded by spawner.start_timeout). */
  async #launch(
    user: UserRow,
    server: string,
    unix: SystemUser,
    token: string,
    choice: SpawnChoice,
  ): Promise<{ started: StartResult; logFile: string }> {
    const { config, spawner } = this.#deps;
    const ip = "127.0.0.1";
    const port = await freePort(ip);
    const env = singleUserEnv({
      user: user.name,
      serverName: server,
      apiToken: token,
      hubApiUrl: this.#deps.hubApiUrl(),
      baseUrl: config.baseUrl,
      publicUrl: config.publicUrl,
      serverOrigin: this.where(user.name, server).origin,
      ip,
      port,
      ...(choice.defaultUrl ? { defaultUrl: choice.defaultUrl } : {}),
      unixUser: { name: unix.name, home: unix.home, shell: unix.shell },
      ...spawnSettings(config, user.name, choice, server),
    });
    const logFile = `${config.dataDir}/logs/${unix.name}${
      server ? "-" + server : ""
    }.log`;
    await Deno.mkdir(`${config.dataDir}/logs`, {
      recursive: true,
      mode: 0o700,
    });
    const starting = spawner.start({
      id: spawnId(unix.name, server),
      user: unix,
      argv: config.spawner.cmd,
      env,
      ip,
      port,
      cwd: unix.home,
      logFile,
      limits: choice.limits,
    });
    const seconds = config.spawner.startTimeoutSeconds;
    const started = await withTimeout(starting, seconds * 1000, () => {
      // A start that returns after the hub gave up leaves no server behind.
      starting.then((late) => spawner.stop(late.state)).catch(() => {});
      return new SpawnError(
        `the spawner did not start the server within ${seconds} seconds (spawner.start_timeout)`,
      );
    });
    return { started, logFile };
  }

  /** Spawn step 6: routed, marked running, logged with its timings. */
  async #markReady(
    user: UserRow,
    server: string,
    url: string,
    times: { requestedAt: number; startedAt: number; readyAt: number },
  ): Promise<void> {
    const { routeKey } = this.where(user.name, server);
    const added = this.#metrics.proxyAdd.time();
    await this.#deps.routes.add(routeKey, url, {
      user: user.name,
      "server_name": server,
    });
    added({ status: "success" });
    await setServerStatus(this.#deps.db, user.id, server, "running");
    const totalMs = Date.now() - times.requestedAt;
    this.#metrics.spawnDuration.observe(totalMs / 1000, { status: "success" });
    this.#events.record("server.ready", {
      user: user.name,
      server,
      url,
      "prepare_ms": times.startedAt - times.requestedAt,
      "listen_ms": times.readyAt - times.startedAt,
      "total_ms": totalMs,
    });
  }

  /** A failed or cancelled spawn: the process stopped, everything cleaned up, the reason kept. */
  async #spawnFailed(
    user: UserRow,
    server: string,
    p: Pending,
    state: SpawnerState | null,
    error: unknown,
  ): Promise<void> {
    const reason = error instanceof SpawnError
      ? error.reason
      : error instanceof Error
      ? error.message
      : String(error);
    if (!p.cancelled) {
      this.#metrics.spawnDuration.observe((Date.now() - p.requestedAt) / 1000, {
        status: "failure",
      });
      this.#events.record("server.spawn_failed", {
        user: user.name,
        server,
        reason,
      });
    }
    if (state) await this.#deps.spawner.stop(state).catch(() => {});
    await this.#cleanup(user, server, p.cancelled ? "cancelled" : "failed");
    // A spawn stopped on request is no failure to show on the spawn-pending page.
    if (!p.cancelled) this.#failures.set(p.key, reason);
    this.#emit(p, {
      progress: 100,
      failed: true,
      message: p.cancelled ? "Spawn cancelled" : `Spawn failed: ${reason}`,
    });
  }

  /** One spawn, as the steps above; progress events tell the browser where it is. */
  async #spawn(
    user: UserRow,
    server: string,
    userOptions: Record<string, unknown> | undefined,
    p: Pending,
  ) {
    const prefix = serverPrefix(this.#deps.config.baseUrl, user.name, server);
    let state: SpawnerState | null = null;
    try {
      const requestedAt = p.requestedAt;
      this.#events.record("server.spawn", {
        user: user.name,
        server,
        actor: p.actor,
      });
      this.#emit(p, { progress: 0, message: "Server requested" });
      await this.#recordSpawning(user, server, userOptions);
      const unix = await this.#unixAccount(user);
      await this.#courseFiles(user, unix, p);
      const token = await this.#serverCredentials(user, server);
      this.#emit(p, { progress: 50, message: "Spawning server..." });
      const startedAt = Date.now();
      const { started, logFile } = await this.#launch(
        user,
        server,
        unix,
        token,
        p.choice,
      );
      // The limits it got ride along (drivers ignore keys they do not know).
      state = { ...started.state, limits: p.choice.limits };
      if (p.cancelled) throw new Error("cancelled");
      // Spawn step 5: the state is saved, then the server must answer.
      await saveServerState(this.#deps.db, user.id, server, state);
      this.#emit(p, {
        progress: 75,
        message: "Waiting for the server to answer...",
      });
      await this.#waitHttp(
        started.url + prefix + "api",
        state,
        logFile,
        () => p.cancelled,
      );
      const readyAt = Date.now();
      await this.#markReady(user, server, started.url, {
        requestedAt,
        startedAt,
        readyAt,
      });
      const { url } = this.where(user.name, server);
      this.#emit(p, {
        progress: 100,
        ready: true,
        message: `Server ready at ${url}`,
        "html_message": `Server ready at <a href="${url}">${url}</a>`,
        url,
      });
    } catch (error) {
      await this.#spawnFailed(user, server, p, state, error);
    } finally {
      p.finished = true;
      for (const l of p.listeners) l();
      p.listeners.clear();
    }
  }

  async #waitHttp(
    url: string,
    state: SpawnerState,
    logFile: string,
    cancelled: () => boolean,
  ): Promise<void> {
    const { config } = this.#deps;
    const isReady = this.#deps.isReady ?? httpAnswers;
    const deadline = Date.now() + config.spawner.httpTimeoutSeconds * 1000;
    let attempt = 0;
    while (true) {
      if (cancelled()) throw new Error("cancelled");
      if (await isReady(url)) return;
      const poll = await this.#deps.spawner.poll(state).catch(() => ({
        running: true as const,
      }));
      if (!poll.running) {
        const tail = await tailFile(logFile, 2000).catch(() => "");
        throw new SpawnError(
          `the server exited before answering${
            tail ? `; its last output:\n${tail}` : ""
          }`,
        );
      }
      if (Date.now() > deadline) {
        throw new SpawnError(
          `the server never answered at ${url} after ${config.spawner.httpTimeoutSeconds} seconds`,
        );
      }
      // Poll a local server often at first (its start is usually ~1 s; every poll is one loopback GET),
      // then back off: the hub's own overhead stays within one short interval.
      await sleep(attempt++ < 100 ? 20 : 200);
    }
  }

  /** Removes route, token, OAuth client; marks the row stopped. */
  async #cleanup(
    user: ServerOwner,
    server: string,
    why: string,
  ): Promise<void> {
    const { db } = this.#deps;
    const { routeKey } = this.where(user.name, server);
    await this.#deps.routes.remove(routeKey).catch((e) =>
      this.#deps.logger.warn("could not remove route", {
        prefix: routeKey,
        error: (e as Error).message,
      })
    );
    const row = await getServer(db, user.id, server);
    if (row) await deleteServerTokens(db, row.id);
    await deleteClient(db, clientIdFor(user.name, server));
    await markServerStopped(db, user.id, server);
    this.#deps.logger.debug("server cleaned up", {
      user: user.name,
      server,
      why,
    });
  }

  /** Stops a server (route first, then the process); a pending spawn is cancelled first. Idempotent. */
  async stop(
    user: ServerOwner,
    server: string,
    cause: StopCause = { actor: null, reason: "" },
  ): Promise<void> {
    const key = ServerManager.key(user.name, server);
    const p = this.#pending.get(key);
    if (p && !p.finished) {
      p.cancelled = true;
      await p.done.catch(() => {});
    }
    const row = await this.#row(user.id, server);
    if (!row || row.status === "stopped") return;
    const stopTimer = this.#metrics.stopDuration.time();
    await setServerStatus(this.#deps.db, user.id, server, "stopping");
    const { routeKey } = this.where(user.name, server);
    const removed = this.#metrics.proxyDelete.time();
    await this.#deps.routes.remove(routeKey).then(
      () => removed({ status: "success" }),
      () => removed({ status: "failure" }),
    );
    try {
      await this.#deps.spawner.stop(JSON.parse(row.state));
    } catch (error) {
      this.#deps.logger.warn("stop failed", {
        user: user.name,
        server,
        error: (error as Error).message,
      });
    }
    await this.#cleanup(user, server, "stopped");
    this.#pending.delete(key);
    stopTimer({ status: "success" });
    this.#events.record(cause.kind ?? "server.stop", {
      user: user.name,
      server,
      actor: cause.actor,
      reason: cause.reason,
    });
  }

  /**
   * After a (re)start of the hub: keeps servers whose process is alive and
   * answering (their routes come back with the stored routes), cleans up
   * the rest, including spawns a killed hub left half-done.
   */
  async reconcile(): Promise<{ kept: string[]; cleaned: string[] }> {
    const { db } = this.#deps;
    const rows = await serversWithStatus(db, [
      "spawning",
      "running",
      "stopping",
    ]);
    const kept: string[] = [];
    const cleaned: string[] = [];
    for (const row of rows) {
      const user = ownerOf(row);
      const state = JSON.parse(row.state) as SpawnerState;
      const label = ServerManager.key(row.user_name, row.name);
      const own = this.#deps.instanceId ?? "";
      if (row.hub_instance !== "" && row.hub_instance !== own) {
        // A copied data directory: the process belongs to the hub that
        // started it. Forget it here, and never stop it.
        this.#deps.logger.warn(
          "server not adopted: another hub started it (this database was copied or moved)",
          { user: row.user_name, server: row.name },
        );
        await this.#cleanup(user, row.name, "started by another hub");
        cleaned.push(label);
        continue;
      }
      const alive = Object.keys(state).length > 0 &&
        (await this.#deps.spawner.poll(state).catch(() => ({ running: false })))
          .running;
      const { prefix, routeKey } = this.where(row.user_name, row.name);
      const target =
        typeof state.ip === "string" && typeof state.port === "number"
          ? `http://${state.ip}:${state.port}`
          : null;
      if (
        alive && target &&
        await (this.#deps.isReady ?? httpAnswers)(target + prefix + "api")
      ) {
        // subdomain_host may have changed since: the old key goes.
        await this.#deps.routes.removeOthers(row.user_name, row.name, routeKey);
        await this.#deps.routes.add(routeKey, target, {
          user: row.user_name,
          "server_name": row.name,
        });
        await setServerStatus(db, row.user_id, row.name, "running");
        kept.push(label);
      } else {
        if (alive) await this.#deps.spawner.stop(state).catch(() => {});
        else await this.#stopStray(row.user_name, row.name);
        await this.#cleanup(user, row.name, "gone after restart");
        cleaned.push(label);
      }
    }
    return { kept, cleaned };
  }

  /**
   * A hub killed between starting a process and saving its state leaves a
   * process nobody knows: find it by its OAuth client id in its environment
   * (local) or its unit name (systemd), and stop it.
   */
  async #stopStray(userName: string, server: string): Promise<void> {
    const unixName = systemUsername(
      userName,
      this.#deps.config.spawner.userPrefix,
    );
    const unix = await lookupUser(unixName).catch(() => null);
    if (!unix) return;
    const marker = `JUPYTERHUB_CLIENT_ID=${clientIdFor(userName, server)}`;
    const stopped = await this.#deps.spawner.stopStray(
      spawnId(unixName, server),
      unix,
      marker,
    ).catch((e) => {
      this.#deps.logger.warn("could not look for a stray server", {
        user: userName,
        error: (e as Error).message,
      });
      return 0;
    });
    if (stopped) {
      this.#deps.logger.info("stopped a server left by a killed hub", {
        user: userName,
        server,
      });
    }
  }

  /** Checks running servers now; dead ones are cleaned up. */
  async pollAll(): Promise<void> {
    const { db } = this.#deps;
    const rows = await serversWithStatus(db, ["running"]);
    for (const row of rows) {
      const timer = this.#metrics.pollDuration.time();
      const alive = await this.#deps.spawner.poll(JSON.parse(row.state)).catch(
        () => ({ running: true }),
      );
      timer({ status: alive.running ? "running" : "stopped" });
      if (alive.running) continue;
      await this.#cleanup(ownerOf(row), row.name, "process exited");
      this.#events.record("server.exited", {
        user: row.user_name,
        server: row.name,
        reason: "the process exited",
      });
    }
  }

  /** Memory in bytes of each running server the spawner can measure, keyed `user/server`. */
  async memoryOfRunning(): Promise<Record<string, number>> {
    return (await this.#memory()).used;
  }

  /** The memory limit in bytes each running server got (profile, group, global), keyed `user/server`. */
  async memoryLimitsOfRunning(): Promise<Record<string, number>> {
    return (await this.#memory()).limits;
  }

  async #memory(): Promise<{
    used: Record<string, number>;
    limits: Record<string, number>;
  }> {
    const rows = await serversWithStatus(this.#deps.db, ["running"]);
    const result: Record<string, number> = {};
    const limits: Record<string, number> = {};
    await Promise.all(rows.map(async (row) => {
      let state: unknown;
      try {
        state = JSON.parse(row.state);
      } catch {
        return;
      }
      if (!state || typeof state !== "object") return;
      const key = `${row.user_name}/${row.name}`;
      const limit = (state as { limits?: { memoryBytes?: unknown } }).limits
        ?.memoryBytes;
      if (typeof limit === "number") limits[key] = limit;
      const bytes = await this.#deps.spawner.memory(state as SpawnerState)
        .catch(() => null);
      if (bytes !== null) result[key] = bytes;
    }));
    return { used: result, limits };
  }

  /** Starts the periodic poll. */
  startPolling(): void {
    const ms = this.#deps.config.spawner.pollIntervalSeconds * 1000;
    this.#timer = setInterval(() => this.pollAll().catch(() => {}), ms);
    Deno.unrefTimer(this.#timer);
  }

  /** Stops polling; with `stopServers`, stops every server too. */
  async shutdown(stopServers: boolean): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    for (const p of this.#pending.values()) await p.done.catch(() => {});
    if (!stopServers) return;
    const rows = await serversWithStatus(this.#deps.db, [
      "spawning",
      "running",
      "stopping",
    ]);
    for (const row of rows) {
      await this.stop(ownerOf(row), row.name);
    }
  }
}
