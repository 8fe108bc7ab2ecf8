/**
 * Sign-in with the provider of `auth.oauth.*`, what the pages and the
 * spawner share: the provider's client (OpenID Connect, or GitHub's OAuth),
 * who is let in (and as admin), the provider's tokens kept as the user's
 * sealed auth state (JupyterHub's `enable_auth_state`), and the check
 * before a spawn (oauthenticator's `refresh_pre_spawn`): a sign-in older
 * than `auth.oauth.auth_refresh_age` is checked with the provider again,
 * an expired token is refreshed, and a sign-in the provider ended, or a
 * user no longer allowed, cannot start a server until they sign in again.
 *
 * The auth state has JupyterHub's (oauthenticator's) keys: `access_token`,
 * `refresh_token`, `id_token`, `scope`, `oauth_user` (the claims), plus
 * `expires_at` and `refreshed_at` (seconds since the epoch).
 *
 * @module
 */
import type { HubConfig } from "../../config/mod.ts";
import type { Db } from "../../db/mod.ts";
import {
  createUsers,
  getUser,
  updateUser,
  type UserRow,
} from "../../db/users.ts";
import type { EventLog } from "../../observe/events.ts";
import { HubError } from "../../errors.ts";
import type { AuthStateBox } from "../auth_state.ts";
import { GithubClient } from "./github.ts";
import {
  OidcClient,
  OidcError,
  type OidcIdentity,
  type ProviderTokens,
  tokenExpired,
} from "./oidc.ts";
import {
  effectiveAllowRules,
  isAllowed,
  normalizeUsername,
  usernameProblem,
} from "../usernames.ts";

const GOOGLE_ISSUER = "https://accounts.google.com";
const GITLAB_ISSUER = "https://gitlab.com";

/** What the sign-in needs. */
export interface OAuthSignInDeps {
  db: Db;
  config: HubConfig;
  events: EventLog;
  /** Seals the provider's tokens. */
  authState: AuthStateBox;
  now: () => Date;
}

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
function providerClient(config: HubConfig): OidcClient | GithubClient {
  const o = config.auth.oauth;
  if (o.preset === "github") {
    return new GithubClient({
      githubUrl: o.githubUrl.replace(/\/+$/, ""),
      apiUrl: o.githubApiUrl.replace(/\/+$/, ""),
      clientId: o.clientId,
      clientSecret: o.clientSecret,
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
    usernameClaim,
    groupsClaim: o.groupsClaim,
    timeoutMs: o.timeoutSeconds * 1000,
  });
}

/** The stored tokens of an auth state, or null when it holds none. */
function tokensOf(state: Record<string, unknown>): ProviderTokens | null {
  const str = (k: string) => typeof state[k] === "string" ? state[k] : null;
  const access = str("access_token");
  if (!access) return null;
  return {
    accessToken: access,
    refreshToken: str("refresh_token"),
    idToken: str("id_token"),
    scope: str("scope"),
    expiresAt: typeof state.expires_at === "number" ? state.expires_at : null,
  };
}

/** The sign-in service of one hub. */
export class OAuthSignIn {
  readonly #deps: OAuthSignInDeps;
  #client: OidcClient | GithubClient | null = null;

  constructor(deps: OAuthSignInDeps) {
    this.#deps = deps;
  }

  /** The provider's client (made once). */
  get client(): OidcClient | GithubClient {
    return this.#client ??= providerClient(this.#deps.config);
  }

  /**
   * Lets `who` in: checks the allow rules, makes the user when new, sets
   * admin by group, keeps the tokens. Throws a 403 OidcError naming why
   * not.
   */
  async admit(who: OidcIdentity): Promise<UserRow> {
    const user = await this.#admitted(who);
    await this.#keep(user, who);
    return (await getUser(this.#deps.db, user.name))!;
  }

  async #admitted(who: OidcIdentity): Promise<UserRow> {
    const { config, db } = this.#deps;
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
    const existing = await getUser(db, name);
    const inGroup = (list: readonly string[]) =>
      who.groups.some((g) => list.includes(g));
    const allowed = config.users.blocked.includes(name)
      ? false
      : oauth.allowedGroups.length
      ? inGroup(oauth.allowedGroups) || config.users.admin.includes(name)
      : isAllowed(name, {
        rules: effectiveAllowRules(config.auth.type, config.users),
        existsInDb: existing !== undefined,
      });
    if (!allowed) {
      throw new OidcError(
        403,
        `User ${name} is not allowed to use this hub. Ask the hub's admin to add you.`,
      );
    }
    const admin = inGroup(oauth.adminGroups) ||
      config.users.admin.includes(name);
    if (existing) {
      if (admin && existing.admin !== 1) {
        await updateUser(db, existing.id, { admin: true });
      }
      return existing;
    }
    const [made] = await createUsers(db, [name], {
      admin,
      now: this.#deps.now().toISOString(),
    });
    return made ?? (await getUser(db, name))!;
  }

  /** Keeps the provider's tokens as the user's sealed auth state (when enabled). */
  async #keep(user: UserRow, who: OidcIdentity): Promise<void> {
    if (!this.#deps.config.auth.oauth.enableAuthState) return;
    const t = who.tokens;
    const state = {
      "access_token": t.accessToken,
      "refresh_token": t.refreshToken,
      "id_token": t.idToken,
      scope: t.scope,
      "expires_at": t.expiresAt,
      "refreshed_at": Math.floor(this.#deps.now().getTime() / 1000),
      "oauth_user": who.claims,
    };
    await updateUser(this.#deps.db, user.id, {
      authState: this.#deps.authState.seal(user.id, state),
    });
  }

  /**
   * Before `user`'s server starts: the sign-in checked again when due, and
   * the environment that hands the token to the server
   * (`auth.oauth.token_env`). Users without a provider sign-in (PAM, API)
   * pass unchanged.
   *
   * @throws {HubError} 403 when the user must sign in again or is no longer
   *   allowed; 502/504 when the provider failed.
   */
  beforeSpawn = async (user: UserRow): Promise<Record<string, string>> => {
    const { config, authState, now } = this.#deps;
    const oauth = config.auth.oauth;
    // Not keeping tokens: states stored earlier are not used either.
    if (!oauth.enableAuthState) return {};
    const state = authState.open(user.id, user.auth_state);
    const tokens = state ? tokensOf(state) : null;
    if (!state || !tokens) return {};
    let access = tokens.accessToken;
    const nowS = Math.floor(now().getTime() / 1000);
    const checked = typeof state.refreshed_at === "number"
      ? state.refreshed_at
      : 0;
    const expired = tokenExpired(tokens, nowS);
    if (
      oauth.refreshPreSpawn &&
      (expired || nowS - checked >= oauth.authRefreshAgeSeconds)
    ) {
      access = await this.#refresh(user, state, tokens);
    }
    return oauth.tokenEnv ? { [oauth.tokenEnv]: access } : {};
  };

  async #refresh(
    user: UserRow,
    state: Record<string, unknown>,
    tokens: ProviderTokens,
  ): Promise<string> {
    const claims = (state.oauth_user ?? {}) as Record<string, unknown>;
    try {
      const who = await this.client.refresh(tokens, claims);
      // The user keeps their name, whatever the provider calls them now.
      await this.#admitted({ ...who, username: user.name });
      await this.#keep(user, who);
      this.#deps.events.record("login.refreshed", {
        user: user.name,
        via: "oauth",
      });
      return who.tokens.accessToken;
    } catch (error) {
      const e = error instanceof OidcError
        ? error
        : new OidcError(502, String(error));
      this.#deps.events.record("login.refresh_failed", {
        user: user.name,
        via: "oauth",
        reason: e.message,
      });
      throw new HubError(
        e.status,
        e.status === 403
          ? `Cannot start a server for ${user.name}: ${e.message}`
          : e.message,
      );
    }
  }
}
