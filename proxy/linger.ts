/**
 * Lingering close, as nginx's `lingering_close`: after an answer sent while
 * the client may still be sending its request body (a 413 from the hub, a
 * 403 from a server that did not read the upload, the proxy's own 404/503),
 * our side is half-closed and what the client still sends is read and
 * thrown away, bounded in bytes, total time and idle time, before the
 * connection is closed.
 *
 * Why: closing a socket whose receive queue holds unread bytes makes the
 * kernel send a reset (RFC 9112 §9.6 warns of exactly this), and a client
 * still writing its body — Node's fetch (undici), Python `requests` —
 * then fails with EPIPE/ECONNRESET and never reads the answer it was sent.
 * Discarded bytes are never kept: memory stays one scratch buffer for
 * every lingering connection together.
 *
 * Imports: Web/Deno APIs and its own folder only.
 *
 * @module
 */
import { type BufferedConn, closeQuietly } from "./http1.ts";

/** How long and how much a lingering connection may still send. */
export interface LingerLimits {
  /** Bytes read and discarded at most; then the connection is closed. */
  maxBytes: number;
  /** Milliseconds of lingering in all (nginx `lingering_time`). */
  totalMs: number;
  /** Milliseconds without a byte before giving up (nginx `lingering_timeout`). */
  idleMs: number;
}

/**
 * nginx's times (30 s in all, 5 s idle) and a byte bound well above the
 * uploads real clients make (a few hundred MB take well under a second on
 * loopback and a few seconds on a LAN).
 */
export const LINGER_DEFAULTS: Readonly<LingerLimits> = {
  maxBytes: 1024 * 1024 * 1024,
  totalMs: 30_000,
  idleMs: 5_000,
};

/** Why lingering ended: the client closed, or a bound was reached. */
export type LingerEnd = "closed" | "bytes" | "time" | "idle" | "error";

/** What a lingering close read and why it stopped. */
export interface LingerResult {
  bytes: number;
  end: LingerEnd;
}

/** One scratch buffer for every lingering connection: what lands in it is never looked at. */
const SCRATCH = new Uint8Array(64 * 1024);

/**
 * Half-closes `client`, discards what it still sends within `limits`, then
 * closes it. Bytes already buffered in `client` count as discarded.
 * Resolves once the connection is closed; never throws.
 */
export async function lingerClose(
  client: BufferedConn,
  limits: LingerLimits,
): Promise<LingerResult> {
  const { conn } = client;
  let bytes = client.buffered;
  client.start = client.end;
  let end: LingerEnd = "closed";
  const deadline = performance.now() + limits.totalMs;
  try {
    // Our answer is complete: tell the client so (FIN), keep reading its side.
    await conn.closeWrite();
  } catch { /* the client is gone already: the reads below end at once */ }
  while (true) {
    if (bytes > limits.maxBytes) {
      end = "bytes";
      break;
    }
    const left = deadline - performance.now();
    if (left <= 0) {
      end = "time";
      break;
    }
    const idle = left > limits.idleMs;
    const wait = Math.min(left, limits.idleMs);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      closeQuietly(conn);
    }, wait);
    let n: number | null;
    try {
      n = await conn.read(SCRATCH);
    } catch {
      n = null;
      if (!timedOut) end = "error";
    } finally {
      clearTimeout(timer);
    }
    if (timedOut) {
      end = idle ? "idle" : "time";
      break;
    }
    if (n === null) break;
    bytes += n;
  }
  closeQuietly(conn);
  return { bytes, end };
}
