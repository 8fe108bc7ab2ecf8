/**
 * Who is on the other end of a request: the client's address and whether
 * it came over HTTPS, decided once per request and read by every route as
 * `c.get("client")` (the login throttle, cookie flags, pagination URLs).
 *
 * `X-Forwarded-*` are believed only from a proxy that can prove it is
 * onehub's: the built-in proxy sends `X-Onehub-Proxy` with a secret of
 * the running hub (an external `onehub proxy` one derived from the proxy
 * token both share) on the hub's route only, and drops any copy a client
 * sent. With `proxy.mode: external` and a proxy that sends no proof
 * (configurable-http-proxy), a peer listed in `proxy.trusted_proxies` is
 * believed too; with the built-in proxy, only the proof. Anyone else — a
 * student's process reaching the hub's port on loopback directly — is known
 * by its socket's address, whatever headers it writes (red team, issue 23:
 * made-up forwarded addresses went past the login throttle that way).
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import { PROOF_HEADER } from "../../proxy/mod.ts";
import { constantTimeEqual } from "../secrets.ts";
import type { ClientView, HubEnv } from "./identity.ts";

export type { ClientView };

/** Options of {@linkcode clientMiddleware}. */
export interface ClientOptions {
  /** The proof onehub's proxy sends, or null when none can (no believed proof). */
  proof: string | null;
  /** `proxy.trusted_proxies`, read per request (live). */
  trustedProxies: () => readonly string[];
  /** Believe a peer in `trustedProxies` without the proof (`proxy.mode: external`). */
  believePeers: boolean;
}

function peerAddress(c: Context): string | undefined {
  // deno-lint-ignore no-explicit-any
  const info = (c.env as any)?.remoteAddr;
  return info && typeof info.hostname === "string" ? info.hostname : undefined;
}

/** The last entry of a comma-separated forwarded field. */
function last(value: string | undefined): string | undefined {
  return value?.split(",").at(-1)?.trim() || undefined;
}

/**
 * The client of `c`: through a believed proxy, the rightmost
 * `X-Forwarded-For` entry that is not itself a trusted proxy (nginx in
 * front of onehub's proxy appends the address it saw, onehub's proxy the
 * one it saw); otherwise the socket's peer.
 */
export function clientView(c: Context, options: ClientOptions): ClientView {
  const peer = peerAddress(c);
  const trusted = options.trustedProxies();
  const sent = c.req.header(PROOF_HEADER);
  const proven = options.proof !== null && sent !== undefined &&
    constantTimeEqual(sent, options.proof);
  const believed = proven ||
    (options.believePeers && peer !== undefined && trusted.includes(peer));
  if (!believed) return { address: peer, https: false, proxied: false };
  const hops = (c.req.header("x-forwarded-for") ?? "").split(",")
    .map((h) => h.trim()).filter(Boolean);
  while (hops.length > 1 && trusted.includes(hops.at(-1)!)) hops.pop();
  return {
    address: hops.at(-1) ?? peer,
    https: last(c.req.header("x-forwarded-proto")) === "https",
    proxied: true,
  };
}

/** Sets `c.get("client")` for every request. */
export function clientMiddleware(
  options: ClientOptions,
): MiddlewareHandler<HubEnv> {
  return async (c, next) => {
    c.set("client", clientView(c, options));
    await next();
  };
}
