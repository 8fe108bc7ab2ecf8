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
  return new Uint8Array(digest).toHex();
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

/** An open connection a fence may have to close, and who opened it. */
export interface OpenConnection {
  conn: Conn;
  credentials: Credentials;
}

/**
 * The fences of one proxy and the open connections they may have to close.
 * A route's fences are kept as one map per kind of credential, each
 * credential with the latest end any fence gave it, so repeated fences
 * grow nothing but the credentials they name (sessions and tokens, which
 * the hub bounds).
 */
export class Fences {
  readonly #fenced = new Map<string, Map<string, number>>();
  readonly #open = new Map<string, Set<OpenConnection>>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Whether `prefix` has a standing fence (ended ones are dropped). */
  active(prefix: string): boolean {
    const fenced = this.#fenced.get(prefix);
    if (!fenced) return false;
    const now = this.#now();
    for (const [key, until] of fenced) if (until <= now) fenced.delete(key);
    if (fenced.size === 0) this.#fenced.delete(prefix);
    return fenced.size > 0;
  }

  /** Whether a fence of `prefix` keeps these credentials out. */
  refuses(prefix: string, credentials: Credentials): boolean {
    if (!this.active(prefix)) return false;
    const fenced = this.#fenced.get(prefix)!;
    return keysOf(credentials).some((key) => fenced.has(key));
  }

  /** Raises a fence and closes the open connections it keeps out; returns how many. */
  raise(prefix: string, fence: Fence): number {
    const until = this.#now() + fence.forMs;
    let fenced = this.#fenced.get(prefix);
    if (!fenced) this.#fenced.set(prefix, fenced = new Map());
    const keys = [
      ...fence.sessions.map((s) => `s:${s}`),
      ...fence.tokenHashes.map((h) => `t:${h}`),
    ];
    for (const key of keys) {
      fenced.set(key, Math.max(fenced.get(key) ?? 0, until));
    }
    let closed = 0;
    for (const open of this.#open.get(prefix) ?? []) {
      if (!keysOf(open.credentials).some((key) => keys.includes(key))) {
        continue;
      }
      try {
        open.conn.close();
      } catch { /* closed already */ }
      closed++;
    }
    return closed;
  }

  /** Remembers an open connection of `prefix` (and who opened it) until the returned function is called. */
  track(prefix: string, open: OpenConnection): () => void {
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

/** A request's credentials as fence keys: `s:<session>`, `t:<token hash>`. */
function keysOf(c: Credentials): string[] {
  const keys: string[] = [];
  if (c.session !== null) keys.push(`s:${c.session}`);
  if (c.tokenHash !== null) keys.push(`t:${c.tokenHash}`);
  return keys;
}
