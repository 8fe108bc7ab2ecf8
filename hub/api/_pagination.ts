/**
 * JupyterHub's pagination (JupyterHub's REST API reference): `offset`/`limit` query arguments,
 * the opt-in `application/jupyterhub-pagination+json` envelope with an
 * absolute `next.url`, and the bare list for old clients (default limit = max).
 *
 * @module
 */
import type { Context } from "hono";
import { HubError } from "../errors.ts";

/** The media type that opts into the envelope. */
export const PAGINATION_MEDIA_TYPE = "application/jupyterhub-pagination+json";

/** Parsed paging arguments. */
export interface Paging {
  offset: number;
  limit: number;
  envelope: boolean;
}

/** Reads offset/limit/Accept. */
export function parsePaging(
  c: Context,
  defaults: { defaultLimit: number; maxLimit: number },
): Paging {
  const accept = c.req.header("accept") ?? "";
  const envelope = accept.split(",").some((part) =>
    part.split(";")[0]!.trim().toLowerCase() === PAGINATION_MEDIA_TYPE
  );
  const parse = (name: string): number | null => {
    const raw = c.req.query(name);
    if (raw === undefined || raw === "") return null;
    if (!/^[-+]?\d{1,15}$/.test(raw.trim())) {
      throw new HubError(
        400,
        "Invalid argument type, offset and limit must be integers",
      );
    }
    return Math.abs(Number(raw));
  };
  const offset = parse("offset") ?? 0;
  const asked = parse("limit") ??
    (envelope ? defaults.defaultLimit : defaults.maxLimit);
  const limit = Math.min(Math.max(asked, 1), defaults.maxLimit);
  return { offset, limit, envelope };
}

/** Builds the response body: the envelope, or the bare items. */
export function paginate<T>(
  c: Context,
  paging: Paging,
  items: T,
  total: number,
): unknown {
  if (!paging.envelope) return items;
  let next: { offset: number; limit: number; url: string } | null = null;
  if (paging.offset + paging.limit < total) {
    const url = new URL(c.req.url);
    const host = c.req.header("host");
    if (host) url.host = host;
    const client = c.get("client");
    if (client?.proxied) url.protocol = client.https ? "https:" : "http:";
    url.searchParams.set("offset", String(paging.offset + paging.limit));
    url.searchParams.set("limit", String(paging.limit));
    next = {
      offset: paging.offset + paging.limit,
      limit: paging.limit,
      url: url.toString(),
    };
  }
  return {
    items,
    _pagination: { offset: paging.offset, limit: paging.limit, total, next },
  };
}
