/**
 * Revocation fences. When access to a server is taken away (a share
 * revoked), the hub tells the proxy which credentials had it — browser
 * session ids (`jupyterhub-session-id`) and SHA-256 hashes of API tokens —
 * and the proxy, for a while, refuses that route to requests carrying any
 * of them and closes their open connections (kernel WebSockets, event
 * streams) at once.
 *
 * Why in the proxy: the single-user server caches who a visitor is for up
 * to 5 minutes (`HubAuth.cache_max_age`), so refusing the recipient's
 * tokens at the hub bites only after that; and an open WebSocket is never
 * checked again at all. The proxy sees every request and every connection.
 * A fence outlives that cache (the hub sets its end); after it, the server
 * asks the hub again and the hub refuses.
 *
 * Only routes with a fence pay for it: the credentials of a request are
 * read (and a token hashed) only when its route has one, and a connection
 * is remembered only while it is open.
 *
 * @module
 */
import { field, type RequestHead } from "./headers.ts";
import type { Conn } from "./http1.ts";

/** Whom a fence keeps out, and for how long. */
export interface Fence {
  /** `jupyterhub-session-id` values. */
  sessions: readonly string[];
  /** Hex SHA-256 of API tokens (as the hub stores them). */
  tokenHashes: readonly string[];
  /** How long the fence stands, by the proxy's clock. */
  forMs: number;
}

interface Standing {
  sessions: readonly string[];
  tokenHashes: readonly string[];
  untilMs: number;
}

/** The credentials a request carries. */
export interface Credentials {
  session: string | null;
  tokenHash: string | null;
}

const SESSION_COOKIE = "jupyterhub-session-id";

/** Hex SHA-256, as the hub hashes tokens. */
async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(text),
  );
  return Array.from(
    new Uint8Array(digest),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
}

/**
 * The session id and token of a request: the `jupyterhub-session-id`
 * cookie; the token of `Authorization: token|bearer …`, else of a `token`
 * query parameter (Jupyter servers accept both).
 */
export async function credentialsOf(head: RequestHead): Promise<Credentials> {
  let session: string | null = null;
  for (const part of (field(head.headers, "cookie") ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) {
      session = part.slice(eq + 1).trim().replace(/^"(.*)"$/, "$1");
    }
  }
  const auth = /^(?:token|bearer)\s+(\S+)$/i.exec(
    field(head.headers, "authorization") ?? "",
  )?.[1];
  const query = head.target.includes("?")
    ? new URLSearchParams(head.target.slice(head.target.indexOf("?") + 1))
      .get("token")
    : null;
  const token = auth ?? query;
  return { session, tokenHash: token ? await sha256Hex(token) : null };
}

interface Open {
  conn: Conn;
  credentials: Credentials;
}

/** The fences of one proxy and the open connections they may have to close. */
export class Fences {
  readonly #fences = new Map<string, Standing[]>();
  readonly #open = new Map<string, Set<Open>>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Whether `prefix` has a standing fence (expired ones are dropped). */
  active(prefix: string): boolean {
    const list = this.#fences.get(prefix);
    if (!list) return false;
    const now = this.#now();
    const live = list.filter((f) => f.untilMs > now);
    if (live.length) this.#fences.set(prefix, live);
    else this.#fences.delete(prefix);
    return live.length > 0;
  }

  /** Whether a fence of `prefix` keeps these credentials out. */
  refuses(prefix: string, credentials: Credentials): boolean {
    if (!this.active(prefix)) return false;
    return this.#fences.get(prefix)!.some((f) => matches(f, credentials));
  }

  /** Raises a fence and closes the open connections it keeps out; returns how many. */
  raise(prefix: string, fence: Fence): number {
    const list = this.#fences.get(prefix) ?? [];
    list.push({
      sessions: fence.sessions,
      tokenHashes: fence.tokenHashes,
      untilMs: this.#now() + fence.forMs,
    });
    this.#fences.set(prefix, list);
    let closed = 0;
    for (const open of this.#open.get(prefix) ?? []) {
      if (!matches(fence, open.credentials)) continue;
      try {
        open.conn.close();
      } catch { /* closed already */ }
      closed++;
    }
    return closed;
  }

  /** Remembers an open connection of `prefix` until the returned function is called. */
  track(prefix: string, conn: Conn, credentials: Credentials): () => void {
    const open: Open = { conn, credentials };
    let set = this.#open.get(prefix);
    if (!set) this.#open.set(prefix, set = new Set());
    set.add(open);
    return () => {
      set.delete(open);
      if (set.size === 0 && this.#open.get(prefix) === set) {
        this.#open.delete(prefix);
      }
    };
  }
}

function matches(fence: Standing | Fence, c: Credentials): boolean {
  return (c.session !== null && fence.sessions.includes(c.session)) ||
    (c.tokenHash !== null && fence.tokenHashes.includes(c.tokenHash));
}
