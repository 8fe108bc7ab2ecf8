/**
 * Queries on the event log (`events`). Only hub/observe/events.ts writes it.
 *
 * @module
 */
import type { Db } from "./mod.ts";
import type { EventRow } from "./schema.ts";

/** A new event row: every column but the id (schema.ts EventsTable). */
export type NewEvent = Omit<EventRow, "id">;

/** Rows per INSERT: SQLite caps the variables of one statement. */
const CHUNK = 500;

/** Stores events in one transaction. */
export async function insertEvents(
  db: Db,
  events: readonly NewEvent[],
): Promise<void> {
  if (events.length === 0) return;
  await db.transaction().execute(async (trx) => {
    for (let i = 0; i < events.length; i += CHUNK) {
      await trx.insertInto("events").values(events.slice(i, i + CHUNK))
        .execute();
    }
  });
}

/** Filters for {@linkcode eventsSince}. */
export interface EventQuery {
  /** ISO time: events at or after it. */
  since: string;
  user?: string;
  /** A kind ("login.failed") or a kind prefix ending in "." ("login."). */
  kind?: string;
  /** At most this many, the newest. */
  limit: number;
}

/** Events matching `query`, oldest first. */
export async function eventsSince(
  db: Db,
  query: EventQuery,
): Promise<EventRow[]> {
  let q = db.selectFrom("events").selectAll().where("time", ">=", query.since);
  if (query.user !== undefined) q = q.where("user", "=", query.user);
  if (query.kind !== undefined) {
    q = query.kind.endsWith(".")
      ? q.where("kind", "like", `${query.kind.replace(/[%_\\]/g, "")}%`)
      : q.where("kind", "=", query.kind);
  }
  const rows = await q.orderBy("id", "desc").limit(query.limit).execute();
  return rows.reverse();
}

/** The time of the last event of `kind` per user (users with none are absent). */
export async function lastEventOf(
  db: Db,
  kind: string,
): Promise<Record<string, string>> {
  const rows = await db.selectFrom("events")
    .select(["user", (eb) => eb.fn.max("time").as("time")])
    .where("kind", "=", kind).where("user", "is not", null)
    .groupBy("user").execute();
  const out: Record<string, string> = {};
  for (const r of rows) if (r.user && r.time) out[r.user] = String(r.time);
  return out;
}

/** Deletes events older than `before` and all but the newest `keep`; returns how many went. */
export async function pruneEvents(
  db: Db,
  before: string,
  keep: number,
): Promise<number> {
  const old = await db.deleteFrom("events").where("time", "<", before)
    .executeTakeFirst();
  const cut = await db.selectFrom("events").select("id").orderBy("id", "desc")
    .offset(keep).limit(1).executeTakeFirst();
  let extra = 0n;
  if (cut) {
    const r = await db.deleteFrom("events").where("id", "<=", cut.id)
      .executeTakeFirst();
    extra = r.numDeletedRows;
  }
  return Number(old.numDeletedRows + extra);
}
