/**
 * `/hub/admin` (the classroom admin page) and `/hub/admin/api/memory`
 * (what each running server uses now, for the page's memory column). Both
 * need the `admin-ui` scope; everything else the page does goes through
 * the REST API.
 *
 * Memory is measured by the spawner of each running server
 * (`Spawner.memory`, through `ServerManager.memoryOfRunning`).
 *
 * @module
 */
import { type Context, Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { adminPage } from "../../templates/mod.ts";
import type { HubConfig } from "../config/mod.ts";
import type { Db } from "../db/mod.ts";
import { HubError } from "../errors.ts";
import type { HubEnv } from "../middleware/identity.ts";
import { assertScopes } from "../middleware/require_scope.ts";
import { type ServerManager, unixAccountOf } from "../servers/manager.ts";
import { toLogin } from "./home.ts";
import type { Announcement } from "../announcement.ts";
import {
  type CourseFiles,
  type UpdateAll,
  updateAll,
} from "../servers/course_files.ts";
import { listUserNames } from "../db/users.ts";
import type { SystemUser } from "../../spawners/mod.ts";
import type { EventLog } from "../observe/events.ts";
import { formOf, formXsrf } from "../middleware/form_xsrf.ts";
import { lastEventOf } from "../db/events.ts";
import type { IdleCuller } from "../servers/culler.ts";
import type { ServiceStatus } from "../../templates/mod.ts";

/** Dependencies of the admin pages. */
export interface AdminPagesDeps {
  db: Db;
  config: HubConfig;
  /** Measures running servers (absent: the memory column stays empty). */
  servers?: Pick<ServerManager, "memoryOfRunning" | "memoryLimitsOfRunning">;
  /** The idle culler (its settings and last pass are shown). */
  culler?: Pick<IdleCuller, "last">;
  /** Services and their state. */
  services?: () => ServiceStatus[];
  /** The announcement banner (set from this page). */
  announcement?: Announcement;
  /** Where the banner change is recorded. */
  events?: EventLog;
  /** Course files ("Update course files" for everyone). */
  courseFiles?: CourseFiles;
}

/** Answers an admin-only JSON endpoint: the `admin-ui` check, then `fn`. */
async function adminJson(
  c: Context<HubEnv>,
  db: Db,
  fn: () => Promise<unknown>,
): Promise<Response> {
  try {
    await assertScopes(db, c.get("identity"), { required: ["admin-ui"] });
  } catch (error) {
    if (!(error instanceof HubError)) throw error;
    return c.json(
      { status: error.status, message: error.message },
      error.status as ContentfulStatusCode,
    );
  }
  c.header("Cache-Control", "no-store");
  return c.json(await fn());
}

/** The admin page's JSON endpoints (memory, limits, culls), each behind `admin-ui`. */
function mountAdminJson(app: Hono<HubEnv>, deps: AdminPagesDeps): void {
  const { db } = deps;
  app.get(
    "/admin/api/memory",
    (c) =>
      adminJson(c, db, async () => await deps.servers?.memoryOfRunning() ?? {}),
  );
  // user/server → the memory limit it started with
  app.get(
    "/admin/api/memory-limits",
    (c) =>
      adminJson(
        c,
        db,
        async () => await deps.servers?.memoryLimitsOfRunning() ?? {},
      ),
  );
  // user → time of the culler's last stop of one of their servers
  app.get(
    "/admin/api/culled",
    (c) => adminJson(c, db, () => lastEventOf(db, "cull.server")),
  );
}

/** The course files' update for everyone: the last result, and one under way. */
interface CourseUpdates {
  last: (UpdateAll & { skipped: string[] }) | null;
  running: { started: string; users: number; done: number } | null;
}

/**
 * `POST /admin/course-files`: starts the update in the background (a
 * class's merges take a while) and goes back to the page, which shows how
 * far it got. One at a time: a second click while one runs just shows it.
 */
function mountCourseUpdate(
  app: Hono<HubEnv>,
  deps: AdminPagesDeps,
  updates: CourseUpdates,
): void {
  const { db, config } = deps;
  app.post("/admin/course-files", formXsrf({ token: "session" }), async (c) => {
    const identity = await assertScopes(db, c.get("identity"), {
      required: ["admin-ui"],
    });
    const courseFiles = deps.courseFiles;
    if (!courseFiles?.enabled) {
      throw new HubError(400, "No course files: set course_files.source first");
    }
    if (!updates.running) {
      const { accounts, skipped } = await linuxAccountsOfUsers(db, config);
      const progress = {
        started: new Date().toISOString(),
        users: accounts.length,
        done: 0,
      };
      updates.running = progress;
      updateAll(courseFiles, {
        users: accounts,
        actor: identity.name,
        onDone: () => progress.done++,
      })
        .then((result) => void (updates.last = { ...result, skipped }))
        .catch((error) =>
          void (updates.last = {
            at: new Date().toISOString(),
            users: progress.users,
            failed: [`everyone (${(error as Error).message.slice(0, 200)})`],
            skipped,
          })
        )
        .finally(() => void (updates.running = null));
    }
    return c.redirect(`${config.baseUrl}hub/admin`, 302);
  });
}

/** The admin sub-app (paths relative to `{base_url}hub`). */
export function createAdminPages(deps: AdminPagesDeps): Hono<HubEnv> {
  const app = new Hono<HubEnv>();
  const { db, config } = deps;
  const updates: CourseUpdates = { last: null, running: null };

  app.get("/admin", async (c) => {
    const identity = c.get("identity");
    if (!identity) return toLogin(c, config);
    await assertScopes(db, identity, { required: ["admin-ui"] });
    c.header("Cache-Control", "no-store");
    return c.html(adminPage({
      baseUrl: config.baseUrl,
      user: identity.name,
      xsrf: c.get("xsrf"),
      culler: {
        enabled: config.cull.enabled,
        timeoutSeconds: config.cull.timeoutSeconds,
        everySeconds: config.cull.everySeconds,
        maxAgeSeconds: config.cull.maxAgeSeconds,
        users: config.cull.users,
        last: deps.culler?.last ?? null,
      },
      services: deps.services?.() ?? [],
      banner: deps.announcement?.text() ?? "",
      announcementText: deps.announcement?.adminText() ?? "",
      ...(deps.courseFiles?.enabled
        ? {
          courseFiles: {
            source: config.courseFiles.source,
            target: config.courseFiles.target,
            last: updates.last,
            running: updates.running,
          },
        }
        : {}),
    }));
  });

  mountCourseUpdate(app, deps, updates);

  // A form post (formXsrf: the one form XSRF check), then back to the page.
  app.post("/admin/announcement", formXsrf({ token: "session" }), async (c) => {
    const identity = await assertScopes(db, c.get("identity"), {
      required: ["admin-ui"],
    });
    if (!deps.announcement) throw new HubError(404);
    const text = (formOf(c).get("text") ?? "").replace(/\r\n/g, "\n");
    await deps.announcement.set(text);
    deps.events?.record("announcement.set", {
      actor: identity.name,
      reason: text.trim() ? "set" : "cleared",
    });
    return c.redirect(`${config.baseUrl}hub/admin`, 302);
  });

  mountAdminJson(app, deps);
  return app;
}

/**
 * The Linux accounts of the hub's users, by the spawn's own rule
 * (`unixAccountOf`: `spawner.user_prefix`, `spawner.min_uid`); the names
 * without one are skipped, never given someone else's home.
 */
async function linuxAccountsOfUsers(
  db: Db,
  config: HubConfig,
): Promise<{ accounts: SystemUser[]; skipped: string[] }> {
  const accounts: SystemUser[] = [];
  const skipped: string[] = [];
  for (const name of await listUserNames(db)) {
    const unix = await unixAccountOf(name, config, { create: false })
      .catch(() => null);
    if (unix) accounts.push(unix);
    else skipped.push(name);
  }
  return { accounts, skipped };
}
