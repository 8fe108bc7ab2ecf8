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
import { identityFromSession, rolesOf } from "../auth/identity.ts";
import {
  LOGIN_COOKIE,
  readSession,
  SESSION_ID_COOKIE,
} from "../auth/sessions.ts";
import {
  getClient,
  insertCode,
  type OAuthClientRow,
  scopesAuthorizedFor,
} from "../db/oauth.ts";
import {
  groupsOfNamedUsers,
  groupsOfUserName,
  userWithGroups,
} from "../db/users.ts";
import { truncate } from "../observe/log.ts";
import { hasScope } from "../rbac/scopes.ts";
import { hashSecret, newSecret } from "../secrets.ts";
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
import type { OAuthProviderDeps } from "./_types.ts";
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

/** One authorize request being answered: who asks, for what, from where. */
interface Flow {
  c: Ctx;
  deps: OAuthProviderDeps;
  identity: Identity;
  query: URLSearchParams;
}

/** The provider's error page (never framed, never cached). */
function page(
  c: Ctx,
  deps: OAuthProviderDeps,
  status: PageStatus,
  message: string,
  user: string | null,
): Response | Promise<Response> {
  c.header("Content-Security-Policy", CONSENT_CSP);
  c.header("Cache-Control", "no-store");
  return c.html(
    errorPage({ baseUrl: deps.config.baseUrl, user, status, message }),
    status,
  );
}

function flowPage(flow: Flow, status: PageStatus, message: string) {
  return page(flow.c, flow.deps, status, message, flow.identity.name);
}

/** The browser's login, from the identity middleware or (form POSTs to the API prefix) the cookie itself. */
async function cookieIdentity(
  c: Ctx,
  deps: OAuthProviderDeps,
): Promise<Identity | null> {
  const known = c.get("identity");
  if (known) return known.via === "cookie" ? known : null;
  const cookie = getCookie(c, LOGIN_COOKIE);
  if (!cookie) return null;
  const session = await readSession(deps.db, cookie, deps.now());
  if (!session) return null;
  return identityFromSession(deps.db, session.user_id, session.session_id);
}

/** Step 1: single parameters and a known client with this redirect URI; or the error page. */
async function findClient(flow: Flow): Promise<OAuthClientRow | Response> {
  const { query, deps } = flow;
  for (const name of SINGLE_PARAMS) {
    if (query.getAll(name).length > 1) {
      return flowPage(flow, 400, `Duplicate ${name} parameter.`);
    }
  }
  const clientId = query.get("client_id");
  if (!clientId) return flowPage(flow, 400, "Missing client_id parameter.");
  const client = await getClient(deps.db, clientId);
  if (!client) {
    deps.logger.warn("oauth: unknown client", {
      client: truncate(clientId, 80),
    });
    return flowPage(flow, 400, "Invalid client_id parameter value.");
  }
  const givenRedirect = query.get("redirect_uri");
  if (givenRedirect !== null && givenRedirect !== client.redirect_uri) {
    deps.logger.warn("oauth: redirect_uri mismatch", {
      client: client.identifier,
      given: truncate(givenRedirect, 200),
    });
    return flowPage(flow, 400, "Mismatching redirect URI.");
  }
  return client;
}

/** An error sent back to the client's redirect URI (with its `state`). */
function failToClient(
  flow: Flow,
  client: OAuthClientRow,
  error: string,
  description: string,
) {
  const state = flow.query.get("state") ?? "";
  const params: Record<string, string> = {
    error,
    "error_description": description,
  };
  if (state) params.state = state;
  return flow.c.redirect(withQuery(client.redirect_uri, params), 302);
}

/** What the client asks for: its server, the scopes every grant holds, the resolved request. */
interface Request {
  /** A user server's client: `"alice/"`; a service's: undefined. */
  server: string | undefined;
  /** A service's client: the service. */
  service: string | undefined;
  /** The server's owner ("" for a service). */
  owner: string;
  required: string[];
  requested: Set<string>;
}

/** What a client gives access to: a user's server or a service; null when neither. */
function targetOf(
  deps: OAuthProviderDeps,
  client: OAuthClientRow,
): { server?: string; owner: string; service?: string; access: string } | null {
  const target = clientTarget(client, deps.config.baseUrl);
  if (target) {
    const server = `${target.user}/${target.server}`;
    return { server, owner: target.user, access: serverAccessScope(server) };
  }
  const service = deps.serviceOfClient?.(client.identifier);
  if (service === undefined) return null;
  return { service, owner: "", access: `access:services!service=${service}` };
}

/** Step 2: response type, the client's server, the requested scopes; or an error. */
function readRequest(
  flow: Flow,
  client: OAuthClientRow,
  formScopes: string[] | null,
): Request | Response | Promise<Response> {
  const { query, deps } = flow;
  const responseType = query.get("response_type");
  if (!responseType) {
    return failToClient(
      flow,
      client,
      "invalid_request",
      "Missing response_type parameter.",
    );
  }
  if (responseType !== "code") {
    return failToClient(
      flow,
      client,
      "unsupported_response_type",
      "Only response_type=code is supported.",
    );
  }
  const target = targetOf(deps, client);
  if (!target) {
    deps.logger.error("oauth: client has no server or service", {
      client: client.identifier,
    });
    return flowPage(flow, 500, "OAuth configuration error");
  }
  const required = [...IDENTIFY_SCOPES, target.access];
  const asked = formScopes === null
    ? query.get("scope")
    : (formScopes.length ? formScopes.join(" ") : "identify");
  try {
    const requested = requestedScopes(asked, {
      allowed: JSON.parse(client.allowed_scopes) as string[],
      required,
    });
    return {
      server: target.server,
      service: target.service,
      owner: target.owner,
      required,
      requested,
    };
  } catch (error) {
    if (!(error instanceof InvalidScopeError)) throw error;
    deps.logger.warn("oauth: invalid scope", {
      client: client.identifier,
      error: error.message,
    });
    return failToClient(flow, client, "invalid_scope", error.message);
  }
}

/**
 * The group lookup of a grant: the user's own groups, the server owner's,
 * and those of whoever the requested scopes name (a teacher's
 * servers!group=class covers servers!user=<student>).
 */
async function grantGroups(
  flow: Flow,
  request: Request,
): Promise<(name: string) => readonly string[]> {
  const { identity, deps } = flow;
  const ownerGroups = request.owner === identity.name || !request.owner
    ? identity.groups
    : await groupsOfUserName(deps.db, request.owner);
  const named = await groupsOfNamedUsers(deps.db, request.requested);
  return (name: string) =>
    name === identity.name
      ? identity.groups
      : name === request.owner
      ? ownerGroups
      : named.get(name) ?? [];
}

/** The raw scopes the user holds, with `inherit` and the client's required ones. */
async function grantableScopes(
  flow: Flow,
  request: Request,
): Promise<Set<string>> {
  const { identity, deps } = flow;
  const found = identity.userId === null
    ? undefined
    : await userWithGroups(deps.db, identity.userId);
  const have = userRawScopes(identity.admin, {
    roles: found?.roles ?? await rolesOf(deps.db),
    assigned: found?.assigned ?? [],
  });
  have.add("inherit");
  for (const s of request.required) have.add(s);
  return have;
}

/** Step 3: the user's access to the server, then the scopes granted of those requested. */
async function grant(
  flow: Flow,
  client: OAuthClientRow,
  request: Request,
): Promise<string[] | Response> {
  const { identity, deps } = flow;
  const groupsOf = await grantGroups(flow, request);
  const access = request.service !== undefined
    ? hasScope(identity.parsed, {
      scope: "access:services",
      resource: { service: request.service },
      groupsOf,
    })
    : hasScope(identity.parsed, {
      scope: "access:servers",
      resource: { server: request.server },
      groupsOf,
    });
  if (!access) {
    deps.logger.warn("oauth: no access to server", {
      user: identity.name,
      client: client.identifier,
    });
    return flowPage(
      flow,
      403,
      `You do not have permission to access ${client.description}`,
    );
  }
  const { allowed, disallowed } = resolveRequestedScopes(request.requested, {
    have: await grantableScopes(flow, request),
    owner: { kind: "user", name: identity.name },
    ...(request.server !== undefined ? { clientServer: request.server } : {}),
    groupsOf,
  });
  if (disallowed.size) {
    deps.logger.warn("oauth: requested scopes the user does not hold", {
      user: identity.name,
      client: client.identifier,
      dropped: [...disallowed].sort().join(","),
    });
  }
  return [...allowed].sort();
}

/** Step 4: the consent page, unless it is the user's own server or consent was given before. */
async function consentPage(
  flow: Flow,
  client: OAuthClientRow,
  request: Request,
  granted: string[],
): Promise<Response | null> {
  const { c, identity, deps } = flow;
  if (request.owner === identity.name || client.no_confirm === 1) return null;
  const authorized = await scopesAuthorizedFor(deps.db, identity.userId!, {
    client: client.identifier,
    now: deps.now(),
  });
  if (authorized.size && granted.every((s) => authorized.has(s))) return null;
  const url = new URL(c.req.url);
  c.header("Content-Security-Policy", CONSENT_CSP);
  c.header("Cache-Control", "no-store");
  return c.html(
    authorizePage({
      baseUrl: deps.config.baseUrl,
      user: identity.name,
      clientDescription: client.description,
      redirectUri: client.redirect_uri,
      lines: describeScopes(granted, {
        required: request.required,
        userName: identity.name,
      }),
      scopes: granted.includes("inherit") ? ["inherit"] : granted,
      xsrf: c.get("xsrf"),
      action: url.pathname + url.search,
    }),
    200,
  );
}

/** Step 5: a single-use code to the redirect URI, and the session id cookie the server will see. */
async function issueCode(
  flow: Flow,
  client: OAuthClientRow,
  granted: string[],
): Promise<Response> {
  const { c, identity, deps } = flow;
  const sessionId = identity.sessionId!;
  if (getCookie(c, SESSION_ID_COOKIE) !== sessionId) {
    setCookie(c, SESSION_ID_COOKIE, sessionId, {
      path: deps.config.baseUrl,
      httpOnly: true,
      sameSite: "Lax",
      secure: deps.config.publicUrl.startsWith("https:") ||
        new URL(c.req.url).protocol === "https:",
    });
  }
  const code = newSecret();
  await insertCode(deps.db, {
    clientId: client.identifier,
    codeHash: await hashSecret(code),
    userId: identity.userId!,
    redirectUri: client.redirect_uri,
    scopes: granted,
    sessionId,
    now: deps.now(),
  });
  deps.logger.info("oauth: code issued", {
    user: identity.name,
    client: client.identifier,
    scopes: granted.join(" "),
  });
  c.header("Cache-Control", "no-store");
  const state = flow.query.get("state") ?? "";
  return c.redirect(
    withQuery(client.redirect_uri, state ? { code, state } : { code }),
    302,
  );
}

/**
 * Everything after the login check. `formScopes` is null for GET (the
 * `scope` parameter applies, consent may be asked) and the posted
 * `scopes` for a consent form (consent given).
 */
async function authorize(
  flow: Flow,
  formScopes: string[] | null,
): Promise<Response> {
  const client = await findClient(flow);
  if (client instanceof Response) return client;
  const request = await readRequest(flow, client, formScopes);
  if (request instanceof Response) return request;
  const granted = await grant(flow, client, request);
  if (granted instanceof Response) return granted;
  if (formScopes === null) {
    const consent = await consentPage(flow, client, request, granted);
    if (consent) return consent;
  }
  return issueCode(flow, client, granted);
}

/** Handlers of the authorize endpoint. */
export function authorizeHandlers(deps: OAuthProviderDeps): {
  get: (c: Ctx) => Promise<Response>;
  /** The consent form's XSRF check, to run before `post`. */
  postXsrf: MiddlewareHandler<HubEnv>;
  post: (c: Ctx) => Promise<Response>;
} {
  const flowOf = (c: Ctx, identity: Identity): Flow => ({
    c,
    deps,
    identity,
    query: new URL(c.req.url).searchParams,
  });
  return {
    postXsrf: formXsrf({
      token: "session",
      onFail: (c, message) => page(c, deps, 403, message, null),
    }),

    async get(c) {
      const identity = await cookieIdentity(c, deps);
      if (!identity) {
        const url = new URL(c.req.url);
        const next = encodeURIComponent(url.pathname + url.search);
        return c.redirect(`${deps.config.baseUrl}hub/login?next=${next}`, 302);
      }
      return authorize(flowOf(c, identity), null);
    },

    async post(c) {
      const identity = await cookieIdentity(c, deps);
      if (!identity) {
        return page(
          c,
          deps,
          403,
          "Missing or invalid credentials: log in again, then reopen the server",
          null,
        );
      }
      return authorize(flowOf(c, identity), formOf(c).getAll("scopes"));
    },
  };
}
