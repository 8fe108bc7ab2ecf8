/**
 * A server's credentials: its API token and its OAuth client (whose secret
 * is the same token), made at each spawn and removed when it stops. Both
 * are found by their relation to the server row, never by the
 * (user-writable) note: JupyterHub's way.
 *
 * @module
 */
import { roleDefinitions } from "../db/roles.ts";
import { BUILTIN_ROLES } from "../rbac/roles.ts";
import type { HubConfig } from "../config/mod.ts";
import type { Db } from "../db/mod.ts";
import type { UserRow } from "../db/schema.ts";
import { deleteServerTokens, insertToken } from "../db/tokens.ts";
import { getServer } from "../db/servers.ts";
import { clientIdFor, deleteClient, upsertServerClient } from "../db/oauth.ts";
import { hashSecret, newSecret, tokenPrefix } from "../secrets.ts";
import { serverLocation } from "./urls.ts";
import type { ServerOwner } from "./_types.ts";

/** Which server: its owner's name and the server's name ("" for the default one). */
export interface ServerName {
  user: string;
  server: string;
}

/** Scopes with a bare `!server` filter made `!server=<user>/<server>` (the server they are for). */
export function fillServerFilter(
  scopes: readonly string[],
  of: ServerName,
): string[] {
  return scopes.map((s) =>
    s.replace(/!server$/, `!server=${of.user}/${of.server}`)
  );
}

/** What issuing credentials reads. */
export interface CredentialDeps {
  db: Db;
  config: HubConfig;
  now: () => Date;
}

/** The scopes of a server's token: spawner.server_token_scopes, else the (redefinable) server role (JupyterHub 5). */
async function serverTokenScopes(
  db: Db,
  config: HubConfig,
): Promise<readonly string[]> {
  if (config.spawner.serverTokenScopes.length) {
    return config.spawner.serverTokenScopes;
  }
  return ((await roleDefinitions(db)).server ?? BUILTIN_ROLES.server).scopes;
}

/**
 * Spawn step 3: the server's API token (replacing any earlier one of this
 * server) and its OAuth client, whose secret is the same token. The server
 * row must exist (spawn step 1 wrote it). Returns the token.
 */
export async function issueServerCredentials(
  deps: CredentialDeps,
  target: { user: UserRow; server: string },
): Promise<string> {
  const { db, config } = deps;
  const { user, server } = target;
  const where = serverLocation(config, user.name, server);
  const note = `Server at ${where.prefix}`;
  const serverId = (await getServer(db, user.id, server))!.id;
  await deleteServerTokens(db, serverId);
  const token = newSecret();
  const of = { user: user.name, server };
  await insertToken(db, {
    userId: user.id,
    serviceId: null,
    prefix: tokenPrefix(token),
    hash: await hashSecret(token),
    scopes: fillServerFilter(await serverTokenScopes(db, config), of),
    note,
    created: deps.now().toISOString(),
    expiresAt: null,
    serverId,
  });
  await upsertServerClient(db, {
    user: user.name,
    server,
    serverId,
    secret: token,
    // A full URL on the user's own host with subdomain_host (JupyterHub's too).
    redirectUri: `${where.url}oauth_callback`,
    allowedScopes: [
      `access:servers!server=${user.name}/${server}`,
      ...fillServerFilter(config.spawner.oauthClientAllowedScopes, of),
    ],
    description: note,
    now: deps.now(),
  });
  return token;
}

/** Removes a server's API token and OAuth client (a stop, a failed spawn, a clean-up). */
export async function revokeServerCredentials(
  db: Db,
  target: { owner: ServerOwner; server: string },
): Promise<void> {
  const { owner, server } = target;
  const row = await getServer(db, owner.id, server);
  if (row) await deleteServerTokens(db, row.id);
  await deleteClient(db, clientIdFor(owner.name, server));
}
