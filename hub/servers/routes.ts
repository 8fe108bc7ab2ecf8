/**
 * The hub's side of the proxy: a {@linkcode ProxyControl} per mode (the
 * built-in proxy in this process, or a separate `onehub proxy` /
 * configurable-http-proxy driven over its REST API) and the
 * {@linkcode RouteService} that persists every route it adds, restores
 * them after a restart and pulls activity for the idle culler and admin
 * page.
 *
 * @module
 */
import { deleteRoute, routeRows, upsertRoute } from "../db/routes.ts";
import { type Fence, normalizePrefix, type Proxy } from "../../proxy/mod.ts";
import type { Db } from "../db/mod.ts";

/** A route as the hub sees it. */
export interface RouteInfo {
  target: string;
  data: Record<string, unknown>;
  /** Epoch ms of the last activity the proxy saw, or null. */
  lastActivity: number | null;
}

/** What the hub needs from a proxy. */
export interface ProxyControl {
  add(
    prefix: string,
    target: string,
    data: Record<string, unknown>,
  ): Promise<void>;
  remove(prefix: string): Promise<void>;
  list(): Promise<Map<string, RouteInfo>>;
  /**
   * Keeps credentials off a route for a while and closes their open
   * connections (proxy/fence.ts). The built-in proxy only: the REST API of
   * an external proxy has no such call.
   */
  fence?(prefix: string, fence: Fence): Promise<void>;
}

/** Controls the proxy running in this process. */
export function inProcessControl(proxy: Proxy): ProxyControl {
  return {
    add(prefix, target, data) {
      proxy.addRoute(prefix, target, data);
      return Promise.resolve();
    },
    remove(prefix) {
      proxy.removeRoute(prefix);
      return Promise.resolve();
    },
    fence(prefix, fence) {
      proxy.fence(prefix, fence);
      return Promise.resolve();
    },
    list() {
      const out = new Map<string, RouteInfo>();
      for (const r of proxy.routes.list()) {
        out.set(r.prefix, {
          target: r.target,
          data: r.data,
          lastActivity: proxy.activity.get(r.prefix) ?? null,
        });
      }
      return Promise.resolve(out);
    },
  };
}

/** Options of {@linkcode remoteControl}. */
export interface RemoteControlOptions {
  /** e.g. "http://127.0.0.1:8001" */
  apiUrl: string;
  token: string;
  /** @default {10000} */
  timeoutMs?: number;
}

/** The proxy failed to do what the hub asked. */
export class ProxyControlError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ProxyControlError";
  }
}

/** One call of CHP's REST API: `method` on `/api/routes{path}`, JSON in. */
type RouteCall = (
  method: string,
  request: { path: string; body?: unknown },
) => Promise<Response>;

/** The REST API caller of {@linkcode remoteControl}; a failure to connect names the proxy API's URL. */
function routeCaller(options: RemoteControlOptions): RouteCall {
  const base = options.apiUrl.replace(/\/+$/, "");
  return async (method, { path, body }) => {
    try {
      return await fetch(`${base}/api/routes${path}`, {
        method,
        headers: {
          authorization: `token ${options.token}`,
          "content-type": "application/json",
        },
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch (error) {
      throw new ProxyControlError(
        `Cannot reach the proxy API at ${base}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  };
}

/** CHP's `GET /api/routes` body as the hub's route map. */
function routeMap(
  body: Record<string, Record<string, unknown>>,
): Map<string, RouteInfo> {
  const out = new Map<string, RouteInfo>();
  for (const [prefix, entry] of Object.entries(body)) {
    const { target, last_activity: last, ...data } = entry;
    const parsed = typeof last === "string" ? Date.parse(last) : NaN;
    out.set(normalizePrefix(prefix), {
      target: String(target),
      data,
      lastActivity: Number.isNaN(parsed) ? null : parsed,
    });
  }
  return out;
}

/** Controls a separate proxy through configurable-http-proxy's REST API. */
export function remoteControl(options: RemoteControlOptions): ProxyControl {
  const call = routeCaller(options);
  const path = (prefix: string) =>
    normalizePrefix(prefix).split("/").map(encodeURIComponent).join("/");
  return {
    async add(prefix, target, data) {
      const res = await call("POST", {
        path: path(prefix),
        body: { ...data, target },
      });
      await res.body?.cancel();
      if (res.status !== 201) {
        throw new ProxyControlError(
          `The proxy refused route ${prefix}: status ${res.status}`,
        );
      }
    },
    async remove(prefix) {
      const res = await call("DELETE", { path: path(prefix) });
      await res.body?.cancel();
      if (res.status !== 204 && res.status !== 404) {
        throw new ProxyControlError(
          `The proxy refused to delete route ${prefix}: status ${res.status}`,
        );
      }
    },
    async list() {
      const res = await call("GET", { path: "" });
      if (res.status !== 200) {
        await res.body?.cancel();
        throw new ProxyControlError(
          `The proxy API answered ${res.status} to GET /api/routes: check its token`,
        );
      }
      return routeMap(await res.json());
    },
  };
}

/** Routes the hub owns, kept in the database and mirrored to the proxy. */
export class RouteService {
  readonly #db: Db;
  readonly #control: ProxyControl;
  readonly #now: () => Date;

  constructor(
    db: Db,
    control: ProxyControl,
    now: () => Date = () => new Date(),
  ) {
    this.#db = db;
    this.#control = control;
    this.#now = now;
  }

  /** Adds (or replaces) a route and remembers it. */
  async add(
    prefix: string,
    target: string,
    data: Record<string, unknown> = {},
  ): Promise<void> {
    const key = normalizePrefix(prefix);
    const stored = { ...data, jupyterhub: true };
    await upsertRoute(this.#db, {
      prefix: key,
      target,
      data: JSON.stringify(stored),
      created: this.#now().toISOString(),
    });
    await this.#control.add(key, target, stored);
  }

  /**
   * Removes the stored routes of a user's server other than `keep` (left
   * by a hub that ran with another `subdomain_host`).
   */
  async removeOthers(
    user: string,
    server: string,
    keep: string,
  ): Promise<void> {
    const other = (r: { prefix: string }) => r.prefix !== normalizePrefix(keep);
    for (const r of (await routeRows(this.#db)).filter(other)) {
      const data = JSON.parse(r.data) as Record<string, unknown>;
      if (data.user === user && (data.server_name ?? "") === server) {
        await this.remove(r.prefix);
      }
    }
  }

  /** Stored routes whose data names a service (`{"service": name}`), by prefix → service. */
  async serviceRoutes(): Promise<Map<string, string>> {
    const rows = await routeRows(this.#db);
    const out = new Map<string, string>();
    for (const r of rows) {
      const data = JSON.parse(r.data) as { service?: unknown };
      if (typeof data.service === "string") out.set(r.prefix, data.service);
    }
    return out;
  }

  /**
   * Refuses a route to these credentials for `fence.forMs` and closes
   * their open connections on it, where the proxy can (the built-in one);
   * returns whether it could.
   */
  async fence(prefix: string, fence: Fence): Promise<boolean> {
    if (!this.#control.fence) return false;
    await this.#control.fence(normalizePrefix(prefix), fence);
    return true;
  }

  /** Removes a route and forgets it. */
  async remove(prefix: string): Promise<void> {
    const key = normalizePrefix(prefix);
    await deleteRoute(this.#db, key);
    await this.#control.remove(key);
  }

  /**
   * Makes the proxy's table match the database: adds missing routes, fixes
   * wrong targets, deletes routes the hub added earlier but no longer owns
   * (marked `jupyterhub: true`, as JupyterHub does); leaves others alone.
   *
   * @param keep prefixes that are not in the database but must stay (the hub's own `/`).
   */
  async sync(
    keep: ReadonlySet<string> = new Set(),
  ): Promise<{ added: string[]; removed: string[] }> {
    const rows = await routeRows(this.#db);
    const current = await this.#control.list();
    const added: string[] = [];
    const removed: string[] = [];
    const wanted = new Set(rows.map((r) => r.prefix));
    for (const row of rows) {
      const have = current.get(row.prefix);
      if (!have || have.target !== row.target) {
        await this.#control.add(row.prefix, row.target, JSON.parse(row.data));
        added.push(row.prefix);
      }
    }
    for (const [prefix, info] of current) {
      if (
        !wanted.has(prefix) && !keep.has(prefix) &&
        info.data.jupyterhub === true
      ) {
        await this.#control.remove(prefix);
        removed.push(prefix);
      }
    }
    return { added, removed };
  }

  /** The proxy's current table. */
  list(): Promise<Map<string, RouteInfo>> {
    return this.#control.list();
  }
}
