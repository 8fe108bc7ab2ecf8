/**
 * Who is asking, and with which scopes: resolves an API token or a login
 * session to an {@linkcode Identity} whose `scopes` are already expanded and
 * intersected with the owner's (JupyterHub's RBAC docs).
 *
 * @module
 */
import type { Db } from "../db/mod.ts";
import { getUserById } from "../db/users.ts";
import { groupsOfUserName } from "../db/users.ts";
import { tokensByPrefix, touchToken } from "../db/tokens.ts";
import type { ApiTokenRow, UserRow } from "../db/schema.ts";
import {
  expandScopes,
  identifyScopes,
  intersectScopes,
  type Owner,
  type ParsedScopes,
  parseScopes,
} from "../scopes.ts";
import { ownerScopes } from "../roles.ts";
import { hashSecretCached, sameHash, tokenPrefix } from "../tokens.ts";

/** The authenticated caller of a request. */
export interface Identity {
  kind: "user" | "service";
  name: string;
  /** users.id for users. */
  userId: number | null;
  admin: boolean;
  via: "token" | "cookie";
  /** api_tokens.id when authenticated by token. */
  tokenId: number | null;
  /** The jupyterhub-session-id of a cookie login or OAuth token. */
  sessionId: string | null;
  /** Effective expanded scopes. */
  scopes: Set<string>;
  parsed: ParsedScopes;
  /** Groups the caller belongs to (users). */
  groups: string[];
}

/** Expanded role scopes per "admin flag + name" (pure function of both; bounded). */
const USER_SCOPES_CACHE = new Map<string, ReadonlySet<string>>();
const USER_SCOPES_CACHE_SIZE = 1024;

/** The expanded scopes a user holds through their roles (a fresh, mutable copy). */
export function userScopes(user: Pick<UserRow, "name" | "admin">): Set<string> {
  const key = `${user.admin}:${user.name}`;
  let scopes = USER_SCOPES_CACHE.get(key);
  if (!scopes) {
    scopes = ownerScopes({ kind: "user", name: user.name }, {
      isAdmin: user.admin === 1,
    });
    if (USER_SCOPES_CACHE.size >= USER_SCOPES_CACHE_SIZE) {
      USER_SCOPES_CACHE.clear();
    }
    USER_SCOPES_CACHE.set(key, scopes);
  }
  return new Set(scopes);
}

/**
 * A token's effective scopes (JupyterHub's RBAC docs): `inherit` → the owner's;
 * otherwise expanded with the owner (and OAuth client server), plus the
 * identify scopes, intersected with the owner's.
 */
export function effectiveTokenScopes(
  raw: readonly string[],
  owner: Owner,
  ownerExpanded: Set<string>,
  options: {
    clientServer?: string;
    groupsOf: (user: string) => readonly string[];
  },
): Set<string> {
  if (raw.includes("inherit")) return new Set(ownerExpanded);
  const expanded = expandScopes(raw, {
    owner,
    ...(options.clientServer !== undefined
      ? { clientServer: options.clientServer }
      : {}),
  });
  for (const s of identifyScopes(owner)) expanded.add(s);
  return intersectScopes(expanded, ownerExpanded, options.groupsOf);
}

/** `jupyterhub-user-alice-gpu` → `alice/gpu`; `jupyterhub-user-alice` → `alice/`. */
export function serverOfClient(
  clientId: string | null,
  owner: string,
): string | undefined {
  if (!clientId) return undefined;
  const base = `jupyterhub-user-${encodeURIComponent(owner)}`;
  if (clientId === base) return `${owner}/`;
  if (clientId.startsWith(base + "-")) {
    return `${owner}/${decodeURIComponent(clientId.slice(base.length + 1))}`;
  }
  return undefined;
}

function identityFor(
  user: UserRow,
  groups: string[],
  scopes: Set<string>,
  via: { kind: "token"; token: ApiTokenRow } | {
    kind: "cookie";
    sessionId: string;
  },
): Identity {
  return {
    kind: "user",
    name: user.name,
    userId: user.id,
    admin: user.admin === 1,
    via: via.kind,
    tokenId: via.kind === "token" ? via.token.id : null,
    sessionId: via.kind === "token" ? via.token.session_id : via.sessionId,
    scopes,
    parsed: parseScopes(scopes),
    groups,
  };
}

/** Activity writes are throttled to this resolution (JupyterHub's activity_resolution). */
const ACTIVITY_RESOLUTION_MS = 30_000;

/**
 * Resolves a bearer token. Expired or unknown tokens give null. Records
 * token (and, unless it is a server's own token, user) activity, throttled.
 */
export async function identityFromToken(
  db: Db,
  token: string,
  now: Date,
): Promise<Identity | null> {
  if (token.length < 8 || token.length > 256) return null;
  const hash = await hashSecretCached(token);
  const row = (await tokensByPrefix(db, tokenPrefix(token))).find((r) =>
    sameHash(r.hash, hash)
  );
  if (!row) return null;
  const nowIso = now.toISOString();
  if (row.expires_at !== null && row.expires_at <= nowIso) return null;
  if (row.user_id === null) return null; // service tokens arrive with services (TODO(#2): services)
  const user = await getUserById(db, row.user_id);
  if (!user) return null;
  const groups = await groupsOfUserName(db, user.name);
  const owner: Owner = { kind: "user", name: user.name };
  const ownerExpanded = userScopes(user);
  const groupsOf = (name: string) => (name === user.name ? groups : []);
  const clientServer = serverOfClient(row.oauth_client, user.name);
  const scopes = effectiveTokenScopes(
    JSON.parse(row.scopes) as string[],
    owner,
    ownerExpanded,
    {
      groupsOf,
      ...(clientServer !== undefined ? { clientServer } : {}),
    },
  );
  if (
    !row.last_activity ||
    now.getTime() - Date.parse(row.last_activity) > ACTIVITY_RESOLUTION_MS
  ) {
    await touchToken(db, row.id, nowIso);
    if (!row.note.startsWith("Server at ")) {
      await db.updateTable("users").set({ last_activity: nowIso }).where(
        "id",
        "=",
        user.id,
      )
        .where((eb) =>
          eb.or([
            eb("last_activity", "is", null),
            eb("last_activity", "<", nowIso),
          ])
        ).execute();
    }
  }
  return identityFor(user, groups, scopes, { kind: "token", token: row });
}

/** The identity of a logged-in browser session's user. */
export async function identityFromSession(
  db: Db,
  userId: number,
  sessionId: string,
): Promise<Identity | null> {
  const user = await getUserById(db, userId);
  if (!user) return null;
  const groups = await groupsOfUserName(db, user.name);
  return identityFor(user, groups, userScopes(user), {
    kind: "cookie",
    sessionId,
  });
}
