/**
 * The built-in proxy: one public listener; requests under a routed prefix
 * (`/user/alice/`) are relayed to that route's target, everything else to
 * the `/` route (the hub). HTTP/1.1 is handled on raw connections
 * (http1.ts) for speed and bounded memory; WebSockets are spliced after the
 * handshake.
 *
 * Deviation from the original design note (a `fallback` function): the hub
 * is an ordinary target on a loopback port, exactly as JupyterHub's hub sits
 * behind configurable-http-proxy. Relaying raw bytes measured ≈3× faster
 * than building `Request` objects for every proxied request (see
 * docs/benchmarks.md), and it lets the same proxy run as a separate process
 * (`onehub proxy`) unchanged.
 *
 * Imports: Web/Deno APIs and its own files only (never hub/).
 * Tests: tests/proxy/.
 *
 * @module
 */
import { BufferedConn, type Conn, ProtocolError, writeAll } from "./http1.ts";
import {
  type ClientInfo,
  isWebSocketUpgrade,
  parseRequestHead,
  requestFraming,
  type RequestHead,
  serializeHead,
  wantsKeepAlive,
} from "./headers.ts";
import { type RelayContext, relayHttp } from "./forward_http.ts";
import { relayWebSocket } from "./forward_websocket.ts";
import { type Route, RouteTable } from "./route_table.ts";
import { Activity } from "./activity.ts";
import { type Connector, UpstreamPool } from "./upstream_pool.ts";

export { normalizePrefix, type Route, RouteTable } from "./route_table.ts";
export { Activity } from "./activity.ts";

/** A rendered error page. */
export interface ErrorPage {
  contentType: string;
  body: string;
}

/** Minimal logger the proxy writes to (the hub passes its own). */
export interface ProxyLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

/** Options of {@linkcode createProxy}. */
export interface ProxyOptions {
  /** Renders the page for 404 (no route), 502, 503 (target down), 504 (connect timeout). */
  renderError?: (
    status: number,
    request: { method: string; path: string },
  ) => ErrorPage;
  /** Milliseconds before connecting to a target counts as failed (504). @default {10000} */
  connectTimeoutMs?: number;
  /** Addresses of downstream proxies whose `X-Forwarded-*` are kept (e.g. nginx in front). @default {[]} */
  trustedProxies?: readonly string[];
  /** Idle time allowed between requests on a client connection. @default {60000} */
  keepAliveTimeoutMs?: number;
  /** Time allowed to send a whole request head. @default {30000} */
  headTimeoutMs?: number;
  /** @default {Date.now} */
  now?: () => number;
  /** Opens connections to targets; tests inject one that never completes. @default {Deno.connect} */
  connect?: Connector;
  logger?: ProxyLogger;
  /** Send `Strict-Transport-Security: max-age=N` on HTTPS responses (RFC 6797). @default {off} */
  hstsMaxAge?: number;
}

/** How to listen. */
export interface ListenOptions {
  hostname: string;
  port: number;
  /** PEM certificate chain and key: serve HTTPS. */
  cert?: string;
  key?: string;
}

/** A running listener. */
export interface ProxyListener {
  hostname: string;
  port: number;
  /** Resolves when the listener has stopped accepting and the connections it accepted have ended. */
  finished: Promise<void>;
  close(): void;
}

/** The proxy. */
export interface Proxy {
  routes: RouteTable;
  activity: Activity;
  /** Adds or replaces a route. */
  addRoute(
    prefix: string,
    target: string,
    data?: Record<string, unknown>,
  ): Route;
  /** Removes a route (idle connections to its target are closed). */
  removeRoute(prefix: string): boolean;
  /** Serves one accepted connection until it closes. */
  serveConnection(
    conn: Conn,
    listener: { proto: "http" | "https"; port: number },
  ): Promise<void>;
  listen(options: ListenOptions): ProxyListener;
  /** Stops every listener and closes every connection. */
  close(): void;
}

const REASONS: Record<number, string> = {
  400: "Bad Request",
  404: "Not Found",
  408: "Request Timeout",
  431: "Request Header Fields Too Large",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
  505: "HTTP Version Not Supported",
};

const DEFAULT_MESSAGES: Record<number, string> = {
  404: "Nothing is served at this address.",
  502: "The server behind this address sent an invalid response.",
  503: "The server behind this address is not running or not answering.",
  504: "The server behind this address did not accept the connection in time.",
};

function defaultErrorPage(status: number): ErrorPage {
  const reason = REASONS[status] ?? "Error";
  const message = DEFAULT_MESSAGES[status] ??
    "The request could not be handled.";
  return {
    contentType: "text/html; charset=utf-8",
    body:
      `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${status} ${reason}</title></head>` +
      `<body><h1>${status} ${reason}</h1><p>${message}</p></body></html>`,
  };
}

/** The decoded path used for routing, or null when the target is malformed. */
export function routingPath(target: string): string | null {
  let path: string;
  if (target === "*") return "/";
  if (target.startsWith("/")) path = target.split("?", 1)[0]!.split("#", 1)[0]!;
  else {
    try {
      path = new URL(target).pathname;
    } catch {
      return null;
    }
  }
  try {
    return decodeURIComponent(path);
  } catch {
    return null;
  }
}

/** Creates a proxy with an empty route table. */
export function createProxy(options: ProxyOptions = {}): Proxy {
  const now = options.now ?? Date.now;
  const routes = new RouteTable();
  const activity = new Activity(now);
  const pool = new UpstreamPool({
    connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
    ...(options.connect ? { connect: options.connect } : {}),
  });
  const trusted = new Set(options.trustedProxies ?? []);
  const keepAliveTimeoutMs = options.keepAliveTimeoutMs ?? 60_000;
  const headTimeoutMs = options.headTimeoutMs ?? 30_000;
  const render = options.renderError ?? defaultErrorPage;
  const connections = new Set<Conn>();
  /** Connections waiting for a request head, and when they give up. */
  const deadlines = new Map<Conn, number>();
  let sweeper: ReturnType<typeof setInterval> | null = null;
  const ensureSweeper = () => {
    if (sweeper !== null) return;
    const every = Math.max(
      10,
      Math.min(
        1000,
        Math.floor(Math.min(headTimeoutMs, keepAliveTimeoutMs) / 4),
      ),
    );
    sweeper = setInterval(() => {
      const now = Date.now();
      for (const [conn, deadline] of deadlines) {
        if (deadline <= now) {
          deadlines.delete(conn);
          closeQuietly(conn);
        }
      }
      if (deadlines.size === 0 && sweeper !== null) {
        clearInterval(sweeper);
        sweeper = null;
      }
    }, every);
  };
  const listeners = new Set<Deno.Listener>();
  const encoder = new TextEncoder();
  const hsts = options.hstsMaxAge === undefined
    ? null
    : `max-age=${options.hstsMaxAge}`;

  const sendError = async (
    conn: Conn,
    status: number,
    request: RequestHead | null,
    keepAlive: boolean,
  ) => {
    const page = request
      ? render(status, {
        method: request.method,
        path: routingPath(request.target) ?? request.target,
      })
      : defaultErrorPage(status);
    const body = encoder.encode(request?.method === "HEAD" ? "" : page.body);
    const head = serializeHead(
      `HTTP/1.1 ${status} ${REASONS[status] ?? "Error"}`,
      [
        ["Content-Type", page.contentType],
        ["Content-Length", String(encoder.encode(page.body).length)],
        ["Cache-Control", "no-store"],
        ...(hsts && "handshake" in conn
          ? [["Strict-Transport-Security", hsts] as [string, string]]
          : []),
        ...(keepAlive ? [] : [["Connection", "close"] as [string, string]]),
      ],
    );
    const out = new Uint8Array(head.length + body.length);
    out.set(head);
    out.set(body, head.length);
    await writeAll(conn, out);
  };

  const ctx: RelayContext = {
    pool,
    activity,
    hsts,
    sendError: (c, s, r, k) => sendError(c, s, r, k),
  };

  async function serveConnection(
    conn: Conn,
    listener: { proto: "http" | "https"; port: number },
  ): Promise<void> {
    connections.add(conn);
    const peer = conn.remoteAddr as Deno.NetAddr;
    const info: ClientInfo = {
      address: peer.hostname,
      proto: listener.proto,
      port: listener.port,
      trusted: trusted.has(peer.hostname),
    };
    (conn as Partial<Deno.TcpConn>).setNoDelay?.(true);
    const client = new BufferedConn(conn);
    let first = true;
    try {
      while (true) {
        // One shared sweeper instead of a timer per request (timers cost ≈4% of a small request).
        deadlines.set(
          conn,
          Date.now() + (first ? headTimeoutMs : keepAliveTimeoutMs),
        );
        ensureSweeper();
        let text: string | null;
        try {
          text = await client.readHead();
        } finally {
          deadlines.delete(conn);
        }
        first = false;
        if (text === null) break;
        let head: RequestHead;
        try {
          head = parseRequestHead(text);
        } catch (error) {
          if (error instanceof ProtocolError) {
            await sendError(conn, error.status, null, false);
          }
          break;
        }
        const path = routingPath(head.target);
        if (path === null) {
          await sendError(conn, 400, null, false);
          break;
        }
        // Answered here without reading a body: keep the connection only when there is none to skip.
        const canContinue = requestFraming(head).kind === "none" &&
          wantsKeepAlive(head.version, head.headers);
        if (path === "/_chp_healthz") {
          await writeAll(conn, healthz(head.method, canContinue));
          if (!canContinue) break;
          continue;
        }
        const route = routes.match(path);
        if (!route) {
          await sendError(conn, 404, head, canContinue);
          if (!canContinue) break;
          continue;
        }
        if (isWebSocketUpgrade(head)) {
          await relayWebSocket(client, head, route, info, ctx);
          break;
        }
        const result = await relayHttp({ client, head, route, info }, ctx);
        if (result === "close") break;
      }
    } catch (error) {
      if (error instanceof ProtocolError) {
        await sendError(conn, error.status, null, false).catch(() => {});
      } else {options.logger?.debug("proxy connection ended", {
          error: (error as Error).message,
        });}
    } finally {
      connections.delete(conn);
      closeQuietly(conn);
    }
  }

  function listen(opts: ListenOptions): ProxyListener {
    const tls = opts.cert !== undefined && opts.key !== undefined;
    const listener = tls
      ? Deno.listenTls({
        hostname: opts.hostname,
        port: opts.port,
        cert: opts.cert!,
        key: opts.key!,
      })
      : Deno.listen({ hostname: opts.hostname, port: opts.port });
    listeners.add(listener);
    const addr = listener.addr as Deno.NetAddr;
    const proto = tls ? "https" as const : "http" as const;
    const serving = new Set<Promise<void>>();
    const finished = (async () => {
      try {
        for await (const conn of listener) {
          const task: Promise<void> = serveConnection(conn, {
            proto,
            port: addr.port,
          })
            .catch(() => {})
            .finally(() => serving.delete(task));
          serving.add(task);
        }
      } catch { /* listener closed */ }
      listeners.delete(listener);
      // Connections outlive the listener until they end (proxy.close() ends them).
      await Promise.all(serving);
    })();
    return {
      hostname: addr.hostname,
      port: addr.port,
      finished,
      close: () => closeQuietly(listener),
    };
  }

  return {
    routes,
    activity,
    addRoute(prefix, target, data = {}) {
      const route = routes.set(prefix, target, data);
      activity.touch(route.prefix);
      return route;
    },
    removeRoute(prefix) {
      const route = routes.get(prefix);
      if (!route) return false;
      routes.delete(prefix);
      activity.delete(route.prefix);
      if (!routes.list().some((r) => r.target === route.target)) {
        pool.forget(route.target);
      }
      return true;
    },
    serveConnection,
    listen,
    close() {
      for (const l of listeners) closeQuietly(l);
      for (const c of connections) closeQuietly(c);
      deadlines.clear();
      if (sweeper !== null) clearInterval(sweeper);
      sweeper = null;
      pool.close();
    },
  };
}

const HEALTHZ_BODY = '{"status": "OK"}';

/** The `/_chp_healthz` answer (CHP's body, byte for byte). */
function healthz(method: string, keepAlive: boolean): Uint8Array {
  const head = serializeHead("HTTP/1.1 200 OK", [
    ["Content-Type", "application/json"],
    ["Content-Length", String(HEALTHZ_BODY.length)],
    ...(keepAlive ? [] : [["Connection", "close"] as [string, string]]),
  ]);
  const body = method === "HEAD"
    ? new Uint8Array(0)
    : new TextEncoder().encode(HEALTHZ_BODY);
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}

function closeQuietly(closer: { close(): void }): void {
  try {
    closer.close();
  } catch { /* already closed */ }
}
export { createProxyApi, type ProxyApiOptions } from "./api.ts";
