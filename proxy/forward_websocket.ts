/**
 * WebSocket upgrades: the handshake is relayed like any request (with
 * `Connection: Upgrade` and `Upgrade: websocket` restored), and after the
 * target's `101 Switching Protocols` the two connections are spliced byte
 * for byte. Frames, subprotocol choice, pings and close codes pass through
 * untouched; each direction reads only after its last write finished, so a
 * flooding peer is slowed by TCP instead of growing memory. A refused
 * handshake (e.g. Jupyter's 403) reaches the client with its real status.
 *
 * @module
 */
import {
  BufferedConn,
  type Conn,
  copyBody,
  copyUntilClose,
  ProtocolError,
  writeAll,
} from "./http1.ts";
import {
  type ClientInfo,
  field,
  forwardedHeaders,
  parseResponseHead,
  type RequestHead,
  responseFraming,
  serializeHead,
  stripHopByHop,
} from "./headers.ts";
import { UpstreamError } from "./upstream_pool.ts";
import type { Route } from "./route_table.ts";
import type { RelayContext } from "./forward_http.ts";

function closeQuietly(conn: Conn): void {
  try {
    conn.close();
  } catch { /* already closed */ }
}

/** Relays a WebSocket handshake and then the whole session; the client connection ends with it. */
export async function relayWebSocket(
  client: BufferedConn,
  head: RequestHead,
  route: Route,
  info: ClientInfo,
  ctx: RelayContext,
): Promise<void> {
  const headers = forwardedHeaders(stripHopByHop(head.headers), info, true);
  headers.push(["Connection", "Upgrade"], [
    "Upgrade",
    field(head.headers, "upgrade") ?? "websocket",
  ]);
  let up;
  try {
    up = await ctx.pool.connect(route.target);
  } catch (error) {
    const status = error instanceof UpstreamError && error.kind === "timeout"
      ? 504
      : 503;
    await ctx.sendError(client.conn, status, head, false).catch(() => {});
    return;
  }
  const target = up.reader;
  let response;
  try {
    await writeAll(
      target.conn,
      serializeHead(`${head.method} ${head.target} ${head.version}`, headers),
    );
    const text = await target.readHead();
    if (text === null) {
      throw new UpstreamError(
        "refused",
        "The target closed the connection before answering",
      );
    }
    response = parseResponseHead(text);
  } catch (error) {
    // Nothing reached the client yet: it gets a status instead of a silent close.
    closeQuietly(target.conn);
    await ctx.sendError(
      client.conn,
      error instanceof ProtocolError ? 502 : 503,
      head,
      false,
    ).catch(() => {});
    return;
  }
  try {
    // The 101 keeps its Connection/Upgrade fields; anything else is an ordinary response.
    const resHeaders = response.status === 101
      ? response.headers
      : stripHopByHop(response.headers);
    if (response.status !== 101) resHeaders.push(["Connection", "close"]);
    await writeAll(
      client.conn,
      serializeHead(
        `${head.version} ${response.status} ${response.reason}`,
        resHeaders,
      ),
    );
    if (response.status !== 101) {
      const framing = responseFraming(head.method, response);
      if (framing.kind !== "none") await copyBody(target, client.conn, framing);
      return;
    }
    ctx.activity.touch(route.prefix);
    const touch = () => ctx.activity.touch(route.prefix);
    client.onData = touch;
    target.onData = touch;
    // Splice until either side closes, then close both.
    const done = (from: BufferedConn, to: Conn) =>
      copyUntilClose(from, to).catch(() => {}).finally(() => {
        closeQuietly(client.conn);
        closeQuietly(target.conn);
      });
    await Promise.all([done(client, target.conn), done(target, client.conn)]);
  } catch {
    // Connection errors end the session; both sides are closed below.
  } finally {
    client.onData = null;
    closeQuietly(target.conn);
  }
}
