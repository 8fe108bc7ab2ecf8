/**
 * configurable-http-proxy's REST API (its README, "Using the REST API"),
 * for running the proxy as its own process (`onehub proxy`) that the hub
 * drives over loopback:
 *
 * - `GET /api/routes[?inactive_since=ISO]` → `{"/user/alice": {...data, target, last_activity}}`
 * - `GET /api/routes/<path>` → one route or 404
 * - `POST /api/routes/<path>` with `{"target": "http://…", ...data}` → 201
 * - `DELETE /api/routes/<path>` → 204, or 404 when absent
 *
 * Auth is `Authorization: token <secret>` (403 with an empty body otherwise).
 *
 * @module
 */
import { normalizePrefix } from "./route_table.ts";
import type { Proxy } from "./server.ts";

/** Options of {@linkcode createProxyApi}. */
export interface ProxyApiOptions {
  proxy: Proxy;
  /** The shared secret; empty leaves the API open (only for tests). */
  token: string;
}

const MAX_BODY = 64 * 1024;

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });
}

/**
 * The body as text, or null past `max` bytes (counted as it streams, so a
 * chunked body without Content-Length is bounded too; the proxy imports
 * nothing from the hub, whose body limit is hub/middleware/body_limit.ts).
 */
async function boundedText(
  request: Request,
  max: number,
): Promise<string | null> {
  if (!request.body) return "";
  if (Number(request.headers.get("content-length") ?? "0") > max) {
    await request.body.cancel();
    return null;
  }
  const chunks: Uint8Array<ArrayBuffer>[] = [];
  let size = 0;
  for await (
    const chunk of request.body as ReadableStream<
      Uint8Array<ArrayBuffer>
    >
  ) {
    size += chunk.byteLength;
    if (size > max) return null; // leaving the loop cancels the stream
    chunks.push(chunk);
  }
  return new TextDecoder().decode(await new Blob(chunks).arrayBuffer());
}

function text(status: number, body: string): Response {
  return new Response(body, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8" },
  });
}

function authorized(header: string | null, token: string): boolean {
  if (token === "") return true;
  const given = /token\s+(\S+)/.exec(header ?? "")?.[1];
  if (!given) return false;
  // Constant time in the position of the first difference (node:crypto costs ~5 MiB to load).
  if (given.length !== token.length) return false;
  let diff = 0;
  for (let i = 0; i < token.length; i++) {
    diff |= given.charCodeAt(i) ^ token.charCodeAt(i);
  }
  return diff === 0;
}

/** A route as the API shows it: its data plus target and last_activity. */
export function routeModel(
  proxy: Proxy,
  prefix: string,
): Record<string, unknown> | null {
  const route = proxy.routes.get(prefix);
  if (!route) return null;
  const last = proxy.activity.get(route.prefix);
  return {
    ...route.data,
    target: route.target,
    "last_activity": new Date(last ?? 0).toISOString(),
  };
}

/** `GET /api/routes[?inactive_since=…]`: every route, or those idle since the cutoff. */
function listRoutes(proxy: Proxy, url: URL): Response {
  const since = url.searchParams.get("inactive_since") ??
    url.searchParams.get("inactiveSince");
  let cutoff: number | null = null;
  if (since !== null) {
    cutoff = Date.parse(since);
    if (Number.isNaN(cutoff)) {
      return text(400, `Invalid datestamp '${since}' must be ISO8601.`);
    }
  }
  const out: Record<string, unknown> = {};
  for (const route of proxy.routes.list()) {
    const last = proxy.activity.get(route.prefix) ?? 0;
    if (cutoff !== null && last >= cutoff) continue;
    out[route.prefix] = routeModel(proxy, route.prefix);
  }
  return json(200, out);
}

/** `POST /api/routes/<path>`: `{"target": origin, …data}` adds or replaces the route. */
async function addRoute(
  proxy: Proxy,
  path: string,
  request: Request,
): Promise<Response> {
  const raw = await boundedText(request, MAX_BODY);
  if (raw === null) {
    return new Response(`Body larger than ${MAX_BODY} bytes`, {
      status: 413,
      headers: { "content-type": "text/plain", connection: "close" },
    });
  }
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch (error) {
    return text(400, `Body not valid JSON: ${(error as Error).message}`);
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    return text(400, "Body must be a JSON object");
  }
  const { target, ...data } = body as Record<string, unknown>;
  if (typeof target !== "string") {
    return text(400, "Must specify 'target' as string");
  }
  if (!isHttpOrigin(target)) {
    return text(
      400,
      `Invalid target '${target}': use an http origin such as http://127.0.0.1:8888`,
    );
  }
  delete data.last_activity;
  proxy.addRoute(path, target, data);
  return new Response(null, { status: 201 });
}

function isHttpOrigin(target: string): boolean {
  try {
    const t = new URL(target);
    return t.protocol === "http:" && t.pathname === "/" && !t.search;
  } catch {
    return false;
  }
}

/** One API request, after the path and token were checked. */
function handleRoutes(proxy: Proxy, request: Request, url: URL, path: string) {
  const isList = url.pathname === "/api/routes" ||
    url.pathname === "/api/routes/";
  switch (request.method) {
    case "GET": {
      if (isList) return listRoutes(proxy, url);
      const model = routeModel(proxy, path);
      return model ? json(200, model) : new Response(null, { status: 404 });
    }
    case "POST":
      return addRoute(proxy, path, request);
    case "DELETE":
      return new Response(null, {
        status: proxy.removeRoute(path) ? 204 : 404,
      });
    default:
      return text(405, "Method not supported");
  }
}

/** The API as a `Request → Response` handler. */
export function createProxyApi(
  options: ProxyApiOptions,
): (request: Request) => Promise<Response> {
  const { proxy } = options;
  return async (request) => {
    const url = new URL(request.url);
    if (
      url.pathname !== "/api/routes" && !url.pathname.startsWith("/api/routes/")
    ) return text(404, "Not Found");
    if (!authorized(request.headers.get("authorization"), options.token)) {
      return new Response(null, { status: 403 });
    }
    let path: string;
    try {
      path = normalizePrefix(
        decodeURIComponent(url.pathname.slice("/api/routes".length)),
      );
    } catch {
      return text(400, "Malformed percent-encoding in the route path");
    }
    return await handleRoutes(proxy, request, url, path);
  };
}
