/**
 * Server lifecycle: the one place that starts, stops, watches and re-adopts
 * single-user servers (what jupyterhub keeps in `handlers/base.py` and
 * `user.py`). It is the sole caller of spawners/ and of proxy route changes
 * for servers.
 *
 * The manager keeps the public API and the admission rules (a second start
 * joins the first, `spawner.concurrent_spawn_limit` answers 429, a running
 * server 400); the jobs are in files of their own: the spawn steps
 * (spawn.ts, which also resolves what a start gets), the progress stream
 * (progress.ts), the server's token and OAuth client (credentials.ts),
 * re-adoption after a restart (reconcile.ts), the memory servers use
 * (memory.ts). Types they share: _types.ts.
 *
 * @module
 */
import { sleep } from "../concurrency.ts";
import type { ServerRow, UserRow } from "../db/schema.ts";
import {
  getServer,
  markServerStopped,
  serversWithStatus,
  setServerStatus,
} from "../db/servers.ts";
import { HubError } from "../errors.ts";
import { type ServerLocation, serverLocation } from "./urls.ts";
import type {
  ProgressEvent,
  ServerManagerDeps,
  ServerOwner,
  StopCause,
} from "./_types.ts";
import { PendingSpawn, type ProgressView } from "./progress.ts";
import { revokeServerCredentials } from "./credentials.ts";
import { chooseSpawn, runSpawn, type SpawnContext } from "./spawn.ts";
import { memoryOfRunning } from "./memory.ts";
import { ownerOf, reconcileServers } from "./reconcile.ts";

export type { ProgressEvent, ServerManagerDeps, ServerOwner, StopCause };
export type { ProgressView };
export { escapeName, serverPrefix } from "./single_user_env.ts";
export { spawnId, spawnSettings, unixAccountOf } from "./spawn.ts";
export { fillServerFilter } from "./credentials.ts";

/** How a start was asked for. */
export interface StartOptions {
  /** The options to start with (none: the server's last ones). */
  options?: Record<string, unknown> | undefined;
  /** Who asked (the event log's actor). @default {the user} */
  actor?: string | undefined;
}

/** Who asked for a stop and why; every field may be left out. */
export type StopOptions = Partial<StopCause>;

/**
 * `spawner.concurrent_limit: 0`: two spawns per CPU core, at least 2. A
 * Jupyter server's start is CPU-bound (about 2 CPU seconds, its first
 * kernel as much), so more at once only share the cores: measured with 100
 * students arriving in a minute on 2 cores, 20 at once gave ready p50 /
 * p95 20.8 / 37.9 s, 4 at once 8.1 / 21.3 s (docs/benchmarks.md).
 */
export function autoSpawnSlots(cores: number): number {
  return Math.max(2, 2 * Math.floor(cores || 1));
}

/** Starts, stops and watches servers. */
export class ServerManager {
  readonly #deps: ServerManagerDeps;
  readonly #pending = new Map<string, PendingSpawn>();
  /** Starts still checking (before their spawn is pending), so a second request joins instead of spawning again. */
  readonly #starting = new Map<string, Promise<{ pending: boolean }>>();
  /** Last failure per server key, for spawn-pending pages. */
  readonly #failures = new Map<string, string>();
  #timer: ReturnType<typeof setInterval> | null = null;
  /** Spawns holding one of the `spawner.concurrent_limit` slots. */
  #active = 0;
  /** Spawns waiting for a slot, first come first served; each starts when `go` is called. */
  readonly #line: Array<
    { pending: PendingSpawn; go: () => void; told?: number }
  > = [];

  constructor(deps: ServerManagerDeps) {
    this.#deps = deps;
  }

  /** What the spawn and reconcile steps use of the manager. */
  #context(): SpawnContext {
    return {
      deps: this.#deps,
      cleanup: (owner, server, why) => this.#cleanup(owner, server, why),
      failures: this.#failures,
    };
  }

  /** Where a server lives: prefix, route key, browser URL (urls.ts). */
  where(user: string, server: string): ServerLocation {
    return serverLocation(this.#deps.config, { user, server });
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
   * Past `spawner.concurrent_limit` spawns at once, a start waits in line
   * (its progress stream says its place) and begins when a slot frees.
   *
   * @throws {HubError} 429 when the line is full (`spawner.queue_limit`), 400 when running.
   */
  start(
    user: UserRow,
    server: string,
    options: StartOptions = {},
  ): Promise<{ pending: boolean }> {
    const key = ServerManager.key(user.name, server);
    const existing = this.#pending.get(key);
    if (existing && !existing.finished) {
      this.#deps.metrics.spawnDuration.observe(0, {
        status: "already-pending",
      });
      return Promise.resolve({ pending: true });
    }
    const inFlight = this.#starting.get(key);
    if (inFlight) return inFlight;
    const starting = this.#start(user, server, options)
      .finally(() => this.#starting.delete(key));
    this.#starting.set(key, starting);
    return starting;
  }

  /** Admission: a server stopping or running refuses; a dead "running" one is cleaned up first. */
  async #admit(user: UserRow, server: string): Promise<ServerRow | undefined> {
    const row = await getServer(this.#deps.db, user.id, server);
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
    const { queueLimit } = this.#deps.config.spawner;
    if (
      this.#active + this.#line.length >= this.#slots() &&
      this.#line.length >= queueLimit
    ) {
      this.#deps.metrics.spawnDuration.observe(0, { status: "throttled" });
      const retry = 30 + Math.floor(Math.random() * 30);
      throw new HubError(
        429,
        `Too many users trying to log in right now. Try again in ${retry} seconds.`,
        { headers: { "Retry-After": String(retry) } },
      );
    }
    return row;
  }

  async #start(
    user: UserRow,
    server: string,
    start: StartOptions,
  ): Promise<{ pending: boolean }> {
    const row = await this.#admit(user, server);
    const extraEnv = await this.#deps.beforeSpawn?.(user) ?? {};
    const { options, choice } = await chooseSpawn(this.#deps, {
      user,
      row,
      given: start.options,
    });
    choice.environment = { ...choice.environment, ...extraEnv };
    const key = ServerManager.key(user.name, server);
    const pending = new PendingSpawn({
      key,
      actor: start.actor ?? user.name,
      choice,
    });
    this.#pending.set(key, pending);
    this.#failures.delete(key);
    pending.done = this.#inTurn(
      pending,
      () =>
        runSpawn(this.#context(), {
          user,
          server,
          userOptions: options,
          pending,
        }),
    );
    return { pending: true };
  }

  /**
   * Runs `spawn` in one of the `spawner.concurrent_limit` slots: at once
   * when one is free, else after waiting in line. A spawn stopped while it
   * waits ends there ("Spawn cancelled"), having started nothing.
   */
  async #inTurn(
    pending: PendingSpawn,
    spawn: () => Promise<void>,
  ): Promise<void> {
    if (
      this.#active >= this.#slots() ||
      this.#line.length
    ) {
      const turn = Promise.withResolvers<void>();
      this.#line.push({ pending, go: turn.resolve });
      this.#tellPlaces();
      await turn.promise;
    } else this.#active++;
    try {
      if (!pending.cancelled) return await spawn();
      pending.emit({ progress: 100, failed: true, message: "Spawn cancelled" });
      pending.finish();
    } finally {
      this.#active--;
      this.#admitNext();
    }
  }

  /** The spawns allowed at once: `spawner.concurrent_limit`, or two per core when it is 0. */
  #slots(): number {
    return this.#deps.config.spawner.concurrentLimit ||
      autoSpawnSlots(navigator.hardwareConcurrency);
  }

  /** Gives free slots to the first in line, then tells the rest their place. */
  #admitNext(): void {
    const limit = this.#slots();
    while (this.#active < limit && this.#line.length) {
      this.#active++;
      this.#line.shift()!.go();
    }
    this.#tellPlaces();
  }

  /**
   * Each waiting spawn's progress stream learns its place in line: when it
   * joins, then at every step of the last ten places and every tenth place
   * before, so a long line costs each waiter a few dozen events, not one per
   * departure.
   */
  #tellPlaces(): void {
    this.#line.forEach((waiting, ahead) => {
      const first = waiting.told === undefined;
      const worth = first || ahead < 10 || ahead % 10 === 0;
      if (waiting.told === ahead || !worth) return;
      waiting.told = ahead;
      waiting.pending.emit({
        progress: 0,
        message: ahead === 0
          ? "Waiting for a free spawn slot: you are next"
          : `Waiting for a free spawn slot: ${ahead} ahead of you`,
      });
    });
  }

  /** A spawn stopped while it waits in line leaves the line at once (its slot is its own from then). */
  #leaveLine(pending: PendingSpawn): void {
    const at = this.#line.findIndex((w) => w.pending === pending);
    if (at < 0) return;
    const [waiting] = this.#line.splice(at, 1);
    this.#active++;
    waiting!.go();
  }

  /** Waits up to `options.timeoutMs` for a spawn to finish; true when the server is ready. */
  async waitReady(
    user: string,
    server: string,
    options: { timeoutMs: number },
  ): Promise<boolean> {
    const p = this.#pending.get(ServerManager.key(user, server));
    if (p && !p.finished) {
      await Promise.race([p.done, sleep(options.timeoutMs)]);
    }
    const last = p?.events.at(-1);
    if (p && !p.finished) return false;
    if (last?.failed) throw new HubError(500, last.message);
    return true;
  }

  /** Progress events so far plus a way to wait for more. */
  progress(user: string, server: string): ProgressView | null {
    return this.#pending.get(ServerManager.key(user, server))?.view() ?? null;
  }

  /** Removes route, token, OAuth client; marks the row stopped. */
  async #cleanup(
    user: ServerOwner,
    server: string,
    why: string,
  ): Promise<void> {
    const { db, logger } = this.#deps;
    const { routeKey } = this.where(user.name, server);
    await this.#deps.routes.remove(routeKey).catch((e) =>
      logger.warn("could not remove route", {
        prefix: routeKey,
        error: (e as Error).message,
      })
    );
    await revokeServerCredentials(db, { owner: user, server });
    await markServerStopped(db, user.id, server);
    logger.debug("server cleaned up", { user: user.name, server, why });
  }

  /** Stops a server (route first, then the process); a pending spawn is cancelled first. Idempotent. */
  async stop(
    user: ServerOwner,
    server: string,
    options: StopOptions = {},
  ): Promise<void> {
    const key = ServerManager.key(user.name, server);
    const p = this.#pending.get(key);
    if (p && !p.finished) {
      p.cancelled = true;
      this.#leaveLine(p);
      await p.done.catch(() => {});
    }
    const { db, metrics, logger } = this.#deps;
    const row = await getServer(db, user.id, server);
    if (!row || row.status === "stopped") return;
    const stopTimer = metrics.stopDuration.time();
    await setServerStatus(db, { userId: user.id, name: server }, "stopping");
    const { routeKey } = this.where(user.name, server);
    const removed = metrics.proxyDelete.time();
    await this.#deps.routes.remove(routeKey).then(
      () => removed({ status: "success" }),
      () => removed({ status: "failure" }),
    );
    try {
      await this.#deps.spawner.stop(JSON.parse(row.state));
    } catch (error) {
      logger.warn("stop failed", {
        user: user.name,
        server,
        error: (error as Error).message,
      });
    }
    await this.#cleanup(user, server, "stopped");
    this.#pending.delete(key);
    stopTimer({ status: "success" });
    this.#deps.events.record(options.kind ?? "server.stop", {
      user: user.name,
      server,
      actor: options.actor ?? null,
      reason: options.reason ?? "",
    });
  }

  /**
   * After a (re)start of the hub: keeps servers whose process is alive and
   * answering (their routes come back with the stored routes), cleans up
   * the rest, including spawns a killed hub left half-done (reconcile.ts).
   */
  reconcile(): Promise<{ kept: string[]; cleaned: string[] }> {
    return reconcileServers(this.#context());
  }

  /** Checks running servers now; dead ones are cleaned up. */
  async pollAll(): Promise<void> {
    const { db, metrics, spawner, events } = this.#deps;
    const rows = await serversWithStatus(db, ["running"]);
    for (const row of rows) {
      const timer = metrics.pollDuration.time();
      const alive = await spawner.poll(JSON.parse(row.state)).catch(
        () => ({ running: true }),
      );
      timer({ status: alive.running ? "running" : "stopped" });
      if (alive.running) continue;
      await this.#cleanup(ownerOf(row), row.name, "process exited");
      events.record("server.exited", {
        user: row.user_name,
        server: row.name,
        reason: "the process exited",
      });
    }
  }

  /** Memory in bytes of each running server the spawner can measure, keyed `user/server`. */
  async memoryOfRunning(): Promise<Record<string, number>> {
    return (await memoryOfRunning(this.#deps)).used;
  }

  /** The memory limit in bytes each running server got (profile, group, global), keyed `user/server`. */
  async memoryLimitsOfRunning(): Promise<Record<string, number>> {
    return (await memoryOfRunning(this.#deps)).limits;
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
