/**
 * The `services.*` keys: the services list (JupyterHub's
 * c.JupyterHub.services) and the built-in idle culler (`services.cull.*`).
 *
 * @module
 */
import type { KeySpec } from "../schema.ts";
import {
  parseServices,
  type ServiceSpec,
  servicesToRaw,
} from "../../services/spec.ts";

/** The `services.*` keys, in table order. */
export const SERVICES_KEYS = [
  {
    key: "services.list",
    field: "services",
    kind: "records",
    default: [],
    reload: "restart",
    doc:
      "Services (JupyterHub's c.JupyterHub.services): name, url, command, api_token, admin, scopes, allow_all_users, oauth_no_confirm, … (see README)",
    resolve: (v) => parseServices(v),
    toRaw: (v: ServiceSpec[]) => servicesToRaw(v),
  },
  {
    key: "services.cull.enabled",
    field: "cull.enabled",
    kind: "bool",
    default: true,
    reload: "live",
    doc: "Stop idle servers (the built-in idle culler, on as in TLJH)",
  },
  {
    key: "services.cull.timeout",
    field: "cull.timeoutSeconds",
    kind: "int",
    default: 600,
    min: 1,
    max: 31536000,
    reload: "live",
    doc: "Seconds without activity after which a server is stopped",
  },
  {
    key: "services.cull.every",
    field: "cull.everySeconds",
    kind: "int",
    default: 60,
    min: 1,
    max: 86400,
    reload: "live",
    doc: "Seconds between the culler's passes",
  },
  {
    key: "services.cull.concurrency",
    field: "cull.concurrency",
    kind: "int",
    default: 5,
    min: 1,
    max: 100,
    reload: "live",
    doc: "Servers the culler stops at once",
  },
  {
    key: "services.cull.max_age",
    field: "cull.maxAgeSeconds",
    kind: "int",
    default: 0,
    min: 0,
    max: 31536000,
    reload: "live",
    doc: "Stop servers older than this many seconds even when busy (0 = never)",
  },
  {
    key: "services.cull.users",
    field: "cull.users",
    kind: "bool",
    default: false,
    reload: "live",
    doc:
      "Also delete idle users who have no running server (never admins, never users named in users.allowed or users.admin)",
  },
  {
    key: "services.cull.remove_named_servers",
    field: "cull.removeNamedServers",
    kind: "bool",
    default: false,
    reload: "live",
    doc: "Delete culled named servers instead of only stopping them",
  },
  {
    key: "services.cull.admin_users",
    field: "cull.adminUsers",
    kind: "bool",
    default: true,
    reload: "live",
    doc:
      "Cull admins' servers too (jupyterhub-idle-culler's --cull-admin-users)",
  },
] as const satisfies readonly KeySpec[];
