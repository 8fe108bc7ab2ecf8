/**
 * Finding the resource a route names, or the 404 JupyterHub answers.
 *
 * @module
 */
import type { Context } from "hono";
import type { Db } from "../db/mod.ts";
import type { UserRow } from "../db/schema.ts";
import { getUser } from "../db/users.ts";
import { HubError } from "../errors.ts";
import { short } from "./_body.ts";

/** The user called `name`, or a 404 "No such user". */
export async function requireUser(db: Db, name: string): Promise<UserRow> {
  const user = await getUser(db, name);
  if (!user) throw new HubError(404, `No such user: ${short(name)}`);
  return user;
}

/**
 * A path parameter of the matched route (`user_name`, `group_name`…). A
 * route without it is a bug here, not bad input.
 */
export function routeParam(c: Context, name: string): string {
  const value = c.req.param(name);
  if (value === undefined) throw new Error(`route has no :${name} parameter`);
  return value;
}

/** The user the route's `:user_name` names, or a 404. */
export function routeUser(c: Context, db: Db): Promise<UserRow> {
  return requireUser(db, routeParam(c, "user_name"));
}
