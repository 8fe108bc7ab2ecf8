/**
 * The event log: one structured line per action, written to the hub's log
 * (stderr, so journald keeps it: `journalctl -u onehub | grep event=`) and
 * stored in the `events` table for `onehub events --since`.
 *
 * Kinds (stable names, documented in the README):
 * `login.ok`, `login.failed`, `login.throttled`, `login.refused`, `logout`,
 * `sessions.revoked`, `server.spawn`, `server.ready`, `server.spawn_failed`,
 * `server.stop`, `server.exited`, `cull.server`, `cull.user`,
 * `user.created`, `user.deleted`, `user.admin`, `token.created`,
 * `token.revoked`, `group.created`, `group.deleted`, `group.members_added`,
 * `group.members_removed`, `user.renamed`, `service.start`, `service.exit`,
 * `hub.shutdown`.
 *
 * Writes are batched (one insert per turn of the event loop) and bounded: at most
 * {@linkcode MAX_PENDING} events wait for the database; more are counted
 * and reported as dropped, never buffered without limit. Rows older than
 * `events.retention_days`, or beyond `events.max_rows`, are pruned at start
 * and hourly.
 *
 * @module
 */
import type { Db } from "../db/mod.ts";
import { insertEvents, type NewEvent, pruneEvents } from "../db/events.ts";
import type { Logger } from "./log.ts";

/** What an event names besides its kind. */
export interface EventFields {
  /** The user acted on. */
  user?: string | null;
  /** Who acted: a user or service name, or "hub". */
  actor?: string | null;
  /** Why, in a few words ("idle 600 s", "bad password"). */
  reason?: string;
  /** Anything else worth keeping (small values only). */
  [key: string]: unknown;
}

/** Events waiting for the database at most; beyond this they are dropped (and counted). */
export const MAX_PENDING = 10_000;
const PRUNE_EVERY_MS = 3600_000;

/** Longest text value kept in an event's fields. */
const MAX_VALUE = 500;

/** `fields` with long strings cut (a request body can name thousands of users). */
function boundFields(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    out[k] = typeof v === "string" && v.length > MAX_VALUE
      ? `${v.slice(0, MAX_VALUE)}…(${v.length})`
      : v;
  }
  return out;
}

/** Options for {@linkcode EventLog}. */
export interface EventLogOptions {
  db: Db;
  logger: Logger;
  /** Days kept. @default {90} */
  retentionDays?: () => number;
  /** Rows kept at most. @default {200000} */
  maxRows?: () => number;
  /** @default {() => new Date()} */
  now?: () => Date;
}

/** How often {@linkcode EventLog.recordAtMostEvery} records, and what. */
export interface RecordEvery {
  /** What is counted as one: e.g. the client's address. */
  key: string;
  /** At most one event per key in this many milliseconds. */
  windowMs: number;
  fields?: EventFields;
}

/** Records events to the log and the database. */
export class EventLog {
  #options: EventLogOptions;
  #pending: NewEvent[] = [];
  #scheduled = false;
  #flushing: Promise<void> = Promise.resolve();
  #pruneTimer: ReturnType<typeof setInterval> | undefined;
  #dropped = 0;
  /** Per key of {@linkcode EventLog.recordAtMostEvery}: when it last recorded, and how many it held back since. */
  #recent = new Map<string, { at: number; held: number }>();

  constructor(options: EventLogOptions) {
    this.#options = options;
  }

  /** Logs and stores one event; returns at once (the write is batched). */
  record(kind: string, fields: EventFields = {}): void {
    const { user = null, actor = null, reason = "", ...extra } = fields;
    const data = boundFields(extra);
    const now = (this.#options.now ?? (() => new Date()))();
    this.#options.logger.info(`event ${kind}`, {
      event: kind,
      ...(user !== null ? { user } : {}),
      ...(actor !== null ? { actor } : {}),
      ...(reason ? { reason } : {}),
      ...data,
    });
    if (this.#pending.length >= MAX_PENDING) {
      this.#dropped++;
      return;
    }
    this.#pending.push({
      time: now.toISOString(),
      kind,
      user: user === null ? null : String(user),
      actor: actor === null ? null : String(actor),
      reason: String(reason).slice(0, 500),
      data: JSON.stringify(data),
    });
    // Everything recorded in this turn goes in one insert (no timer to leak).
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(() => void this.flush());
    }
  }

  /**
   * Records an event at most once per `key` every `windowMs` (a flood of
   * refused logins from one address must not push real history out of the
   * log); the next one recorded says how many were held back
   * (`repeats`). At most 10 000 keys are remembered.
   */
  recordAtMostEvery(kind: string, every: RecordEvery): void {
    const { windowMs, key, fields = {} } = every;
    const now = (this.#options.now ?? (() => new Date()))().getTime();
    const seen = this.#recent.get(key);
    if (seen && now - seen.at < windowMs) {
      seen.held++;
      return;
    }
    if (this.#recent.size >= 10_000) this.#recent.clear();
    this.#recent.set(key, { at: now, held: 0 });
    this.record(kind, seen?.held ? { ...fields, repeats: seen.held } : fields);
  }

  /** Writes what is pending; resolves when it is stored. */
  flush(): Promise<void> {
    this.#scheduled = false;
    const batch = this.#pending;
    this.#pending = [];
    const dropped = this.#dropped;
    this.#dropped = 0;
    this.#flushing = this.#flushing.then(async () => {
      if (dropped) {
        this.#options.logger.warn("events dropped: the database fell behind", {
          dropped,
        });
      }
      try {
        await insertEvents(this.#options.db, batch);
      } catch (error) {
        this.#options.logger.warn("could not store events", {
          count: batch.length,
          error: (error as Error).message,
        });
      }
    });
    return this.#flushing;
  }

  /** Deletes events past the retention; returns how many. */
  async prune(): Promise<number> {
    const now = (this.#options.now ?? (() => new Date()))();
    const days = this.#options.retentionDays?.() ?? 90;
    const before = new Date(now.getTime() - days * 86400_000).toISOString();
    return await pruneEvents(
      this.#options.db,
      before,
      this.#options.maxRows?.() ?? 200_000,
    );
  }

  /** Prunes now and then hourly. */
  startPruning(): void {
    const run = () =>
      this.prune().catch((error) =>
        this.#options.logger.warn("could not prune events", {
          error: (error as Error).message,
        })
      );
    run();
    this.#pruneTimer = setInterval(run, PRUNE_EVERY_MS);
    Deno.unrefTimer(this.#pruneTimer);
  }

  /** Stops pruning and writes what is pending. */
  async close(): Promise<void> {
    clearInterval(this.#pruneTimer);
    await this.flush();
  }
}
