/**
 * Scope arithmetic of the authorize step (JupyterHub's RBAC docs, "Scopes in OAuth"):
 * which scopes a client asks for, which of them the user can grant, and how
 * the consent page describes them. Pure.
 *
 * @module
 */
import {
  expandScopes,
  type GroupLookup,
  intersectScopes,
  type Owner,
  SCOPE_TABLE,
  scopeDefinition,
  ScopeError,
  validateScopes,
} from "../rbac/scopes.ts";
import { BUILTIN_ROLES, userRoleNames } from "../rbac/roles.ts";

/** `read:users:name!user`, `read:users:groups!user`: granted to every OAuth token. */
export const IDENTIFY_SCOPES: readonly string[] = [
  "read:users:name!user",
  "read:users:groups!user",
];

/** The access scope of a server client (JupyterHub's RBAC docs): `access:servers!server=alice/gpu`. */
export function serverAccessScope(server: string): string {
  return `access:servers!server=${server}`;
}

/** Why a requested scope list was refused (becomes `error=invalid_scope`). */
export class InvalidScopeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InvalidScopeError";
  }
}

/**
 * The scopes a client asks for: the `scope` parameter (space-separated) or,
 * when absent or empty, the client's allowed scopes; `identify` is dropped;
 * names that are not scopes are tried as role names. The client's
 * `required` scopes (identify + access) are always added, and everything
 * must lie within `allowed` + `required`.
 *
 * @param scopeParam The `scope` parameter, or null when absent.
 * @throws {InvalidScopeError} for unknown names or scopes the client may not request.
 */
export function requestedScopes(
  scopeParam: string | null,
  client: {
    /** The scopes the client may ask for. */
    allowed: readonly string[];
    /** The scopes every token of the client gets (identify + access). */
    required: readonly string[];
  },
): Set<string> {
  const { allowed, required } = client;
  const given = scopeParam?.split(" ").filter((s) => s !== "") ?? [];
  let names = given.length ? given : [...allowed];
  names = names.filter((s) => s !== "identify");
  let requested: Set<string>;
  try {
    validateScopes(names);
    requested = new Set(names);
  } catch (error) {
    if (!(error instanceof ScopeError)) throw error;
    requested = new Set();
    for (const name of names) {
      if (!Object.hasOwn(BUILTIN_ROLES, name)) {
        throw new InvalidScopeError(
          `No such scope or role: ${name.slice(0, 100)}`,
        );
      }
      const role = BUILTIN_ROLES[name as keyof typeof BUILTIN_ROLES];
      for (const s of role.scopes) requested.add(s);
    }
  }
  for (const s of required) requested.add(s);
  const permitted = new Set([...allowed, ...required]);
  const refused = [...requested].filter((s) => !permitted.has(s));
  if (refused.length) {
    throw new InvalidScopeError(
      `Scope(s) not allowed for this client: ${refused.join(", ")}`,
    );
  }
  return requested;
}

/**
 * The raw scopes a user holds through their roles (JupyterHub's
 * roles_to_scopes(get_roles_for(user))): the default ones (as `roles`
 * redefines them) and those `assigned` to them or their groups; a name
 * with no definition counts for nothing.
 */
export function userRawScopes(
  isAdmin: boolean,
  options: {
    /** Role definitions that redefine the built-in ones. @default {{}} */
    roles?: Readonly<Record<string, { scopes: readonly string[] }>>;
    /** Role names given to the user or their groups. @default {[]} */
    assigned?: readonly string[];
  } = {},
): Set<string> {
  const { roles = {}, assigned = [] } = options;
  const out = new Set<string>();
  // The admin role comes with the admin flag only (as in userScopes).
  const names = [
    ...userRoleNames(isAdmin),
    ...assigned.filter((r) => r !== "admin"),
  ];
  for (const name of names) {
    const role = Object.hasOwn(roles, name)
      ? roles[name]
      : Object.hasOwn(BUILTIN_ROLES, name)
      ? BUILTIN_ROLES[name as keyof typeof BUILTIN_ROLES]
      : undefined;
    for (const s of role?.scopes ?? []) out.add(s);
  }
  return out;
}

/** Context of {@linkcode resolveRequestedScopes}. */
export interface ResolveContext {
  /** The raw scopes the user holds ({@linkcode userRawScopes}). */
  have: ReadonlySet<string>;
  owner: Owner;
  /** The client's server, `"alice/"`; resolves bare `!server` (absent for a service's client). */
  clientServer?: string;
  groupsOf: GroupLookup;
}

/**
 * Port of JupyterHub's `_resolve_requested_scopes`: requested scopes held
 * verbatim in `have` (raw) are granted as they are; each remaining one is
 * expanded and intersected with the expansion of `have`. Fully covered →
 * granted in raw form (`access:servers!server=alice/` for a holder of
 * `access:servers!user=alice`); partly covered → the covered expanded
 * scopes are granted; otherwise it is refused.
 */
export function resolveRequestedScopes(
  requested: ReadonlySet<string>,
  ctx: ResolveContext,
): { allowed: Set<string>; disallowed: Set<string> } {
  const { have } = ctx;
  const allowed = new Set([...requested].filter((s) => have.has(s)));
  const disallowed = new Set([...requested].filter((s) => !have.has(s)));
  if (disallowed.size === 0) return { allowed, disallowed };
  const expand = (scopes: Iterable<string>) =>
    expandScopes([...scopes].filter((s) => s !== "inherit"), {
      owner: ctx.owner,
      ...(ctx.clientServer !== undefined
        ? { clientServer: ctx.clientServer }
        : {}),
    });
  let expandedAllowed = expand(allowed);
  const expandedHave = expand(have);
  for (const scope of [...disallowed]) {
    const wanted = expand([scope]);
    for (const s of expandedAllowed) wanted.delete(s);
    const covered = wanted.size
      ? intersectScopes(wanted, { owner: expandedHave, groupsOf: ctx.groupsOf })
      : new Set<string>();
    if (sameSet(covered, wanted)) {
      allowed.add(scope);
      disallowed.delete(scope);
      expandedAllowed = expand(allowed);
    } else if (covered.size) {
      for (const s of covered) allowed.add(s);
      expandedAllowed = expand(allowed);
    }
  }
  return { allowed, disallowed };
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x));
}

/** One line of the consent page. */
export interface ScopeDescription {
  /** The base scope, or null for "identify only". */
  scope: string | null;
  description: string;
  /** "", "only you", "user bob", "users in group g", "server alice/gpu". */
  filter: string;
}

/**
 * Consent-page lines for granted raw scopes, leaving out the ones every
 * token gets (`required`); JupyterHub's `describe_raw_scopes`.
 */
export function describeScopes(
  granted: Iterable<string>,
  options: {
    /** Scopes every token gets, left out of the lines. */
    required: readonly string[];
    /** Who consents: a filter naming them reads "only you". */
    userName: string;
  },
): ScopeDescription[] {
  const { required, userName } = options;
  const shown = [...granted].filter((s) => !required.includes(s)).sort();
  if (shown.length === 0) {
    return [{
      scope: null,
      description: SCOPE_TABLE["(no_scope)"]!.description,
      filter: "",
    }];
  }
  if (shown.includes("inherit")) {
    return [{
      scope: "inherit",
      description: SCOPE_TABLE.inherit!.description,
      filter: "",
    }];
  }
  return shown.map((raw) => {
    const bang = raw.indexOf("!");
    const base = bang < 0 ? raw : raw.slice(0, bang);
    const filter = bang < 0 ? "" : raw.slice(bang + 1);
    let text = "";
    if (filter === "user") {
      text = "only you";
    } else if (filter) {
      const eq = filter.indexOf("=");
      const kind = eq < 0 ? filter : filter.slice(0, eq);
      const name = eq < 0 ? "" : filter.slice(eq + 1);
      if (kind === "user" && name === userName) text = "only you";
      else if (kind === "group") text = `users in group ${name}`;
      else text = `${kind} ${name}`.trim();
    }
    return {
      scope: base,
      description: scopeDefinition(base)?.description ?? base,
      filter: text,
    };
  });
}
