/**
 * Where a user's server lives, in one place: its path prefix, its proxy
 * route key and the URL a browser is sent to. Without `subdomain_host`
 * that is `/user/alice/` for all three (one origin for everything). With
 * `subdomain_host: https://hub.example.org` each user gets an origin of
 * their own, `https://alice.hub.example.org/user/alice/` (JupyterHub's
 * layout: the path keeps its prefix), the proxy routes by host
 * (`/alice.hub.example.org/user/alice`, configurable-http-proxy's
 * `--host-routing` keys) and the hub's own cookies, which are host-only,
 * never reach a user's server. Pure.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { serverPrefix } from "./single_user_env.ts";

/** The settings these answers depend on. */
export interface UrlSettings {
  /** With leading and trailing `/`. */
  baseUrl: string;
  /** `""` or an origin, e.g. `https://hub.example.org`. */
  subdomainHost: string;
}

/** Where one server lives. */
export interface ServerLocation {
  /** `/user/alice/` (named: `/user/alice/gpu/`): the server's base_url. */
  prefix: string;
  /** `""`, or the origin of the user's host: `https://alice.hub.example.org`. */
  origin: string;
  /** What browsers are sent to: `origin + prefix` (only `prefix` without subdomains). */
  url: string;
  /** The proxy's route key: `/alice.hub.example.org/user/alice` or `/user/alice`. */
  routeKey: string;
}

const STRICT_SAFE = /^[a-z0-9]+$/;

function dnsSafe(label: string, max = 63): boolean {
  return label.length > 0 && label.length <= max &&
    /^[a-z0-9-]+$/i.test(label) && !/^[0-9]+$/.test(label) &&
    !label.startsWith("-") && !label.endsWith("-");
}

/** `u-<up to 8 safe characters>--<7 hex of sha256>`: a label for any name, never a collision. */
function trimAndHash(name: string): string {
  const hash = createHash("sha256").update(name, "utf8").digest("hex")
    .slice(0, 7);
  const stub = [...name.toLowerCase()].filter((ch) => STRICT_SAFE.test(ch))
    .slice(0, 8).join("") || "x";
  return `u-${stub}--${hash}`;
}

/**
 * The DNS label of a username, as JupyterHub 5's default `idna` subdomain
 * hook makes it: the name itself when it is a valid label (and holds no
 * `--`, which encoded names use), else its IDNA (punycode) form when that
 * is valid, else `u-<stub>--<hash>`.
 *
 * @example
 * ```ts
 * userLabel("alice"); // "alice"
 * userLabel("josé"); // "xn--jos-dma"
 * userLabel("a.b@c"); // "u-abc--<7 hex>"
 * ```
 */
export function userLabel(name: string): string {
  if (name.includes("--")) return trimAndHash(name);
  if (dnsSafe(name)) return name;
  let idna = "";
  // Letters, marks, digits and "-" only: anything else (".", "@", "_") is no label.
  if (!/^[\p{L}\p{M}\p{N}-]+$/u.test(name)) return trimAndHash(name);
  try {
    // The URL parser applies IDNA's ToASCII to the host.
    const host = new URL(`http://${name}.invalid`).hostname;
    idna = host.slice(0, -".invalid".length);
  } catch { /* not a host name: hashed below */ }
  return idna && idna !== name && !idna.includes(".") && dnsSafe(idna)
    ? idna
    : trimAndHash(name);
}

/** The hub's host name without port (`hub.example.org`), or `""` without subdomains. */
export function hubDomain(settings: UrlSettings): string {
  return settings.subdomainHost ? new URL(settings.subdomainHost).hostname : "";
}

/** `alice.hub.example.org` (no port), or `""` without subdomains. */
export function userHost(settings: UrlSettings, user: string): string {
  const domain = hubDomain(settings);
  return domain ? `${userLabel(user)}.${domain}` : "";
}

/** `https://alice.hub.example.org` (port kept), or `""` without subdomains. */
export function userOrigin(settings: UrlSettings, user: string): string {
  if (!settings.subdomainHost) return "";
  const hub = new URL(settings.subdomainHost);
  const port = hub.port ? `:${hub.port}` : "";
  return `${hub.protocol}//${userHost(settings, user)}${port}`;
}

/** A proxy route key: the host (when there is one) and the path, without a trailing `/` (normalizePrefix's form). */
function routeKeyOf(host: string, path: string): string {
  const key = (host ? `/${host}` : "") + path;
  return key.length > 1 ? key.replace(/\/+$/, "") : key;
}

/**
 * Where `user`'s server `server` (`""`: the default one) lives.
 *
 * @example
 * ```ts
 * const s = { baseUrl: "/", subdomainHost: "https://hub.example.org" };
 * serverLocation(s, { user: "alice", server: "" }).url; // "https://alice.hub.example.org/user/alice/"
 * serverLocation(s, { user: "alice", server: "" }).routeKey; // "/alice.hub.example.org/user/alice"
 * ```
 */
export function serverLocation(
  settings: UrlSettings,
  of: { user: string; server: string },
): ServerLocation {
  const { user, server } = of;
  const prefix = serverPrefix(settings.baseUrl, { user, server });
  const origin = userOrigin(settings, user);
  return {
    prefix,
    origin,
    url: origin + prefix,
    routeKey: routeKeyOf(userHost(settings, user), prefix),
  };
}

/**
 * The proxy's route key of a path on the hub's own host (services):
 * `/hub.example.org/services/grader` with subdomains, else the path.
 */
export function hubRouteKey(settings: UrlSettings, path: string): string {
  return routeKeyOf(hubDomain(settings), path);
}

/**
 * Whether `host` (a Host header value, port allowed) is a user's host under
 * `subdomain_host`: a name ending in `.<hub domain>`.
 */
export function isUserHost(settings: UrlSettings, host: string): boolean {
  const domain = hubDomain(settings);
  if (!domain) return false;
  const name = host.toLowerCase().replace(/:\d+$/, "").replace(/\.$/, "");
  return name.endsWith(`.${domain}`);
}
