/**
 * `needs(...scopes)`: the scope check every API route declares on its own
 * line. The resource comes from the route parameters (`user_name` →
 * `user=…`, plus `server_name` → `server=user/server`, `group_name` →
 * `group=…`). None of the scopes held → 403; held but filtered away from
 * this resource → 404, indistinguishable from "does not exist"
 * (JupyterHub's RBAC docs). A route naming no resource needs the scope
 * unfiltered, unless its guard says the route post-filters (lists).
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import type { Db } from "../db/mod.ts";
import { groupsOfUserName } from "../db/users.ts";
import {
  checkScopes,
  type GroupLookup,
  type Resource,
} from "../rbac/scopes.ts";
import type { Identity } from "../auth/identity.ts";
import { HubError } from "../errors.ts";
import type { HubEnv } from "./identity.ts";

/** Derives the resource addressed by a route's parameters. */
export function resourceFromParams(
  params: Record<string, string>,
): Resource | undefined {
  const resource: Resource = {};
  if (params.user_name !== undefined) {
    resource.user = params.user_name;
    if (params.server_name !== undefined) {
      resource.server = `${params.user_name}/${params.server_name}`;
    }
  }
  if (params.group_name !== undefined) resource.group = params.group_name;
  if (params.service_name !== undefined) {
    resource.service = params.service_name;
  }
  return Object.keys(resource).length ? resource : undefined;
}

function hasGroupFilter(identity: Identity): boolean {
  for (const value of identity.parsed.values()) {
    if (value !== "all" && value.group.size > 0) return true;
  }
  return false;
}

/** A sync group lookup for the user a resource names (loaded only when a group filter is held). */
export async function groupLookupFor(
  db: Db,
  identity: Identity,
  resource?: Resource,
): Promise<GroupLookup> {
  const user = resource?.user;
  if (!user || !hasGroupFilter(identity)) return () => [];
  const groups = user === identity.name
    ? identity.groups
    : await groupsOfUserName(db, user);
  return (name: string) => (name === user ? groups : []);
}

/** The message JupyterHub sends when credentials are missing. */
export const MISSING_CREDENTIALS = "Missing or invalid credentials.";

/**
 * Checks the caller holds any of `required` on the resource; throws the
 * right HubError otherwise.
 */
export async function assertScopes(
  db: Db,
  identity: Identity | null,
  asked: {
    /** Scopes any one of which is enough. */
    required: readonly string[];
    /** What the route names (user, group, server); absent: nothing. */
    resource?: Resource | undefined;
  },
): Promise<Identity> {
  const { required, resource } = asked;
  if (!identity) throw new HubError(403, MISSING_CREDENTIALS);
  const groupsOf = await groupLookupFor(db, identity, resource);
  const verdict = checkScopes(identity.parsed, {
    required: [...required],
    resource,
    groupsOf,
  });
  if (verdict === "missing") {
    throw new HubError(
      403,
      `Action is not authorized with current scopes; requires any of [${
        required.join(", ")
      }]`,
    );
  }
  if (verdict === "filtered") {
    throw new HubError(404, "No access to resources or resources not found");
  }
  return identity;
}

/**
 * On a route whose path names no resource (`POST /users`, `/proxy`,
 * `/shutdown`), a filtered scope (`admin:users!group=x`) grants nothing:
 * only the unfiltered form does, as in JupyterHub, where only handlers
 * that narrow their results themselves accept filtered scopes.
 */
function assertUnfiltered(identity: Identity, required: readonly string[]) {
  if (required.some((scope) => identity.parsed.get(scope) === "all")) return;
  const filtered = required.some((scope) => identity.parsed.has(scope));
  throw new HubError(
    403,
    `Action is not authorized with current scopes; requires any of [${
      required.join(", ")
    }]${
      filtered
        ? " without a filter (this action names no user, group or server a filter could limit)"
        : ""
    }`,
  );
}

/** Options of {@linkcode createScopeGuard}. */
export interface ScopeGuardOptions {
  /**
   * The routes narrow their results to what the caller's filters reach
   * (lists such as `GET /users`), so a filtered scope is enough on them
   * even without a resource in the path. @default {false}
   */
  postFilter?: boolean;
}

/** Makes the `needs(...)` middleware factory bound to a database. */
export function createScopeGuard(db: Db, options: ScopeGuardOptions = {}) {
  return function needs(...required: string[]): MiddlewareHandler<HubEnv> {
    return async (c, next) => {
      const resource = resourceFromParams(c.req.param());
      const identity = await assertScopes(db, c.get("identity"), {
        required,
        resource,
      });
      if (!resource && !options.postFilter) {
        assertUnfiltered(identity, required);
      }
      await next();
    };
  };
}
