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
 *
 * @module
 */
import {
  type BufferedConn,
  type Conn,
  copyBody,
  type Framing,
  ProtocolError,
  writeAll,
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
} from "./headers.ts";
import {
  type Upstream,
  UpstreamError,
  type UpstreamPool,
} from "./upstream_pool.ts";
import type { Route } from "./route_table.ts";
import type { Activity } from "./activity.ts";

/** What the relay needs besides the exchange itself. */
export interface RelayContext {
  pool: UpstreamPool;
  activity: Activity;
  /** `Strict-Transport-Security` value added to responses over TLS, or null. */
  hsts: string | null;
  /** Writes an error response (status page) to the client. */
  sendError(
    client: Conn,
    status: number,
    request: RequestHead,
    keepAlive: boolean,
  ): Promise<void>;
}

/** Outcome of one exchange: whether the client connection may carry another request. */
export type RelayResult = "keep-alive" | "close";

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

/** Relays one request; returns whether the client connection stays open. */
export async function relayHttp(
  client: BufferedConn,
  head: RequestHead,
  route: Route,
  info: ClientInfo,
  ctx: RelayContext,
): Promise<RelayResult> {
  const framing = requestFraming(head);
  const clientKeepAlive = wantsKeepAlive(head.version, head.headers);
  const headers = forwardedHeaders(stripHopByHop(head.headers), info, false);
  const headBytes = serializeHead(
    `${head.method} ${head.target} ${head.version}`,
    headers,
  );

  let up: Upstream;
  try {
    up = await ctx.pool.get(route.target);
  } catch (error) {
    return failEarly(
      client,
      head,
      framing.kind === "none" && clientKeepAlive,
      error,
      ctx,
    );
  }

  // Send the head (with any body bytes already buffered when the length is known).
  let bodyDone: Promise<void> = Promise.resolve();
  let bodySettled = true;
  try {
    if (framing.kind === "length" && client.buffered > 0) {
      const n = Math.min(framing.length, client.buffered);
      const first = new Uint8Array(headBytes.length + n);
      first.set(headBytes);
      first.set(
        client.buf.subarray(client.start, client.start + n),
        headBytes.length,
      );
      client.start += n;
      await writeAll(up.reader.conn, first);
      if (n < framing.length) {
        bodySettled = false;
        bodyDone = copyBody(client, up.reader.conn, {
          kind: "length",
          length: framing.length - n,
        });
      }
    } else {
      await writeAll(up.reader.conn, headBytes);
      if (framing.kind !== "none") {
        bodySettled = false;
        bodyDone = copyBody(client, up.reader.conn, framing);
      }
    }
  } catch (error) {
    ctx.pool.discard(up);
    if (up.reused && framing.kind === "none") {
      return relayHttpFresh(client, head, route, info, ctx);
    }
    return failEarly(
      client,
      head,
      false,
      new UpstreamError("refused", (error as Error).message),
      ctx,
    );
  }
  let bodyError: unknown = null;
  bodyDone = bodyDone.then(
    () => void (bodySettled = true),
    (error) => {
      bodySettled = true;
      bodyError = error;
      // The target may be waiting for the rest of the body: closing it ends the wait
      // (and the read of its response below) instead of hanging both connections.
      ctx.pool.discard(up);
    },
  );

  // Read the response head, passing interim responses on.
  let responseText: string | null;
  let response: ResponseHead;
  let resFraming: Framing;
  try {
    while (true) {
      responseText = await up.reader.readHead();
      if (responseText === null) {
        throw new TargetFailed("closed before answering");
      }
      const interim = parseResponseHead(responseText);
      if (
        interim.status >= 100 && interim.status < 200 && interim.status !== 101
      ) {
        // RFC 9110 §15.2: no 1xx to an HTTP/1.0 client.
        if (head.version !== "HTTP/1.0") {
          await writeAll(
            client.conn,
            serializeHead(
              `${head.version} ${interim.status} ${interim.reason}`,
              interim.headers,
            ),
          );
        }
        continue;
      }
      response = interim;
      resFraming = responseFraming(head.method, response);
      break;
    }
  } catch (error) {
    ctx.pool.discard(up);
    // (A failed request body has already set bodyError: its handler closed `up`, which ended the read.)
    // A pooled connection the target had closed: retry once, but only a bodyless
    // idempotent request (RFC 9110 §9.2.2: the target may have acted on it before closing).
    if (
      up.reused && framing.kind === "none" && IDEMPOTENT.has(head.method) &&
      !(error instanceof ProtocolError)
    ) {
      return relayHttpFresh(client, head, route, info, ctx);
    }
    // A malformed request body is the client's fault (400); a malformed response the target's (502).
    const status = bodyError instanceof ProtocolError
      ? bodyError.status
      : error instanceof ProtocolError
      ? 502
      : 503;
    await ctx.sendError(client.conn, status, head, false).catch(() => {});
    return "close";
  }

  const targetKeepAlive = resFraming.kind !== "close" &&
    wantsKeepAlive(response.version, response.headers);
  const keepAlive = clientKeepAlive && resFraming.kind !== "close";
  let resHeaders = stripHopByHop(response.headers);
  // RFC 9112 §6.3: with Transfer-Encoding, Content-Length is wrong and must not be passed on.
  if (field(response.headers, "transfer-encoding") !== null) {
    resHeaders = resHeaders.filter(([n]) =>
      n.toLowerCase() !== "content-length"
    );
  }
  if (
    info.proto === "https" && ctx.hsts &&
    field(resHeaders, "strict-transport-security") === null
  ) {
    resHeaders.push(["Strict-Transport-Security", ctx.hsts]);
  }
  if (!keepAlive) resHeaders.push(["Connection", "close"]);
  else if (head.version === "HTTP/1.0") {
    resHeaders.push(["Connection", "keep-alive"]);
  }
  const resHead = serializeHead(
    `${head.version} ${response.status} ${response.reason}`,
    resHeaders,
  );
  const success = response.status < 300;
  if (success) {
    ctx.activity.touch(route.prefix);
    up.reader.onData = () => ctx.activity.touch(route.prefix);
  }
  try {
    if (resFraming.kind === "length" && up.reader.buffered > 0) {
      const n = Math.min(resFraming.length, up.reader.buffered);
      const first = new Uint8Array(resHead.length + n);
      first.set(resHead);
      first.set(
        up.reader.buf.subarray(up.reader.start, up.reader.start + n),
        resHead.length,
      );
      up.reader.start += n;
      await writeAll(client.conn, first);
      if (n < resFraming.length) {
        await copyBody(up.reader, client.conn, {
          kind: "length",
          length: resFraming.length - n,
        });
      }
    } else {
      await writeAll(client.conn, resHead);
      if (resFraming.kind !== "none") {
        await copyBody(up.reader, client.conn, resFraming);
      }
    }
  } catch {
    // Either side went away mid-body: the client sees a cut response; the target's request ends.
    up.reader.onData = null;
    ctx.pool.discard(up);
    return "close";
  }
  up.reader.onData = null;
  if (!bodySettled) {
    // The target answered before reading the whole request body: neither connection is in a known state.
    ctx.pool.discard(up);
    return "close";
  }
  await bodyDone;
  if (bodyError !== null) {
    ctx.pool.discard(up);
    return "close";
  }
  if (targetKeepAlive && field(response.headers, "upgrade") === null) {
    ctx.pool.release(up);
  } else ctx.pool.discard(up);
  return keepAlive ? "keep-alive" : "close";
}

function relayHttpFresh(
  client: BufferedConn,
  head: RequestHead,
  route: Route,
  info: ClientInfo,
  ctx: RelayContext,
): Promise<RelayResult> {
  // Drop idle connections to this target: they are likely stale too.
  ctx.pool.forget(route.target);
  return relayHttp(client, head, route, info, ctx);
}

async function failEarly(
  client: BufferedConn,
  head: RequestHead,
  keepAlive: boolean,
  error: unknown,
  ctx: RelayContext,
): Promise<RelayResult> {
  const status = error instanceof UpstreamError && error.kind === "timeout"
    ? 504
    : 503;
  await ctx.sendError(client.conn, status, head, keepAlive);
  return keepAlive ? "keep-alive" : "close";
}
