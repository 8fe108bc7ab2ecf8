/**
 * `/hub/oauth_login` and `/hub/oauth_callback` (JupyterHub's
 * oauthenticator paths): sign-in through the OpenID Connect provider of
 * `auth.oauth.*` (hub/auth/oidc.ts). The login keeps its state, nonce and
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
import { GithubClient } from "../auth/github.ts";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import {
  OidcClient,
  OidcError,
  type OidcIdentity,
  type PendingLogin,
} from "../auth/oidc.ts";
import {
  effectiveAllowRules,
  isAllowed,
  normalizeUsername,
  usernameProblem,
} from "../auth/usernames.ts";
import { createUsers, getUser, updateUser, type UserRow } from "../db/users.ts";
import { HubError } from "../errors.ts";
import type { HubEnv } from "../middleware/identity.ts";
import { safeNextUrl } from "../next_url.ts";
import { newSecret } from "../tokens.ts";
import { isSecure, type LoginDeps, startLogin } from "./login.ts";

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

/** Who may come in, and as admin or not; throws a 403 OidcError naming why not. */
async function admitOidc(deps: LoginDeps, who: OidcIdentity): Promise<UserRow> {
  const { config } = deps;
  const name = normalizeUsername(who.username);
  const problem = usernameProblem(name, config.users.usernamePattern);
  if (problem) {
    throw new OidcError(
      403,
      `Your username from the provider (${name}) cannot be used here: ${problem}`,
    );
  }
  const oauth = config.auth.oauth;
  const domains = oauth.allowedDomains.map((d) => d.toLowerCase());
  if (domains.length && !domains.includes(domainOf(who))) {
    throw new OidcError(
      403,
      `Sign in with an account of ${domains.join(" or ")}: ${
        domainOf(who) || "this account"
      } is not one`,
    );
  }
  const existing = await getUser(deps.db, name);
  const inGroup = (list: readonly string[]) =>
    who.groups.some((g) => list.includes(g));
  const allowed = config.users.blocked.includes(name)
    ? false
    : oauth.allowedGroups.length
    ? inGroup(oauth.allowedGroups) || config.users.admin.includes(name)
    : isAllowed(
      name,
      effectiveAllowRules(config.auth.type, config.users),
      existing !== undefined,
    );
  if (!allowed) {
    throw new OidcError(
      403,
      `User ${name} is not allowed to use this hub. Ask the hub's admin to add you.`,
    );
  }
  const admin = inGroup(oauth.adminGroups) || config.users.admin.includes(name);
  if (existing) {
    if (admin && existing.admin !== 1) {
      await updateUser(deps.db, existing.id, { admin: true });
    }
    return (await getUser(deps.db, name))!;
  }
  const [made] = await createUsers(deps.db, [name], {
    admin,
    now: deps.now().toISOString(),
  });
  return made ?? (await getUser(deps.db, name))!;
}

/** The redirect URI this hub registered: the public origin (or the request's) + `{base_url}hub/oauth_callback`. */
function redirectUri(c: Context, deps: LoginDeps): string {
  const origin = deps.config.publicUrl || new URL(c.req.url).origin;
  return `${origin}${deps.config.baseUrl}hub/oauth_callback`;
}

const GOOGLE_ISSUER = "https://accounts.google.com";
const GITLAB_ISSUER = "https://gitlab.com";

/** The email domain a sign-in comes from: Google's `hd`, else the email's. */
function domainOf(who: OidcIdentity): string {
  const hd = who.claims.hd;
  if (typeof hd === "string" && hd) return hd.toLowerCase();
  const email = who.claims.email;
  return typeof email === "string" && email.includes("@")
    ? email.slice(email.lastIndexOf("@") + 1).toLowerCase()
    : "";
}

/** The client of the configured preset. */
function providerClient(
  c: Context,
  deps: LoginDeps,
): OidcClient | GithubClient {
  const o = deps.config.auth.oauth;
  if (o.preset === "github") {
    return new GithubClient({
      githubUrl: o.githubUrl.replace(/\/+$/, ""),
      apiUrl: o.githubApiUrl.replace(/\/+$/, ""),
      clientId: o.clientId,
      clientSecret: o.clientSecret,
      redirectUri: redirectUri(c, deps),
      timeoutMs: o.timeoutSeconds * 1000,
    });
  }
  // gitlab and google are OpenID Connect with known issuers; google names users by email.
  const issuer = o.issuer ||
    (o.preset === "google"
      ? GOOGLE_ISSUER
      : o.preset === "gitlab"
      ? GITLAB_ISSUER
      : "");
  const usernameClaim =
    o.preset === "google" && o.usernameClaim === "preferred_username"
      ? "email"
      : o.usernameClaim;
  return new OidcClient({
    issuer,
    clientId: o.clientId,
    clientSecret: o.clientSecret,
    scopes: o.scopes,
    redirectUri: redirectUri(c, deps),
    usernameClaim,
    groupsClaim: o.groupsClaim,
    timeoutMs: o.timeoutSeconds * 1000,
  });
}

/** The OAuth sub-app (paths relative to `{base_url}hub`). */
export function createOAuthLoginPages(deps: LoginDeps): Hono<HubEnv> {
  const app = new Hono<HubEnv>();
  const { config } = deps;
  const pending = new PendingLogins();
  const hubPath = `${config.baseUrl}hub/`;
  let client: OidcClient | GithubClient | null = null;
  const clientFor = (c: Context) => client ??= providerClient(c, deps);
  const fail = (error: unknown, c: Context): never => {
    const e = error instanceof OidcError
      ? error
      : new OidcError(502, String(error));
    deps.events.record("login.failed", {
      reason: e.message,
      via: "oauth",
      address: "",
    });
    deleteCookie(c, STATE_COOKIE, { path: hubPath });
    throw new HubError(e.status, e.message);
  };

  app.get("/oauth_login", async (c) => {
    const next = safeNextUrl(c.req.query("next"), {
      baseUrl: config.baseUrl,
      publicOrigin: config.publicUrl,
    }) ?? "";
    try {
      const { url, pending: login } = await clientFor(c).begin(next);
      setCookie(c, STATE_COOKIE, pending.add(login), {
        path: hubPath,
        httpOnly: true,
        sameSite: "Lax",
        secure: isSecure(c, config),
        maxAge: PENDING_MS / 1000,
      });
      return c.redirect(url, 302);
    } catch (error) {
      return fail(error, c);
    }
  });

  app.get("/oauth_callback", async (c) => {
    const login = pending.take(getCookie(c, STATE_COOKIE));
    if (!login) {
      return fail(
        new OidcError(
          400,
          "This sign-in has expired or was started in another browser: start again from the login page",
        ),
        c,
      );
    }
    deleteCookie(c, STATE_COOKIE, { path: hubPath });
    try {
      const who = await clientFor(c).finish(new URL(c.req.url), login);
      const user = await admitOidc(deps, who);
      await startLogin(c, deps, user, hubPath);
      return c.redirect(
        login.next || deps.defaultNext || `${hubPath}home`,
        302,
      );
    } catch (error) {
      return fail(error, c);
    }
  });
  return app;
}
