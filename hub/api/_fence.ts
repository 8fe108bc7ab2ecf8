/**
 * Cutting live access when credentials are taken away: the proxy closes
 * their open connections (kernel WebSockets) on the servers they reached
 * and keeps them off those servers for {@linkcode FENCE_MS}, past the
 * single-user server's own 5-minute memory of who a visitor is
 * (proxy/fence.ts). Used when a share is revoked, a user is deleted, and
 * tokens or sessions are revoked.
 *
 * @module
 */
import { serverLocation } from "../servers/urls.ts";
import type { ApiDeps } from "./_deps.ts";
import { serversByUser } from "../db/servers.ts";
import { sharesOfUser } from "../db/shares.ts";

/** How long the proxy keeps taken credentials off a server: past the server's 300 s cache, with margin. */
export const FENCE_MS = 10 * 60_000;

/** Credentials that just lost their access. */
export interface Taken {
  sessions: readonly string[];
  tokenHashes: readonly string[];
}

/** Fences `taken` off one server route. */
export async function fenceServer(
  deps: ApiDeps,
  fence: { prefix: string; taken: Taken },
): Promise<void> {
  const { prefix, taken } = fence;
  if (!taken.sessions.length && !taken.tokenHashes.length) return;
  await deps.routes?.fence(prefix, { ...taken, forMs: FENCE_MS });
}

/**
 * Fences `taken` off every server `user` could reach: their own and those
 * shared with them (directly or through a group). Call it before a
 * deletion takes the shares away.
 */
export async function fenceUserOut(
  deps: ApiDeps,
  fence: { user: { id: number; name: string }; taken: Taken },
): Promise<void> {
  const { user, taken } = fence;
  if (!deps.routes) return;
  const key = (owner: string, server: string) =>
    serverLocation(deps.config, { user: owner, server }).routeKey;
  const prefixes = new Set([key(user.name, "")]);
  for (
    const s of (await serversByUser(deps.db, [user.id])).get(user.id) ?? []
  ) {
    prefixes.add(key(user.name, s.name));
  }
  for (const share of await sharesOfUser(deps.db, user.id, true)) {
    prefixes.add(key(share.ownerName, share.serverName));
  }
  for (const prefix of prefixes) await fenceServer(deps, { prefix, taken });
}
