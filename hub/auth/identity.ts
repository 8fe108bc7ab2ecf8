/**
 * Who is asking, and with which scopes: the hub's one identity read model.
 * Resolves an API token or a login session to an {@linkcode Identity} whose
 * `scopes` are already expanded, intersected with the owner's (JupyterHub's
 * RBAC docs) and parsed.
 *
 * A token costs one query (the token joined with its owner and the owner's
 * groups), a session's user one query; the result is cached per token hash
 * and per user id until anything an identity is made of changes
 * (db/changes.ts: this process's writes to users, groups, memberships and
 * tokens, or another process's commit). Identities are shared between
 * requests: treat them as read-only.
 *
 * @module
 */
import type { Db } from "../db/mod.ts";
import { changeStamp } from "../db/changes.ts";
import { touchUserActivity, userWithGroups } from "../db/users.ts";
import { groupsOfNamedUsers } from "../db/groups.ts";
import {
  serviceTokensByPrefix,
  type TokenWithOwner,
  type TokenWithService,
  touchToken,
  userTokensByPrefix,
} from "../db/tokens.ts";
import type { UserRow } from "../db/schema.ts";
import {
  expandScopes,
  identifyScopes,
  intersectScopes,
  type Owner,
  type ParsedScopes,
  parseScopes,
} from "../rbac/scopes.ts";
import {
  BUILTIN_ROLES,
  ownerScopes,
  type RoleDefinition,
} from "../rbac/roles.ts";
import { parseRoleColumn, roleDefinitions } from "../db/roles.ts";
import { hashSecretCached, sameHash, tokenPrefix } from "../secrets.ts";

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

/** Stored role definitions, by name (they win over the built-in ones). */
export type RoleDefs = Readonly<Record<string, RoleDefinition>>;

/** Expanded role scopes per "role definitions + admin flag + name" (pure function of the three; bounded). */
const USER_SCOPES_CACHE = new Map<string, ReadonlySet<string>>();
const USER_SCOPES_CACHE_SIZE = 1024;
const ROLE_DEFS_IDS = new WeakMap<RoleDefs, number>();
let roleDefsCount = 0;

function roleDefsId(roles: RoleDefs | undefined): number {
  if (!roles) return 0;
  let id = ROLE_DEFS_IDS.get(roles);
  if (id === undefined) ROLE_DEFS_IDS.set(roles, id = ++roleDefsCount);
  return id;
}

/** What a user holds beyond their admin flag (see {@linkcode userScopes}). */
export interface UserGrants {
  /** The stored role definitions ({@linkcode rolesOf}). */
  roles?: RoleDefs | undefined;
  /** Roles assigned to the user, directly or through a group. @default {[]} */
  assigned?: readonly string[];
  /** Scopes shared with the user (filtered to one server each). @default {[]} */
  shared?: readonly string[];
}

/**
 * The expanded scopes a user holds through their roles and shares (a
 * fresh, mutable copy).
 */
export function userScopes(
  user: Pick<UserRow, "name" | "admin">,
  held: UserGrants = {},
): Set<string> {
  const { roles, assigned = [], shared = [] } = held;
  // Only roles that exist count: an assignment can outlive its definition for a moment.
  const extra = assigned.filter((r) =>
    (roles !== undefined && Object.hasOwn(roles, r)) ||
    (Object.hasOwn(BUILTIN_ROLES, r) && r !== "admin")
  ).sort();
  const grants = [...new Set(shared)].sort();
  const key = `${
    roleDefsId(roles)
  }:${user.admin}:${user.name}:${extra}:${grants}`;
  let scopes = USER_SCOPES_CACHE.get(key);
  if (!scopes) {
    const owner = { kind: "user" as const, name: user.name };
    const held = ownerScopes(owner, {
      isAdmin: user.admin === 1,
      roles,
      extraRoles: extra,
    });
    // Shares (JupyterHub 5) add their scopes, each filtered to one server.
    if (grants.length) {
      for (const s of expandScopes(grants, { owner })) held.add(s);
    }
    scopes = held;
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
  options: TokenOwnerScopes,
): Set<string> {
  const { owner, ownerExpanded } = options;
  if (raw.includes("inherit")) return new Set(ownerExpanded);
  const expanded = expandScopes(raw, {
    owner,
    ...(options.clientServer !== undefined
      ? { clientServer: options.clientServer }
      : {}),
  });
  for (const s of identifyScopes(owner)) expanded.add(s);
  return intersectScopes(expanded, {
    owner: ownerExpanded,
    groupsOf: options.groupsOf,
  });
}

/** A token's owner and what the owner holds, for {@linkcode effectiveTokenScopes}. */
export interface TokenOwnerScopes {
  owner: Owner;
  /** The owner's expanded scopes. */
  ownerExpanded: Set<string>;
  /** The server of the OAuth client the token was issued to (`alice/`). */
  clientServer?: string;
  groupsOf: (user: string) => readonly string[];
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

/** The owner fields an identity needs. */
type OwnerRow = Pick<UserRow, "id" | "name" | "admin">;

function identityFor(
  user: OwnerRow,
  groups: string[],
  scopes: Set<string>,
  via: { kind: "token"; tokenId: number; sessionId: string | null } | {
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
    tokenId: via.kind === "token" ? via.tokenId : null,
    sessionId: via.sessionId,
    scopes,
    parsed: parseScopes(scopes),
    groups,
  };
}

/** Activity writes are throttled to this resolution (JupyterHub's activity_resolution). */
const ACTIVITY_RESOLUTION_MS = 30_000;

/** A resolved token: what the next request with it needs without a query. */
interface TokenEntry {
  identity: Identity;
  expiresAt: string | null;
  /** Server tokens do not move their user's activity. */
  serverToken: boolean;
  lastActivity: string | null;
}

interface IdentityCache {
  stamp: string;
  /** Stored role definitions, read once per stamp. */
  roles: Promise<RoleDefs> | null;
  tokens: Map<string, TokenEntry | null>;
  /** A session user's identity, without the session id. */
  users: Map<number, Identity | null>;
}

/** Entries per map at most; a full map starts over (a class has ~100 users). */
const CACHE_LIMIT = 10_000;
const CACHES = new WeakMap<Db, IdentityCache>();

/** The cache of `db`, emptied when anything an identity is made of changed. */
function cacheOf(db: Db): IdentityCache {
  const stamp = changeStamp(db);
  let cache = CACHES.get(db);
  if (!cache || cache.stamp !== stamp) {
    cache = { stamp, roles: null, tokens: new Map(), users: new Map() };
    CACHES.set(db, cache);
  }
  return cache;
}

function remember<K, V>(map: Map<K, V>, key: K, value: V): V {
  if (map.size >= CACHE_LIMIT) map.clear();
  map.set(key, value);
  return value;
}

/** The stored role definitions (read once until something an identity depends on changes). */
export function rolesOf(db: Db): Promise<RoleDefs> {
  const cache = cacheOf(db);
  cache.roles ??= roleDefinitions(db);
  return cache.roles;
}

/** A service token's entry: the service's roles (admin) and scopes, `inherit` for the token. */
function serviceTokenEntry(row: TokenWithService, roles: RoleDefs): TokenEntry {
  const owner: Owner = { kind: "service", name: row.service_name };
  const assigned = (JSON.parse(row.service_roles) as string[]).filter((r) =>
    Object.hasOwn(roles, r)
  );
  const held = ownerScopes(owner, {
    isAdmin: row.service_admin === 1,
    roles,
    extraRoles: assigned,
  });
  for (
    const s of expandScopes(JSON.parse(row.service_scopes) as string[], {
      owner,
    })
  ) held.add(s);
  const scopes = effectiveTokenScopes(JSON.parse(row.scopes) as string[], {
    owner,
    ownerExpanded: held,
    groupsOf: () => [],
  });
  return {
    identity: {
      kind: "service",
      name: row.service_name,
      userId: null,
      admin: row.service_admin === 1,
      via: "token",
      tokenId: row.id,
      sessionId: null,
      scopes,
      parsed: parseScopes(scopes),
      groups: [],
    },
    expiresAt: row.expires_at,
    serverToken: false,
    lastActivity: row.last_activity,
  };
}

function tokenEntry(
  row: TokenWithOwner,
  roles: RoleDefs,
  named: ReadonlyMap<string, readonly string[]> = new Map(),
): TokenEntry {
  const owner: Owner = { kind: "user", name: row.owner_name };
  const user = {
    id: row.user_id!,
    name: row.owner_name,
    admin: row.owner_admin,
  };
  const groups = JSON.parse(row.owner_groups) as string[];
  const clientServer = serverOfClient(row.oauth_client, user.name);
  const scopes = effectiveTokenScopes(JSON.parse(row.scopes) as string[], {
    owner,
    ownerExpanded: userScopes(user, {
      roles,
      assigned: JSON.parse(row.owner_roles) as string[],
      shared: JSON.parse(row.owner_shares) as string[],
    }),
    groupsOf: (name) => name === user.name ? groups : named.get(name) ?? [],
    ...(clientServer !== undefined ? { clientServer } : {}),
  });
  return {
    identity: identityFor(user, groups, scopes, {
      kind: "token",
      tokenId: row.id,
      sessionId: row.session_id,
    }),
    expiresAt: row.expires_at,
    serverToken: row.server_id !== null,
    lastActivity: row.last_activity,
  };
}

/** The token's entry from the cache, or from one query (null: no such user token). */
async function lookupToken(db: Db, token: string): Promise<TokenEntry | null> {
  const hash = await hashSecretCached(token);
  const cache = cacheOf(db);
  const cached = cache.tokens.get(hash);
  if (cached !== undefined) return cached;
  const prefix = tokenPrefix(token);
  const row = (await userTokensByPrefix(db, prefix)).find((r) =>
    sameHash(r.hash, hash)
  );
  if (row) {
    // The role definitions came with the row: no query of their own.
    cache.roles ??= Promise.resolve(parseRoleColumn(row.role_defs));
    // Others a token names (servers!user=bob) and their groups, for an
    // owner whose roles hold group filters: read only when there are any.
    const raw = JSON.parse(row.scopes) as string[];
    const names = raw.some((s) => /!(user|server)=/.test(s));
    const named = names ? await groupsOfNamedUsers(db, raw) : undefined;
    return remember(
      cache.tokens,
      hash,
      tokenEntry(row, await cache.roles, named),
    );
  }
  const roles = await rolesOf(db);
  const service = (await serviceTokensByPrefix(db, prefix)).find((r) =>
    sameHash(r.hash, hash)
  );
  return remember(
    cache.tokens,
    hash,
    service ? serviceTokenEntry(service, roles) : null,
  );
}

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
  const entry = await lookupToken(db, token);
  if (!entry) return null;
  const nowIso = now.toISOString();
  if (entry.expiresAt !== null && entry.expiresAt <= nowIso) return null;
  if (
    !entry.lastActivity ||
    now.getTime() - Date.parse(entry.lastActivity) > ACTIVITY_RESOLUTION_MS
  ) {
    entry.lastActivity = nowIso;
    await touchToken(db, entry.identity.tokenId!, nowIso);
    if (!entry.serverToken && entry.identity.userId !== null) {
      await touchUserActivity(db, entry.identity.userId!, nowIso);
    }
  }
  return entry.identity;
}

/** The identity of a logged-in browser session's user. */
export async function identityFromSession(
  db: Db,
  userId: number,
  sessionId: string,
): Promise<Identity | null> {
  const cache = cacheOf(db);
  let base = cache.users.get(userId);
  if (base === undefined) {
    const found = await userWithGroups(db, userId);
    if (found) cache.roles ??= Promise.resolve(found.roles);
    const roles = found ? await cache.roles! : {};
    base = remember(
      cache.users,
      userId,
      found
        ? identityFor(
          found.user,
          found.groups,
          userScopes(found.user, {
            roles,
            assigned: found.assigned,
            shared: found.shared,
          }),
          {
            kind: "cookie",
            sessionId: "",
          },
        )
        : null,
    );
  }
  return base ? { ...base, sessionId } : null;
}
