/**
 * The built-in proxy: one public listener; requests under a routed prefix
 * (`/user/alice/`) are relayed to that route's target, everything else to
 * the `/` route (the hub). HTTP/1.1 is handled on raw connections
 * (http1.ts) for speed and bounded memory; WebSockets are spliced after the
 * handshake. A connection answered before its request body was read is
 * closed lingering (linger.ts), so clients still sending read the answer.
 *
 * Deviation from the original design note (a `fallback` function): the hub
 * is an ordinary target on a loopback port, exactly as JupyterHub's hub sits
 * behind configurable-http-proxy. Relaying raw bytes measured ≈3× faster
 * than building `Request` objects for every proxied request (see
 * docs/benchmarks.md), and it lets the same proxy run as a separate process
 * (`onehub proxy`) unchanged.
 *
 * Imports: Web/Deno APIs and its own files only (never hub/). The
 * package's public names are listed in mod.ts.
 * Tests: tests/proxy/server_test.ts.
 *
 * @module
 */
import {
  BufferedConn,
  closeQuietly,
  type Conn,
  type Framing,
  ProtocolError,
  writeAll,
} from "./http1.ts";
import {
  type ClientInfo,
  field,
  isWebSocketUpgrade,
  parseRequestHead,
  requestFraming,
  type RequestHead,
  serializeHead,
  wantsKeepAlive,
} from "./headers.ts";
import { type RelayContext, relayHttp } from "./forward_http.ts";
import { relayWebSocket } from "./forward_websocket.ts";
import { normalizePrefix, type Route, RouteTable } from "./route_table.ts";
import { Activity } from "./activity.ts";
import { type Connector, UpstreamPool } from "./upstream_pool.ts";
import { LINGER_DEFAULTS, lingerClose, type LingerLimits } from "./linger.ts";
import {
  type Credentials,
  credentialsOf,
  type Fence,
  Fences,
} from "./fence.ts";

/**
 * The proof an external `onehub proxy` shows the hub, derived from the token
 * both already share (`CONFIGPROXY_AUTH_TOKEN` / `proxy.auth_token`): the
 * token itself never travels in a header.
 */
export async function hubProofFromToken(token: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(token),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = await crypto.subtle.sign(
    "HMAC",
    key,
    new TextEncoder().encode("onehub forwarded-headers proof"),
  );
  return new Uint8Array(mac).toHex();
}

/** A rendered error page. */
export interface ErrorPage {
  contentType: string;
  body: string;
}

/** What {@linkcode ProxyOptions.refuse} is told of a request. */
export interface RequestSummary {
  method: string;
  /** The decoded path used for routing. */
  path: string;
  /** The declared Content-Length, or null (none, or chunked). */
  contentLength: number | null;
}

/** An answer the proxy sends itself instead of relaying. */
export interface Refusal extends ErrorPage {
  status: number;
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
  /** Bounds of the lingering close after an answer sent before the request body was read. @default {LINGER_DEFAULTS} */
  linger?: LingerLimits;
  /**
   * Checked before a request is relayed (not WebSocket upgrades): an answer
   * to send instead, e.g. the hub's 413 for a declared body over its limit,
   * given before `Expect: 100-continue` could be answered `100`. @default {none}
   */
  refuse?: (request: RequestSummary, route: Route) => Refusal | null;
  /**
   * Sent as `X-Onehub-Proxy` on requests to the hub's route (`data.hub`),
   * so the hub believes their `X-Forwarded-*`; clients' copies are always
   * dropped. @default {none}
   */
  hubProof?: string;
  /**
   * Route by host as well as path (configurable-http-proxy's
   * `--host-routing`, for JupyterHub's `subdomain_host`): a request for
   * `http://alice.hub.example.org/user/alice/x` is matched as
   * `/alice.hub.example.org/user/alice/x`, so route keys name the host
   * (`/` still catches everything). Responses of routes other than the
   * hub's then lose any `Set-Cookie` with a `Domain` attribute: a user's
   * server cannot plant cookies on the hub's host or another user's.
   * @default {false}
   */
  hostRouting?: boolean;
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
  /**
   * Refuses the route to the fence's credentials (403) until its end, and
   * closes their open WebSockets on it now; returns how many it closed
   * (fence.ts).
   */
  fence(prefix: string, fence: Fence): number;
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
  403: "Forbidden",
  404: "Not Found",
  408: "Request Timeout",
  413: "Content Too Large",
  431: "Request Header Fields Too Large",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
  505: "HTTP Version Not Supported",
};

const DEFAULT_MESSAGES: Record<number, string> = {
  403: "Your access to this server has ended.",
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

/**
 * `/alice.hub.example.org`: the request's host as a route key prefix
 * (lower case, no port, no trailing dot; an absolute-form target's host
 * wins over Host, RFC 9112 §3.2.2), or `""` when there is none.
 */
export function hostKey(head: RequestHead): string {
  let host = field(head.headers, "host") ?? "";
  if (!head.target.startsWith("/")) {
    try {
      host = new URL(head.target).host || host;
    } catch { /* routingPath refused it already */ }
  }
  const name = host.toLowerCase().replace(/:\d*$/, "").replace(/\.$/, "");
  return name && !name.includes("/") ? `/${name}` : "";
}

/**
 * Connections waiting for a request head and when they give up: one shared
 * sweeper instead of a timer per request (timers cost ≈4% of a small
 * request).
 */
class HeadDeadlines {
  readonly #deadlines = new Map<Conn, number>();
  #sweeper: ReturnType<typeof setInterval> | null = null;
  readonly #every: number;

  constructor(shortestTimeoutMs: number) {
    this.#every = Math.max(
      10,
      Math.min(1000, Math.floor(shortestTimeoutMs / 4)),
    );
  }

  /** Closes `conn` unless it is cleared within `ms`. */
  set(conn: Conn, ms: number): void {
    this.#deadlines.set(conn, Date.now() + ms);
    if (this.#sweeper !== null) return;
    this.#sweeper = setInterval(() => this.#sweep(), this.#every);
  }

  delete(conn: Conn): void {
    this.#deadlines.delete(conn);
  }

  #sweep(): void {
    const now = Date.now();
    for (const [conn, deadline] of this.#deadlines) {
      if (deadline <= now) {
        this.#deadlines.delete(conn);
        closeQuietly(conn);
      }
    }
    if (this.#deadlines.size === 0) this.clear();
  }

  clear(): void {
    this.#deadlines.clear();
    if (this.#sweeper !== null) clearInterval(this.#sweeper);
    this.#sweeper = null;
  }
}

/** Writes an error page; without a parsed request, the plain default page. */
type SendError = (
  conn: Conn,
  status: number,
  request: RequestHead | null,
  keepAlive: boolean,
) => Promise<void>;

/** Writes a page the proxy answers itself: status, type, no-store, HSTS over TLS. */
type SendPage = (
  conn: Conn,
  answer: Refusal,
  request: RequestHead | null,
  keepAlive: boolean,
) => Promise<void>;

/** Writes an error page to a client, rendered by `render` (the default page without a parsed request). */
function errorWriter(
  render: NonNullable<ProxyOptions["renderError"]>,
  sendPage: SendPage,
): SendError {
  return (conn, status, request, keepAlive) => {
    const page = request
      ? render(status, {
        method: request.method,
        path: routingPath(request.target) ?? request.target,
      })
      : defaultErrorPage(status);
    return sendPage(conn, { status, ...page }, request, keepAlive);
  };
}

function pageWriter(hsts: string | null): SendPage {
  const encoder = new TextEncoder();
  return async (conn, answer, request, keepAlive) => {
    const { status, ...page } = answer;
    const full = encoder.encode(page.body);
    // HEAD gets the same Content-Length and no body.
    const body = request?.method === "HEAD" ? full.subarray(0, 0) : full;
    const extra: Array<[string, string]> = [];
    if (hsts && "handshake" in conn) {
      extra.push(["Strict-Transport-Security", hsts]);
    }
    if (!keepAlive) extra.push(["Connection", "close"]);
    const head = serializeHead(
      `HTTP/1.1 ${status} ${REASONS[status] ?? "Error"}`,
      [
        ["Content-Type", page.contentType],
        ["Content-Length", String(full.length)],
        ["Cache-Control", "no-store"],
        ...extra,
      ],
    );
    const out = new Uint8Array(head.length + body.length);
    out.set(head);
    out.set(body, head.length);
    await writeAll(conn, out);
  };
}

/** What every connection of one proxy shares. */
interface ProxyState {
  routes: RouteTable;
  ctx: RelayContext;
  sendError: SendError;
  sendPage: SendPage;
  refuse: ProxyOptions["refuse"];
  fences: Fences;
  deadlines: HeadDeadlines;
  connections: Set<Conn>;
  trusted: ReadonlySet<string>;
  hostRouting: boolean;
  headTimeoutMs: number;
  keepAliveTimeoutMs: number;
  linger: LingerLimits;
  logger: ProxyLogger | undefined;
}

/**
 * What becomes of a client connection after one request: it carries the
 * next, it is closed, or it is closed lingering because a request body may
 * still be arriving (an answer sent before the body was read).
 */
type ConnectionNext = "next" | "close" | "linger";

/** One request on a client connection: answered here, or relayed to its route. */
async function serveRequest(
  client: BufferedConn,
  text: string,
  info: ClientInfo,
  state: ProxyState,
): Promise<ConnectionNext> {
  const { conn } = client;
  const head = parsedHead(text);
  if (head === null) return "close";
  if (head instanceof ProtocolError) {
    await state.sendError(conn, head.status, null, false);
    return "linger";
  }
  const path = routingPath(head.target);
  if (path === null) {
    await state.sendError(conn, 400, null, false);
    return "linger";
  }
  const framing = requestFraming(head);
  const bodyless = framing.kind === "none";
  const after = afterAnsweredHere(head, bodyless);
  if (path === "/_chp_healthz") {
    await writeAll(conn, healthz(head.method, after === "next"));
    return after;
  }
  const route = routeOf(state, head, path);
  if (!route) {
    await state.sendError(conn, 404, head, after === "next");
    return after;
  }
  // Read (a token hashed) only on fenced routes and WebSocket handshakes, once.
  let seen: Credentials | undefined;
  const credentials = async () => seen ??= await credentialsOf(head);
  if (
    state.fences.active(route.prefix) &&
    state.fences.refuses(route.prefix, await credentials())
  ) {
    await state.sendError(conn, 403, head, false);
    return bodyless ? "close" : "linger";
  }
  if (isWebSocketUpgrade(head)) {
    // Remembered while open, so a fence raised meanwhile can close it.
    const open = { conn, credentials: await credentials() };
    const untrack = state.fences.track(route.prefix, open);
    try {
      await relayWebSocket({ client, head, route, info }, state.ctx);
    } finally {
      untrack();
    }
    return "close";
  }
  const refusal = state.refuse?.(summaryOf(head, path, framing), route);
  if (refusal) {
    await state.sendPage(conn, refusal, head, false);
    return bodyless ? "close" : "linger";
  }
  const result = await relayHttp({ client, head, route, info }, state.ctx);
  return result === "keep-alive" ? "next" : result;
}

/** The request's head; its ProtocolError (answered with its status); null when it is not HTTP at all (closed). */
function parsedHead(text: string): RequestHead | ProtocolError | null {
  try {
    return parseRequestHead(text);
  } catch (error) {
    return error instanceof ProtocolError ? error : null;
  }
}

/**
 * What becomes of the connection after an answer given here without
 * reading a body: it carries on only when there is no body to skip.
 */
function afterAnsweredHere(
  head: RequestHead,
  bodyless: boolean,
): ConnectionNext {
  if (!bodyless) return "linger";
  return wantsKeepAlive(head.version, head.headers) ? "next" : "close";
}

/** What a `refuse` hook is shown of a request. */
function summaryOf(
  head: RequestHead,
  path: string,
  framing: Framing,
): RequestSummary {
  const contentLength = framing.kind === "length" ? framing.length : null;
  return { method: head.method, path, contentLength };
}

/** The route a request goes to: by host and path with host routing, else by path. */
function routeOf(
  state: ProxyState,
  head: RequestHead,
  path: string,
): Route | undefined {
  return state.routes.match(state.hostRouting ? hostKey(head) + path : path);
}
/** Serves one client connection: request after request until either side closes. */
async function serveConnection(
  conn: Conn,
  listener: { proto: "http" | "https"; port: number },
  state: ProxyState,
): Promise<void> {
  state.connections.add(conn);
  const peer = conn.remoteAddr as Deno.NetAddr;
  const info: ClientInfo = {
    address: peer.hostname,
    proto: listener.proto,
    port: listener.port,
    trusted: state.trusted.has(peer.hostname),
  };
  (conn as Partial<Deno.TcpConn>).setNoDelay?.(true);
  const client = new BufferedConn(conn);
  let first = true;
  let next: ConnectionNext = "close";
  try {
    while (true) {
      state.deadlines.set(
        conn,
        first ? state.headTimeoutMs : state.keepAliveTimeoutMs,
      );
      let text: string | null;
      try {
        text = await client.readHead();
      } finally {
        state.deadlines.delete(conn);
      }
      first = false;
      if (text === null) break;
      next = await serveRequest(client, text, info, state);
      if (next !== "next") break;
    }
  } catch (error) {
    if (error instanceof ProtocolError) {
      // A head too large or malformed: the client may still be sending it.
      next = "linger";
      await state.sendError(conn, error.status, null, false).catch(
        () => {},
      );
    } else {
      state.logger?.debug("proxy connection ended", {
        error: (error as Error).message,
      });
    }
  } finally {
    if (next === "linger") await lingerClose(client, state.linger);
    state.connections.delete(conn);
    closeQuietly(conn);
  }
}

/** Opens a listener whose connections are served until they end. */
function listenOn(
  opts: ListenOptions,
  listeners: Set<Deno.Listener>,
  serve: (
    conn: Conn,
    listener: { proto: "http" | "https"; port: number },
  ) => Promise<void>,
): ProxyListener {
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
        const task: Promise<void> = serve(conn, { proto, port: addr.port })
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

/** The state every connection of a new proxy shares, from its options and their defaults. */
function proxyState(options: ProxyOptions): ProxyState {
  const activity = new Activity(options.now ?? Date.now);
  const pool = new UpstreamPool({
    connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
    ...(options.connect ? { connect: options.connect } : {}),
  });
  const keepAliveTimeoutMs = options.keepAliveTimeoutMs ?? 60_000;
  const headTimeoutMs = options.headTimeoutMs ?? 30_000;
  const hsts = options.hstsMaxAge === undefined
    ? null
    : `max-age=${options.hstsMaxAge}`;
  const sendPage = pageWriter(hsts);
  const sendError = errorWriter(
    options.renderError ?? defaultErrorPage,
    sendPage,
  );
  const linger = options.linger ?? LINGER_DEFAULTS;
  return {
    routes: new RouteTable(),
    ctx: {
      pool,
      activity,
      hsts,
      sendError,
      linger,
      hubProof: options.hubProof ?? null,
      hostRouting: options.hostRouting ?? false,
    },
    sendError,
    sendPage,
    refuse: options.refuse,
    fences: new Fences(options.now ?? Date.now),
    deadlines: new HeadDeadlines(Math.min(headTimeoutMs, keepAliveTimeoutMs)),
    connections: new Set<Conn>(),
    trusted: new Set(options.trustedProxies ?? []),
    hostRouting: options.hostRouting ?? false,
    headTimeoutMs,
    keepAliveTimeoutMs,
    linger,
    logger: options.logger,
  };
}

/** Creates a proxy with an empty route table. */
export function createProxy(options: ProxyOptions = {}): Proxy {
  const state = proxyState(options);
  const { routes } = state;
  const { pool, activity } = state.ctx;
  const listeners = new Set<Deno.Listener>();
  const serve = (
    conn: Conn,
    listener: { proto: "http" | "https"; port: number },
  ) => serveConnection(conn, listener, state);
  return {
    routes,
    activity,
    addRoute(prefix, target, data = {}) {
      const route = routes.set(prefix, { target, data });
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
    fence: (prefix, fence) =>
      state.fences.raise(normalizePrefix(prefix), fence),
    serveConnection: serve,
    listen: (opts) => listenOn(opts, listeners, serve),
    close() {
      for (const l of listeners) closeQuietly(l);
      for (const c of state.connections) closeQuietly(c);
      state.deadlines.clear();
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
