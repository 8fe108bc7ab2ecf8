/**
 * One HTTP exchange relayed to a route's target: the request head with
 * hop-by-hop fields stripped and `X-Forwarded-*` set, the body streamed by
 * its framing while the response head is awaited (so `Expect:
 * 100-continue` and early answers work), interim 1xx responses passed on,
 * then the response streamed back. Nothing is buffered beyond one read.
 *
 * Failures: a pooled connection the target had closed is retried once on a
 * fresh one, for bodyless idempotent requests only; a malformed request
 * body closes the target connection (it would wait for the rest) and is
 * answered 400; a malformed response is 502, an unreachable target 503.
 * Whenever the client may still be sending a body that nobody will read
 * (the target answered early, or never got the request), the result is
 * "linger": the caller discards the rest before closing (linger.ts), so
 * the client reads the answer instead of a reset.
 *
 * @module
 */
import {
  type BufferedConn,
  type Conn,
  type Framing,
  ProtocolError,
  writeAll,
  type Writer,
} from "./http1.ts";
import {
  type ClientInfo,
  field,
  forwardedHeaders,
  parseResponseHead,
  requestFraming,
  type RequestHead,
  responseFraming,
  type ResponseHead,
  serializeHead,
  stripHopByHop,
  wantsKeepAlive,
  withoutDomainCookies,
} from "./headers.ts";
import {
  type Upstream,
  UpstreamError,
  type UpstreamPool,
} from "./upstream_pool.ts";
import type { Route } from "./route_table.ts";
import type { Activity } from "./activity.ts";
import type { LingerLimits } from "./linger.ts";

/** What the relay needs besides the exchange itself. */
export interface RelayContext {
  pool: UpstreamPool;
  activity: Activity;
  /** `Strict-Transport-Security` value added to responses over TLS, or null. */
  hsts: string | null;
  /** Bounds of the lingering close after an early answer. */
  linger: LingerLimits;
  /** The secret shown to the hub's route (`data.hub`), or null (headers.ts PROOF_HEADER). */
  hubProof: string | null;
  /** Host routing is on: user routes may not set cookies with a Domain (ProxyOptions.hostRouting). */
  hostRouting: boolean;
  /** Writes an error response (status page) to the client. */
  sendError(
    client: Conn,
    status: number,
    request: RequestHead,
    keepAlive: boolean,
  ): Promise<void>;
}

/**
 * Outcome of one exchange: the client connection may carry another
 * request, is closed, or is closed after discarding a request body still
 * arriving (see linger.ts).
 */
export type RelayResult = "keep-alive" | "close" | "linger";

/** Methods that may be sent again after a connection failed (RFC 9110 §9.2.2). */
const IDEMPOTENT = new Set([
  "GET",
  "HEAD",
  "OPTIONS",
  "TRACE",
  "PUT",
  "DELETE",
]);

/** A target that failed after the request head was sent. */
class TargetFailed extends Error {}

/** A write of the request body to the target failed: it closed or reset its side. */
class TargetWriteFailed extends Error {}

/** `conn` as the request body's destination, its write failures told apart from the client's. */
function targetWriter(conn: Conn): Writer {
  return {
    write: (data) =>
      conn.write(data).catch((error) => {
        throw new TargetWriteFailed((error as Error).message, { cause: error });
      }),
  };
}

/** The proof the request carries to its target: only the hub's route gets it. */
export function proofFor(ex: Exchange, ctx: RelayContext): string | null {
  return ex.route.data.hub === true ? ctx.hubProof : null;
}

/** One request to relay: the client, its parsed head, the matched route, where it came from. */
export interface Exchange {
  client: BufferedConn;
  head: RequestHead;
  route: Route;
  info: ClientInfo;
}

/**
 * Writes `head` followed by the body bytes `from` already holds (when the
 * length is known, in one write), then starts copying the rest of the body.
 * Resolves, once the head is written, with the copy still running, wrapped
 * (an awaited promise would wait for it), or null when no body is left.
 */
async function writeHeadThenBody(
  from: BufferedConn,
  to: Writer,
  head: Uint8Array,
  framing: Framing,
): Promise<{ copy: Promise<void> } | null> {
  if (framing.kind === "length" && from.buffered > 0) {
    const n = Math.min(framing.length, from.buffered);
    const first = new Uint8Array(head.length + n);
    first.set(head);
    first.set(from.buf.subarray(from.start, from.start + n), head.length);
    from.start += n;
    await writeAll(to, first);
    return n < framing.length
      ? {
        copy: from.copyBody(to, {
          kind: "length",
          length: framing.length - n,
        }),
      }
      : null;
  }
  await writeAll(to, head);
  return framing.kind === "none" ? null : { copy: from.copyBody(to, framing) };
}

/** The request body's copy to the target, which runs while the response is awaited. */
interface BodyCopy {
  done: Promise<void>;
  settled: boolean;
  error: unknown;
}

/** Whether the whole request body has reached the target. */
function bodySent(body: BodyCopy): boolean {
  return body.settled && body.error === null;
}

/** Step 2: the request head and body to the target; the body keeps flowing in the background. */
async function sendRequest(
  ex: Exchange,
  up: Upstream,
  framing: Framing,
  ctx: RelayContext,
): Promise<BodyCopy> {
  const headers = forwardedHeaders(stripHopByHop(ex.head.headers), {
    client: ex.info,
    websocket: false,
    proof: proofFor(ex, ctx),
  });
  const headBytes = serializeHead(
    `${ex.head.method} ${ex.head.target} ${ex.head.version}`,
    headers,
  );
  const rest = await writeHeadThenBody(
    ex.client,
    targetWriter(up.reader.conn),
    headBytes,
    framing,
  );
  const body: BodyCopy = {
    done: Promise.resolve(),
    settled: rest === null,
    error: null,
  };
  if (rest) {
    body.done = rest.copy.then(
      () => void (body.settled = true),
      (error) => {
        body.settled = true;
        body.error = error;
        // A target that stopped reading may have answered (an early 413):
        // its answer is still read. Otherwise (the client's body failed)
        // the target may be waiting for the rest: closing it ends the wait
        // (and the read of its response below) instead of hanging both.
        if (!(error instanceof TargetWriteFailed)) ctx.pool.discard(up);
      },
    );
  }
  return body;
}

/** Step 3: the response head, passing interim (1xx) responses on to the client. */
async function readResponse(ex: Exchange, up: Upstream): Promise<ResponseHead> {
  while (true) {
    const text = await up.reader.readHead();
    if (text === null) throw new TargetFailed("closed before answering");
    const response = parseResponseHead(text);
    if (
      response.status < 100 || response.status >= 200 || response.status === 101
    ) {
      return response;
    }
    // RFC 9110 §15.2: no 1xx to an HTTP/1.0 client.
    if (ex.head.version !== "HTTP/1.0") {
      await writeAll(
        ex.client.conn,
        serializeHead(
          `${ex.head.version} ${response.status} ${response.reason}`,
          response.headers,
        ),
      );
    }
  }
}

/** Step 4: the response head for the client: hop-by-hop fields out, framing, HSTS and connection fields. */
function clientResponseHead(
  ex: Exchange,
  response: ResponseHead,
  keepAlive: boolean,
  ctx: RelayContext,
): Uint8Array {
  let headers = stripHopByHop(response.headers);
  if (ctx.hostRouting && ex.route.data.hub !== true) {
    headers = withoutDomainCookies(headers);
  }
  // RFC 9112 §6.3: with Transfer-Encoding, Content-Length is wrong and must not be passed on.
  if (field(response.headers, "transfer-encoding") !== null) {
    headers = headers.filter(([n]) => n.toLowerCase() !== "content-length");
  }
  if (
    ex.info.proto === "https" && ctx.hsts &&
    field(headers, "strict-transport-security") === null
  ) {
    headers.push(["Strict-Transport-Security", ctx.hsts]);
  }
  if (!keepAlive) headers.push(["Connection", "close"]);
  else if (ex.head.version === "HTTP/1.0") {
    headers.push(["Connection", "keep-alive"]);
  }
  return serializeHead(
    `${ex.head.version} ${response.status} ${response.reason}`,
    headers,
  );
}

/** When the response head cannot be read: a retry on a fresh connection, or the error page. */
async function responseFailed(
  ex: Exchange,
  up: Upstream,
  framing: Framing,
  body: BodyCopy,
  error: unknown,
  ctx: RelayContext,
): Promise<RelayResult> {
  ctx.pool.discard(up);
  // (A failed request body has already set body.error: its handler closed `up`, which ended the read.)
  // A pooled connection the target had closed: retry once, but only a bodyless
  // idempotent request (RFC 9110 §9.2.2: the target may have acted on it before closing).
  if (
    up.reused && framing.kind === "none" && IDEMPOTENT.has(ex.head.method) &&
    !(error instanceof ProtocolError)
  ) {
    return relayHttpFresh(ex, ctx);
  }
  // A malformed request body is the client's fault (400); a malformed response the target's (502).
  const status = body.error instanceof ProtocolError
    ? body.error.status
    : error instanceof ProtocolError
    ? 502
    : 503;
  await ctx.sendError(ex.client.conn, status, ex.head, false).catch(() => {});
  return await afterEarlyAnswer(body, ctx);
}

/**
 * After an answer sent before the client's body was all read (`up` is
 * closed already, so the copy to it stops at its next write): "close" when
 * nothing is left to read, "linger" once the copy has stopped, "close" if
 * it does not stop within the idle bound (a client silent mid-body).
 */
async function afterEarlyAnswer(
  body: BodyCopy,
  ctx: RelayContext,
): Promise<RelayResult> {
  if (bodySent(body)) return "close";
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stopped = await Promise.race([
    body.done.then(() => true),
    new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), ctx.linger.idleMs);
    }),
  ]);
  clearTimeout(timer);
  return stopped ? "linger" : "close";
}

/** Step 6 (the whole request body was sent): the target connection back to the pool when it may carry another request, else closed. */
function releaseTarget(
  up: Upstream,
  response: ResponseHead,
  resFraming: Framing,
  ctx: RelayContext,
): void {
  const targetKeepAlive = resFraming.kind !== "close" &&
    wantsKeepAlive(response.version, response.headers);
  if (targetKeepAlive && field(response.headers, "upgrade") === null) {
    ctx.pool.release(up);
  } else ctx.pool.discard(up);
}

/** Relays one request; returns whether the client connection stays open. */
export async function relayHttp(
  ex: Exchange,
  ctx: RelayContext,
): Promise<RelayResult> {
  const { client, head, route } = ex;
  const framing = requestFraming(head);
  const clientKeepAlive = wantsKeepAlive(head.version, head.headers);
  // Step 1: a connection to the target.
  let up: Upstream;
  try {
    up = await ctx.pool.get(route.target);
  } catch (error) {
    return failEarly(ex, framing, clientKeepAlive, error, ctx);
  }
  let body: BodyCopy;
  try {
    body = await sendRequest(ex, up, framing, ctx);
  } catch (error) {
    return sendFailed(ex, up, framing, error, ctx);
  }
  let response: ResponseHead;
  let resFraming: Framing;
  try {
    response = await readResponse(ex, up);
    // An invalid framing (bad Content-Length) is the target's fault: 502 below.
    resFraming = responseFraming(head.method, response);
  } catch (error) {
    return responseFailed(ex, up, framing, body, error, ctx);
  }
  // An answer that comes before the whole request body was read ends the connection (the rest is discarded).
  const keepAlive = clientKeepAlive && resFraming.kind !== "close" &&
    bodySent(body);
  if (response.status < 300) watchActivity(up, route.prefix, ctx);
  // Step 5: the response to the client.
  try {
    const rest = await writeHeadThenBody(
      up.reader,
      client.conn,
      clientResponseHead(ex, response, keepAlive, ctx),
      resFraming,
    );
    await rest?.copy;
  } catch {
    // Either side went away mid-body: the client sees a cut response; the target's request ends.
    up.reader.onData = null;
    ctx.pool.discard(up);
    return "close";
  }
  up.reader.onData = null;
  if (!bodySent(body)) {
    // The target answered before reading the whole request body: neither connection is in a known state.
    ctx.pool.discard(up);
    return await afterEarlyAnswer(body, ctx);
  }
  releaseTarget(up, response, resFraming, ctx);
  return keepAlive ? "keep-alive" : "close";
}

/**
 * The request could not be sent: a reused (likely stale) connection is
 * retried on a fresh one when there is no body to resend; otherwise 503.
 */
function sendFailed(
  ex: Exchange,
  up: Upstream,
  framing: Framing,
  error: unknown,
  ctx: RelayContext,
): Promise<RelayResult> {
  ctx.pool.discard(up);
  if (up.reused && framing.kind === "none") return relayHttpFresh(ex, ctx);
  return failEarly(
    ex,
    framing,
    false,
    new UpstreamError((error as Error).message, { kind: "refused" }),
    ctx,
  );
}

/** A successful answer counts as activity on the route, and so does each chunk of its body. */
function watchActivity(up: Upstream, prefix: string, ctx: RelayContext): void {
  ctx.activity.touch(prefix);
  up.reader.onData = () => ctx.activity.touch(prefix);
}

function relayHttpFresh(ex: Exchange, ctx: RelayContext): Promise<RelayResult> {
  // Drop idle connections to this target: they are likely stale too.
  ctx.pool.forget(ex.route.target);
  return relayHttp(ex, ctx);
}

/** The target was not reached: 503 (or 504), with the request's body, if any, still unread. */
async function failEarly(
  ex: Exchange,
  framing: Framing,
  clientKeepAlive: boolean,
  error: unknown,
  ctx: RelayContext,
): Promise<RelayResult> {
  const status = error instanceof UpstreamError && error.kind === "timeout"
    ? 504
    : 503;
  const keepAlive = clientKeepAlive && framing.kind === "none";
  await ctx.sendError(ex.client.conn, status, ex.head, keepAlive);
  if (keepAlive) return "keep-alive";
  return framing.kind === "none" ? "close" : "linger";
}
