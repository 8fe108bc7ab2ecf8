/**
 * `/hub/oauth_login` and `/hub/oauth_callback` (JupyterHub's
 * oauthenticator paths): sign-in through the OpenID Connect provider of
 * `auth.oauth.*` (hub/auth/oauth/oidc.ts). The login keeps its state, nonce and
 * PKCE verifier on the server, under a random id in the
 * `oauthenticator-state` cookie (one use, 10 minutes, at most 10 000 in
 * flight). The callback decides who may come in: `auth.oauth.allowed_groups`
 * when set, else the `users.*` rules; `users.blocked` always; admins by
 * `auth.oauth.admin_groups`. Every refusal is a page with the reason and a
 * 4xx (502/504 when the provider failed), logged as an event; no session.
 *
 * @module
 */
import { type Context, Hono } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { OAuthSignIn } from "../auth/oauth/signin.ts";
import { OidcError, type PendingLogin } from "../auth/oauth/oidc.ts";
import { HubError } from "../errors.ts";
import type { HubEnv } from "../middleware/identity.ts";
import { safeNextUrl } from "../next_url.ts";
import { newSecret } from "../secrets.ts";
import {
  isSecure,
  landingAfterLogin,
  type LoginDeps,
  startLogin,
} from "./login.ts";

/** JupyterHub's (oauthenticator's) state cookie name. */
export const STATE_COOKIE = "oauthenticator-state";
const PENDING_MS = 10 * 60_000;
const MAX_PENDING = 10_000;

/** Logins between the redirect and the callback. */
class PendingLogins {
  #map = new Map<string, PendingLogin & { at: number }>();

  add(pending: PendingLogin): string {
    const now = Date.now();
    if (this.#map.size >= MAX_PENDING) {
      for (const [k, v] of this.#map) {
        if (now - v.at > PENDING_MS) this.#map.delete(k);
      }
      if (this.#map.size >= MAX_PENDING) {
        this.#map.delete(this.#map.keys().next().value!);
      }
    }
    const id = newSecret();
    this.#map.set(id, { ...pending, at: now });
    return id;
  }

  /** The login of this id (once), if it is not too old. */
  take(id: string | undefined): PendingLogin | undefined {
    if (!id) return undefined;
    const found = this.#map.get(id);
    this.#map.delete(id);
    return found && Date.now() - found.at <= PENDING_MS ? found : undefined;
  }
}

/** The redirect URI this hub registered: the public origin (or the request's) + `{base_url}hub/oauth_callback`. */
function redirectUri(c: Context, deps: LoginDeps): string {
  const origin = deps.config.publicUrl || new URL(c.req.url).origin;
  return `${origin}${deps.config.baseUrl}hub/oauth_callback`;
}

/** What the two OAuth routes share. */
interface OAuthFlow {
  deps: LoginDeps;
  signIn: OAuthSignIn;
  pending: PendingLogins;
  /** `{base_url}hub/`. */
  hubPath: string;
}

/** A failed sign-in: logged as an event, the state cookie cleared, the reason thrown as a page. */
function fail(flow: OAuthFlow, c: Context, error: unknown): never {
  const e = error instanceof OidcError
    ? error
    : new OidcError(502, String(error));
  flow.deps.events.record("login.failed", {
    reason: e.message,
    via: "oauth",
    address: "",
  });
  deleteCookie(c, STATE_COOKIE, { path: flow.hubPath });
  throw new HubError(e.status, e.message);
}

/** `GET /oauth_login`: to the provider, with the login's state kept under a cookie. */
async function beginRoute(
  c: Context<HubEnv>,
  flow: OAuthFlow,
): Promise<Response> {
  const { config } = flow.deps;
  const next = safeNextUrl(c.req.query("next"), {
    baseUrl: config.baseUrl,
    publicOrigin: config.publicUrl,
    subdomainHost: config.subdomainHost,
  }) ?? "";
  try {
    const { url, pending: login } = await flow.signIn.client.begin(
      next,
      redirectUri(c, flow.deps),
    );
    setCookie(c, STATE_COOKIE, flow.pending.add(login), {
      path: flow.hubPath,
      httpOnly: true,
      sameSite: "Lax",
      secure: isSecure(c, config),
      maxAge: PENDING_MS / 1000,
    });
    return c.redirect(url, 302);
  } catch (error) {
    return fail(flow, c, error);
  }
}

/** `GET /oauth_callback`: the provider's answer; a session for an admitted user. */
async function callbackRoute(
  c: Context<HubEnv>,
  flow: OAuthFlow,
): Promise<Response> {
  const { deps, hubPath } = flow;
  const login = flow.pending.take(getCookie(c, STATE_COOKIE));
  if (!login) {
    return fail(
      flow,
      c,
      new OidcError(
        400,
        "This sign-in has expired or was started in another browser: start again from the login page",
      ),
    );
  }
  deleteCookie(c, STATE_COOKIE, { path: hubPath });
  try {
    const who = await flow.signIn.client.finish(new URL(c.req.url), login);
    const user = await flow.signIn.admit(who);
    await startLogin(c, deps, { user, hubPath });
    return c.redirect(
      login.next ||
        await landingAfterLogin(deps, {
          user,
          fallback: deps.defaultNext || `${hubPath}home`,
        }),
      302,
    );
  } catch (error) {
    return fail(flow, c, error);
  }
}

/** The OAuth sub-app (paths relative to `{base_url}hub`). */
export function createOAuthLoginPages(
  deps: LoginDeps,
  signIn: OAuthSignIn,
): Hono<HubEnv> {
  const app = new Hono<HubEnv>();
  const flow: OAuthFlow = {
    deps,
    signIn,
    pending: new PendingLogins(),
    hubPath: `${deps.config.baseUrl}hub/`,
  };
  app.get("/oauth_login", (c) => beginRoute(c, flow));
  app.get("/oauth_callback", (c) => callbackRoute(c, flow));
  return app;
}
