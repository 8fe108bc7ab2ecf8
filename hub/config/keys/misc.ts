/**
 * Keys of their own small sections: logging out (`session.shutdown_on_logout`),
 * the event log (`events.*`), `/hub/metrics` (`metrics.*`), sharing
 * (`sharing.*`) and the banner (`announcement`).
 *
 * @module
 */
import type { KeySpec } from "../schema.ts";

/** `session.shutdown_on_logout`, `events.*` and `metrics.*`, in table order (after `limits.cpu`). */
export const SESSION_EVENT_METRIC_KEYS = [
  {
    key: "session.shutdown_on_logout",
    field: "session.shutdownOnLogout",
    kind: "bool",
    default: false,
    reload: "live",
    doc:
      "Stop the user's servers when they log out (JupyterHub's shutdown_on_logout)",
  },
  {
    key: "events.retention_days",
    field: "events.retentionDays",
    kind: "int",
    default: 90,
    min: 1,
    max: 3650,
    reload: "live",
    doc: "Days the event log (onehub events) keeps an event",
  },
  {
    key: "events.max_rows",
    field: "events.maxRows",
    kind: "int",
    default: 200000,
    min: 1000,
    max: 10000000,
    reload: "live",
    doc: "Events kept at most; the oldest go first",
  },
  {
    key: "metrics.authenticate",
    field: "metrics.authenticate",
    kind: "bool",
    default: true,
    reload: "live",
    doc:
      "/hub/metrics needs a token or login with read:metrics (false: open to anyone who reaches the hub, as authenticate_prometheus = False)",
  },
] as const satisfies readonly KeySpec[];

/** `sharing.enabled` and `announcement`, in table order (after `course_files.*`). */
export const SHARING_ANNOUNCEMENT_KEYS = [
  {
    key: "sharing.enabled",
    field: "sharing.enabled",
    kind: "bool",
    default: false,
    reload: "live",
    doc:
      "Let users share their servers with other users and groups (JupyterHub 5 sharing: adds shares!user, read:users:name and read:groups:name to the user role)",
  },
  {
    key: "announcement",
    field: "announcement",
    kind: "string",
    default: "",
    reload: "live",
    doc:
      "Banner text on the login and home pages (plain text; the admin page can set one that wins)",
    check: (v) =>
      v.length > 1000
        ? `Invalid value for "announcement": ${v.length} characters; keep it to 1000`
        : null,
  },
] as const satisfies readonly KeySpec[];
