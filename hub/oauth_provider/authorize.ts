/**
 * `GET /authorize` and the consent form's `POST /authorize`
 * (JupyterHub's single-user server contract): login cookie required, client and redirect
 * URI checked, scopes resolved against the user's, `access:servers` on the
 * client's server required, consent asked unless it is the user's own
 * server, then a single-use code is sent to the redirect URI.
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import { authorizePage, errorPage } from "../../templates/mod.ts";
import type { Identity } from "../auth/identity.ts";
import { identityFromSession } from "../auth/identity.ts";
import {
  LOGIN_COOKIE,
  readSession,
  SESSION_ID_COOKIE,
} from "../auth/sessions.ts";
import { getClient, insertCode, scopesAuthorizedFor } from "../db/oauth.ts";
import { groupsOfUserName } from "../db/users.ts";
import { truncate } from "../log.ts";
import { hasScope } from "../scopes.ts";
import { hashSecret, newSecret } from "../tokens.ts";
import type { HubEnv } from "../middleware/identity.ts";
import { clientTarget, withQuery } from "./_http.ts";
import { formOf, formXsrf } from "../middleware/form_xsrf.ts";
import {
  describeScopes,
  IDENTIFY_SCOPES,
  InvalidScopeError,
  requestedScopes,
  resolveRequestedScopes,
  serverAccessScope,
  userRawScopes,
} from "./scopes.ts";
import type { OAuthProviderDeps } from "./mod.ts";
import { CONSENT_CSP } from "../csp.ts";

/** Query parameters oauthlib refuses to see twice. */
const SINGLE_PARAMS = [
  "client_id",
  "redirect_uri",
  "response_type",
  "scope",
  "state",
] as const;

type Ctx = Context<HubEnv>;
type PageStatus = 400 | 403 | 500;

/** Handlers of the authorize endpoint. */
export function authorizeHandlers(deps: OAuthProviderDeps): {
  get: (c: Ctx) => Promise<Response>;
  /** The consent form's XSRF check, to run before `post`. */
  postXsrf: MiddlewareHandler<HubEnv>;
  post: (c: Ctx) => Promise<Response>;
} {
  const { db, config, logger } = deps;

  const page = (
    c: Ctx,
    status: PageStatus,
    message: string,
    user: string | null,
  ) => {
    c.header("Content-Security-Policy", CONSENT_CSP);
    c.header("Cache-Control", "no-store");
    return c.html(
      errorPage({ baseUrl: config.baseUrl, user, status, message }),
      status,
    );
  };

  const loginRedirect = (c: Ctx) => {
    const url = new URL(c.req.url);
    return c.redirect(
      `${config.baseUrl}hub/login?next=${
        encodeURIComponent(url.pathname + url.search)
      }`,
      302,
    );
  };

  /** The browser's login, from the identity middleware or (form POSTs to the API prefix) the cookie itself. */
  const cookieIdentity = async (c: Ctx): Promise<Identity | null> => {
    const known = c.get("identity");
    if (known) return known.via === "cookie" ? known : null;
    const cookie = getCookie(c, LOGIN_COOKIE);
    if (!cookie) return null;
    const session = await readSession(db, cookie, deps.now());
    if (!session) return null;
    return identityFromSession(db, session.user_id, session.session_id);
  };

  const secure = (c: Ctx) =>
    config.publicUrl.startsWith("https:") ||
    new URL(c.req.url).protocol === "https:";

  /**
   * Everything after the login check. `formScopes` is null for GET (the
   * `scope` parameter applies, consent may be asked) and the posted
   * `scopes` for a consent form (consent given).
   */
  const authorize = async (
    c: Ctx,
    identity: Identity,
    formScopes: string[] | null,
  ): Promise<Response> => {
    const query = new URL(c.req.url).searchParams;
    for (const name of SINGLE_PARAMS) {
      if (query.getAll(name).length > 1) {
        return page(c, 400, `Duplicate ${name} parameter.`, identity.name);
      }
    }
    const clientId = query.get("client_id");
    if (!clientId) {
      return page(c, 400, "Missing client_id parameter.", identity.name);
    }
    const client = await getClient(db, clientId);
    if (!client) {
      logger.warn("oauth: unknown client", { client: truncate(clientId, 80) });
      return page(c, 400, "Invalid client_id parameter value.", identity.name);
    }
    const givenRedirect = query.get("redirect_uri");
    if (givenRedirect !== null && givenRedirect !== client.redirect_uri) {
      logger.warn("oauth: redirect_uri mismatch", {
        client: client.identifier,
        given: truncate(givenRedirect, 200),
      });
      return page(c, 400, "Mismatching redirect URI.", identity.name);
    }
    const redirectUri = client.redirect_uri;
    const state = query.get("state") ?? "";
    const withState = (params: Record<string, string>) =>
      state ? { ...params, state } : params;
    const fail = (error: string, description: string) =>
      c.redirect(
        withQuery(
          redirectUri,
          withState({ error, "error_description": description }),
        ),
        302,
      );

    const responseType = query.get("response_type");
    if (!responseType) {
      return fail("invalid_request", "Missing response_type parameter.");
    }
    if (responseType !== "code") {
      return fail(
        "unsupported_response_type",
        "Only response_type=code is supported.",
      );
    }
    const target = clientTarget(client, config.baseUrl);
    if (!target) {
      logger.error("oauth: client has no server", {
        client: client.identifier,
      });
      return page(c, 500, "OAuth configuration error", identity.name);
    }
    const server = `${target.user}/${target.server}`;
    const required = [...IDENTIFY_SCOPES, serverAccessScope(server)];
    let requested: Set<string>;
    try {
      requested = requestedScopes(
        formScopes === null
          ? query.get("scope")
          : (formScopes.length ? formScopes.join(" ") : "identify"),
        JSON.parse(client.allowed_scopes) as string[],
        required,
      );
    } catch (error) {
      if (!(error instanceof InvalidScopeError)) throw error;
      logger.warn("oauth: invalid scope", {
        client: client.identifier,
        error: error.message,
      });
      return fail("invalid_scope", error.message);
    }

    const ownerGroups = target.user === identity.name
      ? identity.groups
      : await groupsOfUserName(db, target.user);
    const groupsOf = (name: string) =>
      name === identity.name
        ? identity.groups
        : name === target.user
        ? ownerGroups
        : [];
    if (!hasScope(identity.parsed, "access:servers", { server }, groupsOf)) {
      logger.warn("oauth: no access to server", {
        user: identity.name,
        client: client.identifier,
      });
      return page(
        c,
        403,
        `You do not have permission to access ${client.description}`,
        identity.name,
      );
    }

    const have = userRawScopes(identity.admin);
    have.add("inherit");
    for (const s of required) have.add(s);
    const { allowed, disallowed } = resolveRequestedScopes(requested, have, {
      owner: { kind: "user", name: identity.name },
      clientServer: server,
      groupsOf,
    });
    const granted = [...allowed].sort();
    if (disallowed.size) {
      logger.warn("oauth: requested scopes the user does not hold", {
        user: identity.name,
        client: client.identifier,
        dropped: [...disallowed].sort().join(","),
      });
    }

    if (formScopes === null && target.user !== identity.name) {
      const authorized = await scopesAuthorizedFor(
        db,
        identity.userId!,
        client.identifier,
        deps.now(),
      );
      if (!(authorized.size && granted.every((s) => authorized.has(s)))) {
        const url = new URL(c.req.url);
        c.header("Content-Security-Policy", CONSENT_CSP);
        c.header("Cache-Control", "no-store");
        return c.html(
          authorizePage({
            baseUrl: config.baseUrl,
            user: identity.name,
            clientDescription: client.description,
            redirectUri,
            lines: describeScopes(granted, required, identity.name),
            scopes: granted.includes("inherit") ? ["inherit"] : granted,
            xsrf: c.get("xsrf"),
            action: url.pathname + url.search,
          }),
          200,
        );
      }
    }

    const sessionId = identity.sessionId!;
    if (getCookie(c, SESSION_ID_COOKIE) !== sessionId) {
      setCookie(c, SESSION_ID_COOKIE, sessionId, {
        path: config.baseUrl,
        httpOnly: true,
        sameSite: "Lax",
        secure: secure(c),
      });
    }
    const code = newSecret();
    await insertCode(db, {
      clientId: client.identifier,
      codeHash: await hashSecret(code),
      userId: identity.userId!,
      redirectUri,
      scopes: granted,
      sessionId,
      now: deps.now(),
    });
    logger.info("oauth: code issued", {
      user: identity.name,
      client: client.identifier,
      scopes: granted.join(" "),
    });
    c.header("Cache-Control", "no-store");
    return c.redirect(withQuery(redirectUri, withState({ code })), 302);
  };

  return {
    postXsrf: formXsrf({
      token: "session",
      onFail: (c, message) => page(c, 403, message, null),
    }),

    async get(c) {
      const identity = await cookieIdentity(c);
      if (!identity) return loginRedirect(c);
      return authorize(c, identity, null);
    },

    async post(c) {
      const identity = await cookieIdentity(c);
      if (!identity) {
        return page(
          c,
          403,
          "Missing or invalid credentials: log in again, then reopen the server",
          null,
        );
      }
      const form = formOf(c);
      return authorize(c, identity, form.getAll("scopes"));
    },
  };
}
