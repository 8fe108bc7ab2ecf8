/**
 * Identity middleware: turns `Authorization: token|Bearer X` or the login
 * cookie into `c.var.identity` (null when anonymous). Cookie-authenticated
 * API calls follow JupyterHub 4.1+/5.x's cross-site rules (JupyterHub's REST API reference):
 * XSRF token required except for the exempt cases, and a cookie POST with a
 * non-JSON Content-Type is treated as anonymous (an HTML form posted from
 * another site cannot act as the user).
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import type { Db } from "../db/mod.ts";
import {
  type Identity,
  identityFromSession,
  identityFromToken,
} from "../auth/identity.ts";
import { LOGIN_COOKIE, readSession } from "../auth/sessions.ts";
import { isXsrfExempt, sameToken, xsrfForSession } from "../auth/xsrf.ts";
import { HubError } from "../errors.ts";

/** The client of a request, as far as the hub can know it. */
export interface ClientView {
  /** The client's address (the socket's, unless a believed proxy said). */
  address: string | undefined;
  /** Whether the client's request reached the proxy over HTTPS. */
  https: boolean;
  /** Whether the request came through a believed proxy. */
  proxied: boolean;
}

/** Variables every hub route can read. */
export interface HubVariables {
  identity: Identity | null;
  /** The XSRF token of the current login session ("" when anonymous). */
  xsrf: string;
  /** A form POST's fields, set by the form XSRF middleware (form_xsrf.ts). */
  form?: URLSearchParams;
  /** The client's address and scheme (client.ts). */
  client: ClientView;
}

/** Hono env of the hub app. */
export interface HubEnv {
  Variables: HubVariables;
}

/** A request's context in the hub app (what every route handler takes first). */
export type Ctx = Context<HubEnv>;

/** Dependencies of {@linkcode identityMiddleware}. */
export interface IdentityDeps {
  db: Db;
  xsrfKey: CryptoKey;
  now: () => Date;
}

const AUTH_HEADER = /^(?:token|bearer)\s+([^\s]+)$/i;

/** The token of an Authorization header, or null. */
export function tokenFromHeader(
  header: string | undefined | null,
): string | null {
  if (!header) return null;
  return AUTH_HEADER.exec(header.trim())?.[1] ?? null;
}

function providedXsrf(c: Context): string | null {
  return c.req.query("_xsrf") ?? c.req.header("x-xsrftoken") ??
    c.req.header("x-csrftoken") ?? null;
}

/**
 * Where the cookie rules of API calls apply: every path under
 * `{base_url}hub/api`, except OAuth's GET authorize. That endpoint lives
 * under the API prefix but is a top-level navigation: a GET there follows
 * the OAuth flow whatever the fetch metadata says (the `fetch()` of Node and
 * Deno sends `Sec-Fetch-Mode: cors`, and scripted logins use it). Its
 * consent POST checks its own form token.
 */
export function apiCookieRules(
  baseUrl: string,
): (path: string, method: string) => boolean {
  const apiPrefix = `${baseUrl}hub/api`;
  const authorizePath = `${apiPrefix}/oauth2/authorize`;
  return (path, method) => {
    if (path !== apiPrefix && !path.startsWith(apiPrefix + "/")) return false;
    const navigation = method === "GET" || method === "HEAD";
    return !(navigation && path.replace(/\/$/, "") === authorizePath);
  };
}

/** Options of {@linkcode identityMiddleware}. */
export interface IdentityOptions {
  /**
   * Whether the cookie rules of API calls apply to a request (API paths,
   * except navigation endpoints such as OAuth's GET authorize).
   */
  cookieRulesApply: (path: string, method: string) => boolean;
}

/**
 * Sets `identity` and `xsrf`. Where `cookieRulesApply`, enforces the cookie
 * rules of API calls; page routes check their own form tokens.
 */
export function identityMiddleware(
  deps: IdentityDeps,
  options: IdentityOptions,
): MiddlewareHandler<HubEnv> {
  return async (c, next) => {
    c.set("identity", null);
    c.set("xsrf", "");
    const token = tokenFromHeader(c.req.header("authorization"));
    if (token) {
      c.set("identity", await identityFromToken(deps.db, token, deps.now()));
      return next();
    }
    const cookie = getCookie(c, LOGIN_COOKIE);
    if (!cookie) return next();
    const session = await readSession(deps.db, cookie, deps.now());
    if (!session) return next();
    const xsrf = await xsrfForSession(deps.xsrfKey, session.session_id);
    c.set("xsrf", xsrf);
    const method = c.req.method;
    if (options.cookieRulesApply(c.req.path, method)) {
      const type = c.req.header("content-type");
      if (
        method === "POST" && type && !/^application\/json\s*(;|$)/i.test(type)
      ) {
        return next(); // cookie ignored: anonymous
      }
      if (!isXsrfExempt(method, c.req.raw.headers)) {
        const given = providedXsrf(c);
        if (given === null) {
          throw new HubError(
            403,
            `'_xsrf' argument missing from ${method}: send the page's XSRF token as the X-XSRFToken header or the _xsrf query argument, or use an API token`,
          );
        }
        if (!sameToken(given, xsrf)) {
          throw new HubError(
            403,
            "XSRF cookie does not match POST argument: reload the page to get a fresh token",
          );
        }
      }
    }
    c.set(
      "identity",
      await identityFromSession(deps.db, session.user_id, session.session_id),
    );
    return next();
  };
}
