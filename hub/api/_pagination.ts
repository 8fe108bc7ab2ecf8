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

/** The configured page sizes (`api.pageDefaultLimit`, `api.pageMaxLimit`). */
export interface PageLimits {
  /** The limit of an enveloped request that names none. */
  pageDefaultLimit: number;
  /** The largest limit served (and the default of a bare-list request). */
  pageMaxLimit: number;
}

/** Reads offset/limit/Accept. */
export function parsePaging(c: Context, limits: PageLimits): Paging {
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
    (envelope ? limits.pageDefaultLimit : limits.pageMaxLimit);
  const limit = Math.min(Math.max(asked, 1), limits.pageMaxLimit);
  return { offset, limit, envelope };
}

/** One page of a list: its paging, its items and the length of the whole list. */
export interface Page<T> {
  paging: Paging;
  items: T;
  total: number;
}

/** Builds the response body: the envelope, or the bare items. */
export function paginate<T>(c: Context, page: Page<T>): unknown {
  const { paging, items, total } = page;
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

/**
 * One page of a list held in memory, always in the envelope (JupyterHub 5's
 * share and share-code lists): the rows of the page go through `toModels`.
 */
export async function envelopePage<T>(
  c: Context,
  list: {
    limits: PageLimits;
    rows: readonly T[];
    toModels: (page: T[]) => unknown[] | Promise<unknown[]>;
  },
): Promise<unknown> {
  const paging = { ...parsePaging(c, list.limits), envelope: true };
  const page = list.rows.slice(paging.offset, paging.offset + paging.limit);
  const items = await list.toModels(page);
  return paginate(c, { paging, items, total: list.rows.length });
}
