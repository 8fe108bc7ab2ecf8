/**
 * The JupyterHub 5.x scope vocabulary and its semantics: validation,
 * expansion, parsing, checking and intersection (JupyterHub's RBAC docs).
 *
 * Pure: no database, no HTTP. Group membership comes in as a
 * {@linkcode GroupLookup} function, so callers decide how to query it.
 *
 * Nomenclature, as in `jupyterhub/scopes.py`:
 * - raw scopes may hold metascopes (`self`, `inherit`) and bare filters
 *   (`servers!user`);
 * - expanded scopes hold subscopes and concrete filters only, reduced;
 * - parsed scopes map each base scope to "all" or its filter values.
 *
 * @module
 */

/** The kinds of filter a scope may carry after `!`. */
export type FilterKind = "user" | "server" | "group" | "service";

/** Every filter kind, in the order used by {@linkcode unparseScopes}. */
export const FILTER_KINDS: readonly FilterKind[] = [
  "user",
  "server",
  "group",
  "service",
];

/** One entry of {@linkcode SCOPE_TABLE}. */
export interface ScopeDefinition {
  /** What the scope grants, one sentence. */
  description: string;
  /** Scopes implied by this one (expanded recursively). */
  subscopes: readonly string[];
  /** Filters that make sense on this scope (documentation only). */
  filters: readonly FilterKind[];
}

function def(
  description: string,
  subscopes: readonly string[],
  filters: readonly FilterKind[],
): ScopeDefinition {
  return { description, subscopes, filters };
}

const NONE: readonly FilterKind[] = [];
const USERS: readonly FilterKind[] = ["user", "group"];
const SERVERS: readonly FilterKind[] = ["user", "server", "group"];
const GROUPS: readonly FilterKind[] = ["group"];
const SERVICES: readonly FilterKind[] = ["service"];

/**
 * Every JupyterHub 5.x scope (JupyterHub's RBAC docs): the single source of truth for
 * validation, expansion and the generated scope docs.
 */
export const SCOPE_TABLE: Readonly<Record<string, ScopeDefinition>> = {
  "(no_scope)": def("Identify the owner of the requesting entity.", [], NONE),
  "self": def(
    "The user's own resources (metascope for users, nothing for services).",
    [],
    NONE,
  ),
  "inherit": def(
    "Everything the token's owner can access (metascope for tokens).",
    [],
    NONE,
  ),
  "admin-ui": def(
    "Open the admin page; each action there needs its own scope.",
    [],
    NONE,
  ),
  "admin:users": def(
    "Create, modify and delete users and their auth state (superuser-equivalent).",
    ["admin:auth_state", "users", "read:roles:users", "delete:users"],
    USERS,
  ),
  "admin:auth_state": def("Read a user's authentication state.", [], USERS),
  "users": def(
    "Read and write user models, not servers, tokens or auth state.",
    ["read:users", "list:users", "users:activity"],
    USERS,
  ),
  "delete:users": def("Delete users.", [], USERS),
  "list:users": def(
    "List users, including at least their names.",
    ["read:users:name"],
    USERS,
  ),
  "read:users": def(
    "Read user models, including the URL of the default server.",
    ["read:users:name", "read:users:groups", "read:users:activity"],
    USERS,
  ),
  "read:users:name": def("Read user names.", [], USERS),
  "read:users:groups": def("Read users' group membership.", [], USERS),
  "read:users:activity": def("Read users' last activity time.", [], USERS),
  "users:activity": def(
    "Post user activity.",
    ["read:users:activity"],
    USERS,
  ),
  "read:roles": def(
    "Read role assignments.",
    ["read:roles:users", "read:roles:services", "read:roles:groups"],
    NONE,
  ),
  "read:roles:users": def("Read users' role assignments.", [], ["user"]),
  "read:roles:services": def(
    "Read services' role assignments.",
    [],
    ["service"],
  ),
  "read:roles:groups": def("Read groups' role assignments.", [], ["group"]),
  "admin:servers": def(
    "Start, stop, create and delete user servers and read or write their state.",
    ["admin:server_state", "servers"],
    SERVERS,
  ),
  "admin:server_state": def(
    "Read and write the spawner state of user servers.",
    [],
    SERVERS,
  ),
  "servers": def(
    "Start and stop user servers.",
    ["read:servers", "delete:servers"],
    SERVERS,
  ),
  "read:servers": def(
    "Read user names and server models, not the server state.",
    ["read:users:name"],
    SERVERS,
  ),
  "delete:servers": def("Stop and delete user servers.", [], SERVERS),
  "access:servers": def(
    "Use user servers through the browser or the API.",
    [],
    SERVERS,
  ),
  "tokens": def("Create, read and delete user tokens.", ["read:tokens"], USERS),
  "read:tokens": def("List user tokens.", [], USERS),
  "admin:groups": def(
    "Create, modify and delete groups.",
    ["groups", "read:roles:groups", "delete:groups"],
    GROUPS,
  ),
  "groups": def(
    "Modify groups, including their membership (which may change permissions).",
    ["read:groups", "list:groups"],
    GROUPS,
  ),
  "list:groups": def(
    "List groups, including at least their names.",
    ["read:groups:name"],
    GROUPS,
  ),
  "read:groups": def("Read group models.", ["read:groups:name"], GROUPS),
  "read:groups:name": def("Read group names.", [], GROUPS),
  "delete:groups": def("Delete groups.", [], GROUPS),
  "admin:services": def(
    "Create and delete services at runtime (not those from the config file).",
    ["list:services", "read:services", "read:roles:services"],
    SERVICES,
  ),
  "list:services": def(
    "List services, including at least their names.",
    ["read:services:name"],
    SERVICES,
  ),
  "read:services": def(
    "Read service models.",
    ["read:services:name"],
    SERVICES,
  ),
  "read:services:name": def("Read service names.", [], SERVICES),
  "access:services": def(
    "Use services through the browser or the API.",
    [],
    SERVICES,
  ),
  "read:hub": def("Read detailed information about the Hub.", [], NONE),
  "proxy": def(
    "Read the proxy's routing table and sync the Hub with the proxy.",
    [],
    NONE,
  ),
  "shutdown": def("Shut down the Hub.", [], NONE),
  "read:metrics": def("Read Prometheus metrics.", [], NONE),
  "shares": def(
    "Manage shared access to servers.",
    ["access:servers", "read:shares", "users:shares", "groups:shares"],
    ["user", "server"],
  ),
  "read:shares": def(
    "Read who has shared access to servers.",
    [],
    ["user", "server"],
  ),
  "users:shares": def(
    "Read and revoke a user's access to shared servers.",
    ["read:users:shares"],
    ["user"],
  ),
  "read:users:shares": def("Read servers shared with a user.", [], ["user"]),
  "groups:shares": def(
    "Read and revoke a group's access to shared servers.",
    ["read:groups:shares"],
    GROUPS,
  ),
  "read:groups:shares": def("Read servers shared with a group.", [], GROUPS),
};

/** An invalid scope or filter; the message says what to change. */
export class ScopeError extends Error {
  /** The offending scope, as given. */
  readonly scope: string;

  constructor(message: string, scope: string) {
    super(message);
    this.name = "ScopeError";
    this.scope = scope;
  }
}

/** Options for {@linkcode validateScopes}. */
export interface ValidateScopesOptions {
  /** Who the scopes are for, named in the message, e.g. `role 'culler'`. */
  subject?: string | undefined;
}

const BARE_FILTERS = new Set(["user", "server", "service"]);

/**
 * Throws {@linkcode ScopeError} for the first scope that is not a 5.x scope,
 * carries an unknown filter, or has an empty filter value. A filter kind that
 * is not meaningful for its scope (`read:hub!user=x`) is accepted, as
 * JupyterHub does; it simply never matches.
 *
 * @example
 * ```ts
 * validateScopes(["read:users!group=students", "servers!user"]); // ok
 * try {
 *   validateScopes(["all"]);
 * } catch (error) {
 *   (error as Error).message; // "Draft scope 'all' is now called 'inherit'"
 * }
 * ```
 */
export function validateScopes(
  scopes: Iterable<string>,
  options: ValidateScopesOptions = {},
): void {
  const forWhom = options.subject ? ` for ${options.subject}` : "";
  for (const scope of scopes) {
    const [base, filter] = splitScope(scope);
    if (!scopeDefinition(base)) {
      if (base === "all") {
        throw new ScopeError(
          "Draft scope 'all' is now called 'inherit'",
          scope,
        );
      }
      const hint = base.startsWith("custom:")
        ? ": define it in custom_scopes"
        : "";
      throw new ScopeError(
        `Scope '${scope}'${forWhom} does not exist${hint}`,
        scope,
      );
    }
    if (filter === undefined || BARE_FILTERS.has(filter)) continue;
    const eq = filter.indexOf("=");
    const kind = eq < 0 ? filter : filter.slice(0, eq);
    if (eq < 0 || !isFilterKind(kind)) {
      throw new ScopeError(
        `Scope filter '!${filter}' in scope '${scope}'${forWhom} does not exist: ` +
          "use !user=, !server=, !group=, !service= or a bare !user, !server, !service",
        scope,
      );
    }
    if (eq === filter.length - 1) {
      throw new ScopeError(
        `Scope filter '!${filter}' in scope '${scope}'${forWhom} has an empty value: ` +
          `name the ${kind} after '='`,
        scope,
      );
    }
  }
}

/** A user or a service: who owns a token or holds roles. */
export type Owner =
  | { kind: "user"; name: string }
  | { kind: "service"; name: string };

/** Context for {@linkcode expandScopes}. */
export interface ExpandContext {
  /** Owner of the roles or token; resolves `self`, bare `!user`, `!service`. */
  owner?: Owner | undefined;
  /** Server of the OAuth client, `"alice/"` or `"alice/gpu"`; resolves bare `!server`. */
  clientServer?: string | undefined;
  /** Service of the OAuth client; resolves bare `!service` (wins over the owner). */
  clientService?: string | undefined;
  /** Receives a message for each bare filter or `self` that had no target. */
  warn?: ((message: string) => void) | undefined;
}

/** The 5.x `self` list (JupyterHub's RBAC docs), filtered to the user at expansion. */
const SELF_SCOPES: readonly string[] = [
  "read:users",
  "read:users:name",
  "read:users:groups",
  "users:shares",
  "read:users:shares",
  "read:shares",
  "users:activity",
  "read:users:activity",
  "servers",
  "delete:servers",
  "read:servers",
  "tokens",
  "read:tokens",
  "access:servers",
];

/**
 * Expands raw scopes (JupyterHub's RBAC docs): adds subscopes with the filter
 * re-attached (a `!server` filter is not attached to `read:users…`
 * subscopes), replaces bare filters, replaces `self` for user owners, then
 * reduces. `inherit` is passed through unchanged: callers handle it.
 *
 * @throws {ScopeError} when a raw scope is invalid
 * @example
 * ```ts
 * expandScopes(["servers!user"], { owner: { kind: "user", name: "alice" } });
 * // servers!user=alice, read:servers!user=alice, delete:servers!user=alice,
 * // read:users:name!user=alice
 * ```
 */
export function expandScopes(
  raw: Iterable<string>,
  ctx: ExpandContext = {},
): Set<string> {
  const owner = ctx.owner;
  const replacements: Record<string, string | undefined> = {
    user: owner?.kind === "user" ? `user=${owner.name}` : undefined,
    service: ctx.clientService !== undefined
      ? `service=${ctx.clientService}`
      : owner?.kind === "service"
      ? `service=${owner.name}`
      : undefined,
    server: ctx.clientServer !== undefined
      ? `server=${ctx.clientServer}`
      : undefined,
  };
  const out = new Set<string>();
  for (const scope of raw) {
    validateScopes([scope]);
    const [base, filter] = splitScope(scope);
    const names = new Set<string>();
    addWithSubscopes(base, names);
    let concrete = filter;
    if (filter !== undefined && BARE_FILTERS.has(filter)) {
      concrete = replacements[filter];
      if (concrete === undefined) {
        ctx.warn?.(
          `Not expanding !${filter} filter without target ${filter} in ${scope}`,
        );
        continue;
      }
    }
    for (const name of names) {
      if (concrete === undefined) {
        out.add(name);
      } else if (
        !(concrete.startsWith("server=") && name.startsWith("read:user"))
      ) {
        // read:servers!server=… does not imply read:users:name!server=…,
        // which would be meaningless (JupyterHub's RBAC docs)
        out.add(`${name}!${concrete}`);
      }
    }
  }
  if (out.delete("self")) {
    if (owner?.kind === "user") {
      for (const s of SELF_SCOPES) out.add(`${s}!user=${owner.name}`);
    } else {
      ctx.warn?.("Not expanding 'self' scope for an owner that is not a user");
    }
  }
  return reduceScopes(out);
}

function addWithSubscopes(name: string, into: Set<string>): void {
  if (into.has(name)) return;
  into.add(name);
  for (const sub of scopeDefinition(name)?.subscopes ?? []) {
    addWithSubscopes(sub, into);
  }
}

/**
 * Scopes that let a token identify its owner (JupyterHub's RBAC docs).
 *
 * @example
 * ```ts
 * identifyScopes({ kind: "service", name: "cull" });
 * // ["read:services:name!service=cull"]
 * ```
 */
export function identifyScopes(owner: Owner): string[] {
  if (owner.kind === "user") {
    return [
      `read:users:name!user=${owner.name}`,
      `read:users:groups!user=${owner.name}`,
    ];
  }
  return [`read:services:name!service=${owner.name}`];
}

/** Filter values held for one base scope. */
export interface ScopeFilters {
  user: Set<string>;
  server: Set<string>;
  group: Set<string>;
  service: Set<string>;
}

/** Base scope → `"all"` when held unfiltered, else the filter values held. */
export type ParsedScopes = Map<string, "all" | ScopeFilters>;

/**
 * Parses expanded scopes into {@linkcode ParsedScopes}; an unfiltered scope
 * wins over every filtered entry of the same base.
 *
 * @throws {ScopeError} on a bare filter or an unknown filter kind (the input
 *   must be expanded)
 */
export function parseScopes(expanded: Iterable<string>): ParsedScopes {
  const parsed: ParsedScopes = new Map();
  for (const scope of expanded) {
    const [base, filter] = splitScope(scope);
    if (filter === undefined) {
      parsed.set(base, "all");
      continue;
    }
    const eq = filter.indexOf("=");
    const kind = filter.slice(0, eq);
    const value = filter.slice(eq + 1);
    if (eq < 0 || value === "" || !isFilterKind(kind)) {
      throw new ScopeError(
        `Unexpanded or invalid scope filter in '${scope}': expand scopes before parsing`,
        scope,
      );
    }
    let entry = parsed.get(base);
    if (entry === "all") continue;
    if (entry === undefined) {
      entry = emptyFilters();
      parsed.set(base, entry);
    }
    entry[kind].add(value);
  }
  return parsed;
}

/** Turns {@linkcode ParsedScopes} back into a set of expanded scopes. */
export function unparseScopes(parsed: ParsedScopes): Set<string> {
  const out = new Set<string>();
  for (const [base, filters] of parsed) {
    if (filters === "all") {
      out.add(base);
      continue;
    }
    for (const kind of FILTER_KINDS) {
      for (const value of filters[kind]) out.add(`${base}!${kind}=${value}`);
    }
  }
  return out;
}

/** Drops filtered scopes whose base is also held unfiltered (JupyterHub's RBAC docs). */
export function reduceScopes(expanded: Iterable<string>): Set<string> {
  return unparseScopes(parseScopes(expanded));
}

/**
 * The resource named by a request URL. Give one field; `server` (`"alice/"`
 * for the default server, `"alice/gpu"`) wins over `user`, which wins over
 * `group`, then `service`.
 */
export type Resource = {
  user?: string | undefined;
  server?: string | undefined;
  group?: string | undefined;
  service?: string | undefined;
};

/** Names of the groups a user belongs to (empty for unknown users). */
export type GroupLookup = (userName: string) => readonly string[];

/** What a scope is checked on: the resource, and how to find users' groups. */
export interface ScopeTarget {
  /** Without one, any form of the scope is enough (the handler post-filters). */
  resource?: Resource | undefined;
  /** For group filters (`!group=…`) on a user or server resource. */
  groupsOf: GroupLookup;
}

/** One scope asked on a target ({@linkcode hasScope}). */
export interface ScopeQuestion extends ScopeTarget {
  /** A base scope, without a filter. */
  scope: string;
}

/**
 * Whether `parsed` grants `scope` (a base scope, no filter) on `resource`
 * (JupyterHub's RBAC docs). Without a resource, any form of the scope is enough: the
 * handler narrows its results itself (post-filter).
 *
 * @example
 * ```ts
 * const parsed = parseScopes(["servers!user=alice"]);
 * const resource = { server: "alice/gpu" };
 * hasScope(parsed, { scope: "servers", resource, groupsOf: () => [] }); // true
 * ```
 */
export function hasScope(
  parsed: ParsedScopes,
  question: ScopeQuestion,
): boolean {
  const { scope, resource, groupsOf } = question;
  const held = parsed.get(scope);
  if (held === undefined) return false;
  if (held === "all") return true;
  let userName: string | undefined;
  if (resource?.server !== undefined) {
    if (held.server.has(resource.server)) return true;
    userName = serverOwner(resource.server);
    if (held.user.has(userName)) return true;
  } else if (resource?.user !== undefined) {
    userName = resource.user;
    if (held.user.has(userName)) return true;
  } else if (resource?.group !== undefined) {
    return held.group.has(resource.group);
  } else if (resource?.service !== undefined) {
    return held.service.has(resource.service);
  } else {
    return true; // post-filter
  }
  return held.group.size > 0 && inAnyGroup(userName, held.group, groupsOf);
}

/**
 * Checks a handler's requirement of *any one* of `required` (JupyterHub's RBAC docs):
 * `"granted"`, `"missing"` (no required scope held in any form → 403) or
 * `"filtered"` (held, but its filters do not cover the resource → 404).
 */
export function checkScopes(
  parsed: ParsedScopes,
  need: ScopeTarget & { required: readonly string[] },
): "granted" | "missing" | "filtered" {
  const { required, resource, groupsOf } = need;
  for (const scope of required) {
    if (hasScope(parsed, { scope, resource, groupsOf })) return "granted";
  }
  return required.some((s) => parsed.has(s)) ? "filtered" : "missing";
}

/**
 * Intersects a token's expanded scopes with its owner's (JupyterHub's RBAC docs),
 * resolving server ⊂ user ⊂ group in both directions and keeping the narrower
 * filter: owner `servers!user=alice` keeps token `servers!server=alice/x`;
 * token `servers!user=alice` with owner `servers!server=alice/` yields
 * `servers!server=alice/`.
 */
export function intersectScopes(
  tokenExpanded: Set<string>,
  withOwner: { owner: Set<string>; groupsOf: GroupLookup },
): Set<string> {
  const { groupsOf } = withOwner;
  const a = parseScopes(tokenExpanded);
  const b = parseScopes(withOwner.owner);
  const common: ParsedScopes = new Map();
  for (const [base, fa] of a) {
    const fb = b.get(base);
    if (fb === undefined) continue;
    if (fa === "all") common.set(base, fb);
    else if (fb === "all") common.set(base, fa);
    else common.set(base, intersectFilters(fa, fb, groupsOf));
  }
  return unparseScopes(common);
}

/** Port of the filter branch of JupyterHub's `_intersect_expanded_scopes`. */
function intersectFilters(
  fa: ScopeFilters,
  fb: ScopeFilters,
  groupsOf: GroupLookup,
): ScopeFilters {
  const out = emptyFilters();
  for (const kind of FILTER_KINDS) {
    for (const v of fa[kind]) if (fb[kind].has(v)) out[kind].add(v);
  }
  for (const [x, y] of [[fa, fb], [fb, fa]] as const) {
    // a server on one side is kept when the other side holds its owner,
    // or a group the owner is in
    for (const server of x.server) {
      if (out.server.has(server)) continue;
      const owner = serverOwner(server);
      if (
        y.user.has(owner) ||
        (y.group.size > 0 && inAnyGroup(owner, y.group, groupsOf))
      ) {
        out.server.add(server);
      }
    }
    // a user on one side is kept when the other side holds a group of theirs
    if (y.group.size > 0) {
      for (const user of x.user) {
        if (!out.user.has(user) && inAnyGroup(user, y.group, groupsOf)) {
          out.user.add(user);
        }
      }
    }
  }
  return out;
}

/** The sorted list that `GET /user` reports as `scopes` (JupyterHub's RBAC docs). */
export function scopesForResponse(set: Set<string>): string[] {
  return [...set].sort();
}

/** A Markdown table of {@linkcode SCOPE_TABLE} for the generated scope docs. */
export function scopeDocMarkdown(): string {
  const lines = [
    "| Scope | Description | Subscopes | Filters |",
    "| --- | --- | --- | --- |",
  ];
  for (const [name, d] of Object.entries(SCOPE_TABLE)) {
    const subs = d.subscopes.map((s) => `\`${s}\``).join(", ");
    const filters = d.filters.map((f) => `\`!${f}=\``).join(", ");
    lines.push(`| \`${name}\` | ${d.description} | ${subs} | ${filters} |`);
  }
  return lines.join("\n") + "\n";
}

/**
 * The config's `custom_scopes` (JupyterHub's `JupyterHub.custom_scopes`):
 * scopes named `custom:…` that services and single-user servers check
 * themselves (e.g. jupyter-server's granular permissions). One set per
 * process, replaced whenever a config is resolved, as JupyterHub defines
 * them once at start.
 */
let customScopes: ReadonlyMap<string, ScopeDefinition> = new Map();

/** A custom scope's definition as written in the config. */
export interface CustomScopeSpec {
  description: string;
  subscopes?: readonly string[];
}

/** Why `defs` cannot be custom scopes, or null (names, descriptions, subscopes that exist). */
export function customScopesProblem(
  defs: Readonly<Record<string, unknown>>,
): string | null {
  for (const [name, spec] of Object.entries(defs)) {
    const where = `custom scope "${name.slice(0, 100)}" in "custom_scopes"`;
    if (!/^custom:[A-Za-z0-9_.:*-]+$/.test(name) || name.length > 255) {
      return `Invalid ${where}: names start with "custom:", then letters, digits and _ . : * -`;
    }
    const s = spec as Record<string, unknown> | null;
    if (typeof s !== "object" || s === null || Array.isArray(s)) {
      return `Invalid ${where}: expected {description: "...", subscopes: [...]}`;
    }
    const extra = Object.keys(s).find((k) =>
      k !== "description" && k !== "subscopes"
    );
    if (extra) return `Invalid ${where}: unknown key "${extra}"`;
    if (typeof s.description !== "string" || !s.description) {
      return `Invalid ${where}: "description" must be a non-empty string`;
    }
    const subs = s.subscopes ?? [];
    if (!Array.isArray(subs) || subs.some((x) => typeof x !== "string")) {
      return `Invalid ${where}: "subscopes" must be a list of scope names`;
    }
    const unknown = (subs as string[]).find((x) =>
      !Object.hasOwn(SCOPE_TABLE, x) && !Object.hasOwn(defs, x)
    );
    if (unknown !== undefined) {
      return `Invalid ${where}: subscope "${
        unknown.slice(0, 100)
      }" is neither a scope nor another custom scope`;
    }
  }
  return null;
}

/** Makes `defs` (checked by {@linkcode customScopesProblem}) the custom scopes. */
export function defineCustomScopes(
  defs: Readonly<Record<string, CustomScopeSpec>>,
): void {
  customScopes = new Map(
    Object.entries(defs).map(([name, d]) => [name, {
      description: d.description,
      subscopes: [...(d.subscopes ?? [])],
      filters: [...FILTER_KINDS],
    }]),
  );
}

/** A scope's definition, built in or custom. */
export function scopeDefinition(name: string): ScopeDefinition | undefined {
  return Object.hasOwn(SCOPE_TABLE, name)
    ? SCOPE_TABLE[name]
    : customScopes.get(name);
}

function splitScope(scope: string): [string, string | undefined] {
  const bang = scope.indexOf("!");
  if (bang < 0) return [scope, undefined];
  return [scope.slice(0, bang), scope.slice(bang + 1)];
}

function isFilterKind(kind: string): kind is FilterKind {
  return kind === "user" || kind === "server" || kind === "group" ||
    kind === "service";
}

function emptyFilters(): ScopeFilters {
  return {
    user: new Set(),
    server: new Set(),
    group: new Set(),
    service: new Set(),
  };
}

/** `"alice/gpu"` → `"alice"`. */
function serverOwner(server: string): string {
  const slash = server.indexOf("/");
  return slash < 0 ? server : server.slice(0, slash);
}

function inAnyGroup(
  userName: string,
  groups: Set<string>,
  groupsOf: GroupLookup,
): boolean {
  return groupsOf(userName).some((g) => groups.has(g));
}
