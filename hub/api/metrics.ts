/**
 * `GET /hub/metrics` (and `/hub/api/metrics`): the hub's Prometheus
 * metrics (hub/observe/metrics.ts), behind `read:metrics` unless
 * `metrics.authenticate` is false (JupyterHub's authenticate_prometheus).
 *
 * @module
 */
import type { Db } from "../db/mod.ts";
import { countUsers } from "../db/users.ts";
import { countServersByStatus } from "../db/servers.ts";
import type { HubConfig } from "../config/mod.ts";
import type { HubGauges, HubMetrics } from "../observe/metrics.ts";
import type { Ctx } from "../middleware/identity.ts";
import { MISSING_CREDENTIALS } from "../middleware/require_scope.ts";

/** What the metrics route needs. */
export interface MetricsDeps {
  db: Db;
  config: HubConfig;
  metrics: HubMetrics;
  now: () => Date;
  /** Managed services: name → up (1) or down (0). */
  services?: () => Record<string, number>;
}

const DAY_MS = 86400_000;

/** The gauges a scrape reads from the database. */
export async function readGauges(deps: MetricsDeps): Promise<HubGauges> {
  const now = deps.now().getTime();
  const periods = [1, 7, 30].map((d) =>
    new Date(now - d * DAY_MS).toISOString()
  );
  const users = await countUsers(deps.db, periods);
  const servers = await countServersByStatus(deps.db);
  return {
    totalUsers: users.total,
    runningServers: servers.running,
    pendingServers: servers.spawning,
    activeUsers: {
      "24h": users.activeSince[0]!,
      "7d": users.activeSince[1]!,
      "30d": users.activeSince[2]!,
    },
    ...(deps.services ? { services: deps.services() } : {}),
  };
}

/** The route handler. */
export async function metricsRoute(
  c: Ctx,
  deps: MetricsDeps,
): Promise<Response> {
  if (deps.config.metrics.authenticate) {
    // JSON on both paths: a scraper reads the reason, a page would hide it.
    const identity = c.get("identity");
    if (!identity?.scopes.has("read:metrics")) {
      const message = identity
        ? "Access to metrics requires scope 'read:metrics'"
        : MISSING_CREDENTIALS;
      return c.json({ status: 403, message }, 403);
    }
  }
  const text = deps.metrics.render(await readGauges(deps));
  return c.body(text, 200, {
    "Content-Type": "text/plain; version=0.0.4; charset=utf-8",
    "Cache-Control": "no-store",
  });
}
