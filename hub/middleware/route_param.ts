/**
 * A path parameter of the matched route, for handlers written as plain
 * functions of a `Context` (hono types parameters only inside `app.get(…)`).
 *
 * @module
 */
import type { Context } from "hono";

/** `:user_name`, `:group_name`…: a route without it is a bug here, not bad input. */
export function routeParam(c: Context, name: string): string {
  const value = c.req.param(name);
  if (value === undefined) throw new Error(`route has no :${name} parameter`);
  return value;
}
