/**
 * The built-in idle culler (on by default, as TLJH runs
 * jupyterhub-idle-culler): every `services.cull.every` seconds it stops
 * servers idle longer than `services.cull.timeout` (or older than
 * `services.cull.max_age`), named servers included, at most
 * `services.cull.concurrency` at once; with `services.cull.users` it also
 * deletes idle users who have no server (never admins, never users named in
 * the config). Activity is what the database holds: servers' activity
 * reports and the proxy's, pulled just before each pass. Every action goes
 * to the event log (`cull.server`, `cull.user`) and the metrics.
 *
 * The config is read at each pass, so `onehub config reload` applies
 * changes (turning it off included) without a restart.
 *
 * @module
 */
import type { HubConfig } from "../config/mod.ts";
import type { Db } from "../db/mod.ts";
import {
  type CullCandidate,
  deleteServer,
  runningForCull,
} from "../db/servers.ts";
import { deleteUser, usersWithoutServers } from "../db/users.ts";
import type { EventLog } from "../observe/events.ts";
import type { Logger } from "../observe/log.ts";
import type { HubMetrics } from "../observe/metrics.ts";
import type { ServerManager } from "./manager.ts";
import { forEachLimited } from "../concurrency.ts";

/** The actor the culler's events name (TLJH's service name). */
export const CULLER_ACTOR = "cull-idle";

/** What {@linkcode IdleCuller} needs. */
export interface CullerDeps {
  db: Db;
  config: HubConfig;
  servers: ServerManager;
  events: EventLog;
  metrics: HubMetrics;
  logger: Logger;
  /** Brings activity up to date before a pass (the proxy's). */
  refreshActivity?: () => Promise<unknown>;
  /** The hub's clock: what "idle for N seconds" is measured against. */
  now: () => Date;
  /**
   * Calls `fn` once after `ms` and returns a cancel: the pass timer (tests
   * pass one they fire by hand). @default {an unref'd setTimeout}
   */
  after?: (ms: number, fn: () => void) => () => void;
}

/** An unref'd one-shot timer (it never keeps the process alive) and its cancel. */
function systemAfter(ms: number, fn: () => void): () => void {
  const timer = setTimeout(fn, ms);
  Deno.unrefTimer(timer);
  return () => clearTimeout(timer);
}

/** What one pass did. */
export interface CullPass {
  at: string;
  checked: number;
  stopped: string[];
  deletedUsers: string[];
  ms: number;
}

/** Why a server should be culled, or null to keep it. */
export function cullReason(
  s: CullCandidate,
  rules: { cull: HubConfig["cull"]; now: number },
): { kind: "idle" | "max_age"; text: string } | null {
  const { cull, now } = rules;
  if (s.admin && !cull.adminUsers) return null;
  const since = s.lastActivity ?? s.started;
  if (since !== null) {
    const idle = Math.floor((now - Date.parse(since)) / 1000);
    if (idle > cull.timeoutSeconds) {
      return {
        kind: "idle",
        text: `idle ${idle} s (services.cull.timeout ${cull.timeoutSeconds} s)`,
      };
    }
  }
  if (cull.maxAgeSeconds > 0 && s.started !== null) {
    const age = Math.floor((now - Date.parse(s.started)) / 1000);
    if (age > cull.maxAgeSeconds) {
      return {
        kind: "max_age",
        text:
          `running ${age} s (services.cull.max_age ${cull.maxAgeSeconds} s)`,
      };
    }
  }
  return null;
}

/** The idle culler. */
export class IdleCuller {
  readonly #deps: CullerDeps;
  #cancel: () => void = () => {};
  #running: Promise<unknown> = Promise.resolve();
  #stopped = false;
  /** The last pass, for the admin page. */
  last: CullPass | null = null;

  constructor(deps: CullerDeps) {
    this.#deps = deps;
  }

  #now(): Date {
    return this.#deps.now();
  }

  /** One pass: stops idle servers, then (when configured) deletes idle users. */
  async pass(): Promise<CullPass> {
    const started = performance.now();
    const { config, db } = this.#deps;
    const cull = config.cull;
    await this.#deps.refreshActivity?.().catch(() => {});
    const now = this.#now();
    const candidates = await runningForCull(db);
    const doomed = candidates.flatMap((s) => {
      const why = cullReason(s, { cull, now: now.getTime() });
      return why ? [{ s, why }] : [];
    });
    const stopped: string[] = [];
    await forEachLimited(doomed, async ({ s, why }) => {
      await this.#cullServer(s, why).then(
        () => stopped.push(`${s.userName}/${s.server}`),
        (error) =>
          this.#deps.logger.warn("culler could not stop a server", {
            user: s.userName,
            server: s.server,
            error: (error as Error).message,
          }),
      );
    }, { limit: cull.concurrency });
    const deletedUsers = cull.users ? await this.#cullUsers(now) : [];
    const pass: CullPass = {
      at: now.toISOString(),
      checked: candidates.length,
      stopped,
      deletedUsers,
      ms: Math.round(performance.now() - started),
    };
    this.last = pass;
    return pass;
  }

  async #cullServer(
    s: CullCandidate,
    why: { kind: "idle" | "max_age"; text: string },
  ): Promise<void> {
    const owner = { id: s.userId, name: s.userName };
    await this.#deps.servers.stop(owner, s.server, {
      actor: CULLER_ACTOR,
      reason: why.text,
      kind: "cull.server",
    });
    this.#deps.metrics.culled.inc({ reason: why.kind });
    if (s.server !== "" && this.#deps.config.cull.removeNamedServers) {
      await deleteServer(this.#deps.db, s.userId, s.server);
    }
  }

  async #cullUsers(now: Date): Promise<string[]> {
    const { config, db } = this.#deps;
    const fromConfig = new Set([
      ...config.users.allowed,
      ...config.users.admin,
    ]);
    const limit = now.getTime() - config.cull.timeoutSeconds * 1000;
    const deleted: string[] = [];
    for (const u of await usersWithoutServers(db)) {
      if (u.admin || fromConfig.has(u.name)) continue;
      if (Date.parse(u.lastActivity) >= limit) continue;
      await deleteUser(db, u.id);
      deleted.push(u.name);
      this.#deps.events.record("cull.user", {
        user: u.name,
        actor: CULLER_ACTOR,
        reason: `inactive since ${u.lastActivity} (services.cull.users)`,
      });
    }
    return deleted;
  }

  /** Runs a pass every `services.cull.every` seconds while `services.cull.enabled` (both read each time). */
  start(): void {
    const after = this.#deps.after ?? systemAfter;
    const schedule = () => {
      if (this.#stopped) return;
      const seconds = this.#deps.config.cull.everySeconds;
      this.#cancel = after(seconds * 1000, () => {
        if (!this.#deps.config.cull.enabled) return schedule();
        this.#running = this.pass().catch((error) =>
          this.#deps.logger.warn("cull pass failed", {
            error: (error as Error).message,
          })
        ).finally(schedule);
      });
    };
    schedule();
  }

  /** Stops the timer; waits for a pass in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#cancel();
    await this.#running;
  }
}
