/**
 * `/hub/admin` (the classroom admin page) and `/hub/admin/api/memory`
 * (what each running server uses now, for the page's memory column). Both
 * need the `admin-ui` scope; everything else the page does goes through
 * the REST API.
 *
 * Memory comes from the spawner state the hub stored: a local process
 * (`{pid}`) is measured as the resident set (`VmRSS` in
 * `/proc/<pid>/status`, proc(5)) of the process and its descendants; a
 * systemd unit (`{unit}`) by its cgroup's `memory.current`.
 *
 * @module
 */
import { type Context, Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { adminPage } from "../../templates/mod.ts";
import type { HubConfig } from "../config.ts";
import type { Db } from "../db/mod.ts";
import { HubError } from "../errors.ts";
import type { HubEnv } from "../middleware/identity.ts";
import { assertScopes } from "../middleware/require_scope.ts";
import { toLogin } from "./home.ts";

/** Reads a text file, or null when it cannot be read. */
export type ReadText = (path: string) => Promise<string | null>;

/** Dependencies of the admin pages. */
export interface AdminPagesDeps {
  db: Db;
  config: HubConfig;
  /** @default {reads the file; null on any error} */
  readText?: ReadText;
}

/** The bytes of a `VmRSS:` line in a `/proc/<pid>/status` text, or null. */
export function parseVmRss(status: string): number | null {
  const m = /^VmRSS:\s+(\d+)\s+kB\s*$/m.exec(status);
  return m ? Number(m[1]) * 1024 : null;
}

const UNIT_NAME = /^[A-Za-z0-9@._:-]+\.(service|scope)$/;
const MAX_PROCESSES = 256;

/** Resident memory of a process and its descendants, or null when it is gone. */
export async function processTreeRss(
  pid: number,
  readText: ReadText,
): Promise<number | null> {
  let total: number | null = null;
  const queue = [pid];
  const seen = new Set<number>();
  while (queue.length && seen.size < MAX_PROCESSES) {
    const p = queue.shift()!;
    if (seen.has(p)) continue;
    seen.add(p);
    const rss = parseVmRss(await readText(`/proc/${p}/status`) ?? "");
    if (rss === null) continue;
    total = (total ?? 0) + rss;
    // Needs CONFIG_PROC_CHILDREN (Debian has it); without it only the top process counts.
    const children = await readText(`/proc/${p}/task/${p}/children`) ?? "";
    for (const c of children.trim().split(/\s+/)) {
      if (/^\d+$/.test(c)) queue.push(Number(c));
    }
  }
  return total;
}

/** Memory in bytes for one stored spawner state, or null when unknown. */
export async function memoryOfState(
  state: Record<string, unknown>,
  readText: ReadText,
): Promise<number | null> {
  if (typeof state.pid === "number" && Number.isInteger(state.pid)) {
    return await processTreeRss(state.pid, readText);
  }
  if (typeof state.unit === "string" && UNIT_NAME.test(state.unit)) {
    const text = await readText(
      `/sys/fs/cgroup/system.slice/${state.unit}/memory.current`,
    );
    const n = Number(text?.trim());
    return text !== null && Number.isFinite(n) && n >= 0 ? n : null;
  }
  return null;
}

const readTextFile: ReadText = async (path) => {
  try {
    return await Deno.readTextFile(path);
  } catch {
    return null;
  }
};

/** The admin sub-app (paths relative to `{base_url}hub`). */
export function createAdminPages(deps: AdminPagesDeps): Hono<HubEnv> {
  const app = new Hono<HubEnv>();
  const { db, config } = deps;
  const readText = deps.readText ?? readTextFile;

  app.get("/admin", async (c) => {
    const identity = c.get("identity");
    if (!identity) return toLogin(c, config);
    await assertScopes(db, identity, ["admin-ui"], undefined);
    c.header("Cache-Control", "no-store");
    return c.html(adminPage({
      baseUrl: config.baseUrl,
      user: identity.name,
      xsrf: c.get("xsrf"),
    }));
  });

  app.get("/admin/api/memory", async (c: Context<HubEnv>) => {
    try {
      await assertScopes(db, c.get("identity"), ["admin-ui"], undefined);
    } catch (error) {
      if (!(error instanceof HubError)) throw error;
      return c.json(
        { status: error.status, message: error.message },
        error.status as ContentfulStatusCode,
      );
    }
    const rows = await db.selectFrom("servers")
      .innerJoin("users", "users.id", "servers.user_id")
      .select(["users.name as user", "servers.name as server", "servers.state"])
      .where("servers.status", "=", "running")
      .execute();
    const result: Record<string, number> = {};
    await Promise.all(rows.map(async (row) => {
      let state: unknown;
      try {
        state = JSON.parse(row.state);
      } catch {
        return;
      }
      if (!state || typeof state !== "object") return;
      const bytes = await memoryOfState(
        state as Record<string, unknown>,
        readText,
      );
      if (bytes !== null) result[`${row.user}/${row.server}`] = bytes;
    }));
    c.header("Cache-Control", "no-store");
    return c.json(result);
  });
  return app;
}
