/**
 * Finding the resource a route names, or the 404 JupyterHub answers.
 *
 * @module
 */
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
