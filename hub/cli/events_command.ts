/**
 * `onehub events [--since WHEN] [--user NAME] [--kind KIND] [--limit N]
 * [--json]`: reads the hub's event log back from the database (logins,
 * spawns, stops, culls, admin changes, tokens, services), oldest first.
 *
 * @module
 */
import { eventsSince } from "../db/events.ts";
import type { EventRow } from "../db/schema.ts";
import { UsageError } from "../errors.ts";
import { formatValue } from "../observe/log.ts";
import { type Command, COMMON_OPTIONS, parseCommandFlags } from "./_command.ts";
import { withConfiguredDb } from "./_context.ts";
import { printOut } from "./_print.ts";

const HELP =
  `Usage: onehub events [--since WHEN] [--user NAME] [--kind KIND] [--limit N] [--json] [--config PATH]

Prints the hub's event log, oldest first: one line per login (ok, failed,
throttled, refused), logout, spawn, ready, stop, cull, admin change, token
created or revoked, service start or exit, and shutdown, with the user acted
on, the actor and the reason. Events are kept for events.retention_days.

  --since WHEN   from this time on: a duration back from now (30m, 6h, 2d,
                 1w) or an ISO date/time (2026-12-01, 2026-12-01T08:00Z);
                 default 24h
  --user NAME    only events about this user
  --kind KIND    only this kind (login.failed), or a family (login.)
  --limit N      at most the newest N events (default 1000, at most 100000)
  --json         one JSON object per line instead of text

Examples:
  onehub events --since 1h
  onehub events --kind cull. --since 7d
  onehub events --user alice --json`;

const OPTIONS = {
  ...COMMON_OPTIONS,
  since: { type: "string" },
  user: { type: "string" },
  kind: { type: "string" },
  limit: { type: "string" },
  json: { type: "boolean" },
} as const;

const UNIT_MS: Record<string, number> = {
  s: 1000,
  m: 60_000,
  h: 3600_000,
  d: 86400_000,
  w: 7 * 86400_000,
};

/**
 * The ISO time `--since` names: a duration back from `now` or an ISO date.
 *
 * @throws {UsageError} naming the value and the accepted forms.
 */
export function parseSince(text: string, now: Date): string {
  const duration = /^(\d{1,9})([smhdw])$/.exec(text.trim());
  if (duration) {
    const ms = Number(duration[1]) * UNIT_MS[duration[2]!]!;
    return new Date(now.getTime() - ms).toISOString();
  }
  if (/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text)) {
    const time = new Date(text);
    if (!Number.isNaN(time.getTime())) return time.toISOString();
  }
  throw new UsageError(
    `--since ${
      JSON.stringify(text)
    } is not a time: use a duration such as 30m, 6h, 2d, 1w or an ISO date such as 2026-12-01T08:00Z`,
  );
}

/** One event as a text line: `time kind user=… actor=… reason=… key=value…`. */
export function formatEvent(row: EventRow): string {
  const parts = [row.time, row.kind];
  if (row.user !== null) parts.push(`user=${formatValue(row.user)}`);
  if (row.actor !== null) parts.push(`actor=${formatValue(row.actor)}`);
  if (row.reason) parts.push(`reason=${formatValue(row.reason)}`);
  const data = JSON.parse(row.data) as Record<string, unknown>;
  for (const [k, v] of Object.entries(data)) {
    parts.push(`${k}=${formatValue(v)}`);
  }
  return parts.join(" ");
}

function limitOf(text: string | undefined): number {
  if (text === undefined) return 1000;
  if (!/^\d{1,6}$/.test(text) || Number(text) < 1 || Number(text) > 100000) {
    throw new UsageError(
      `--limit must be a number from 1 to 100000, got "${text}"`,
    );
  }
  return Number(text);
}

async function run(args: string[]): Promise<number> {
  const { values } = parseCommandFlags(args, OPTIONS);
  const since = parseSince(values.since ?? "24h", new Date());
  const limit = limitOf(values.limit);
  return await withConfiguredDb(values.config, async (db) => {
    const rows = await eventsSince(db, {
      since,
      limit,
      ...(values.user !== undefined ? { user: values.user } : {}),
      ...(values.kind !== undefined ? { kind: values.kind } : {}),
    });
    for (const row of rows) {
      printOut(
        values.json
          ? JSON.stringify({ ...row, data: JSON.parse(row.data) })
          : formatEvent(row),
      );
    }
    return 0;
  });
}

/** The events command. */
export const eventsCommand: Command = {
  name: "events",
  summary: "Print the event log (logins, spawns, culls, admin actions)",
  help: HELP,
  run,
};
