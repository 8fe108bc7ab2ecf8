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
import { routeParam } from "../middleware/route_param.ts";

/** The user called `name`, or a 404 "No such user". */
export async function requireUser(db: Db, name: string): Promise<UserRow> {
  const user = await getUser(db, name);
  if (!user) throw new HubError(404, `No such user: ${short(name)}`);
  return user;
}

/** The user the route's `:user_name` names, or a 404. */
export function routeUser(c: Context, db: Db): Promise<UserRow> {
  return requireUser(db, routeParam(c, "user_name"));
}
