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
  closeQuietly,
  type Conn,
  copyUntilClose,
  ProtocolError,
  writeAll,
} from "./http1.ts";
import {
  field,
  forwardedHeaders,
  parseResponseHead,
  responseFraming,
  type ResponseHead,
  serializeHead,
  stripHopByHop,
} from "./headers.ts";
import { UpstreamError } from "./upstream_pool.ts";
import { type Exchange, proofFor, type RelayContext } from "./forward_http.ts";

/** Step 1: the handshake to the target; its answer, or null when the client got an error status. */
async function handshake(
  ex: Exchange,
  ctx: RelayContext,
): Promise<{ target: BufferedConn; response: ResponseHead } | null> {
  const { client, head } = ex;
  const headers = forwardedHeaders(stripHopByHop(head.headers), {
    client: ex.info,
    websocket: true,
    proof: proofFor(ex, ctx),
  });
  headers.push(["Connection", "Upgrade"], [
    "Upgrade",
    field(head.headers, "upgrade") ?? "websocket",
  ]);
  let target: BufferedConn;
  try {
    target = (await ctx.pool.connect(ex.route.target)).reader;
  } catch (error) {
    const status = error instanceof UpstreamError && error.kind === "timeout"
      ? 504
      : 503;
    await ctx.sendError(client.conn, status, head, false).catch(() => {});
    return null;
  }
  try {
    await writeAll(
      target.conn,
      serializeHead(`${head.method} ${head.target} ${head.version}`, headers),
    );
    const text = await target.readHead();
    if (text === null) {
      throw new UpstreamError(
        "The target closed the connection before answering",
        { kind: "refused" },
      );
    }
    return { target, response: parseResponseHead(text) };
  } catch (error) {
    // Nothing reached the client yet: it gets a status instead of a silent close.
    closeQuietly(target.conn);
    await ctx.sendError(
      client.conn,
      error instanceof ProtocolError ? 502 : 503,
      head,
      false,
    )
      .catch(() => {});
    return null;
  }
}

/** Step 3: bytes both ways until either side closes, then both close; traffic counts as activity. */
async function splice(
  ex: Exchange,
  target: BufferedConn,
  ctx: RelayContext,
): Promise<void> {
  const { client, route } = ex;
  ctx.activity.touch(route.prefix);
  const touch = () => ctx.activity.touch(route.prefix);
  client.onData = touch;
  target.onData = touch;
  const done = (from: BufferedConn, to: Conn) =>
    copyUntilClose(from, to).catch(() => {}).finally(() => {
      closeQuietly(client.conn);
      closeQuietly(target.conn);
    });
  await Promise.all([done(client, target.conn), done(target, client.conn)]);
}

/** Relays a WebSocket handshake and then the whole session; the client connection ends with it. */
export async function relayWebSocket(
  ex: Exchange,
  ctx: RelayContext,
): Promise<void> {
  const { client, head } = ex;
  const answered = await handshake(ex, ctx);
  if (!answered) return;
  const { target, response } = answered;
  try {
    // Step 2: the answer to the client. The 101 keeps its Connection/Upgrade
    // fields; anything else is an ordinary response.
    const upgraded = response.status === 101;
    const resHeaders = upgraded
      ? response.headers
      : stripHopByHop(response.headers);
    if (!upgraded) resHeaders.push(["Connection", "close"]);
    await writeAll(
      client.conn,
      serializeHead(
        `${head.version} ${response.status} ${response.reason}`,
        resHeaders,
      ),
    );
    if (!upgraded) {
      const framing = responseFraming(head.method, response);
      if (framing.kind !== "none") await target.copyBody(client.conn, framing);
      return;
    }
    await splice(ex, target, ctx);
  } catch {
    // Connection errors end the session; both sides are closed below.
  } finally {
    client.onData = null;
    closeQuietly(target.conn);
  }
}
