/**
 * Login with GitHub (or GitHub Enterprise): plain OAuth 2, not OpenID
 * Connect. The authorization code flow with `state` and PKCE at
 * `<github_url>/login/oauth/authorize`, the code exchanged at
 * `<github_url>/login/oauth/access_token` (JSON), then the user from
 * `<api_url>/user` and their organisations and teams from
 * `<api_url>/user/orgs` and `<api_url>/user/teams`, which become the
 * groups `org` and `org:team` (oauthenticator's `allowed_organizations`
 * form). Same interface and errors as hub/auth/oauth/oidc.ts.
 *
 * @module
 */
import * as oauth from "oauth4webapi";
import {
  OidcError,
  type OidcIdentity,
  type PendingLogin,
  type ProviderTokens,
  signInEnded,
} from "./oidc.ts";

/** What the GitHub login needs. */
export interface GithubSettings {
  /** e.g. "https://github.com". */
  githubUrl: string;
  /** e.g. "https://api.github.com". */
  apiUrl: string;
  clientId: string;
  clientSecret: string;
  /** @default {10000} */
  timeoutMs?: number;
}

/** GitHub's OAuth app flow. */
export class GithubClient {
  readonly #s: GithubSettings;

  constructor(settings: GithubSettings) {
    this.#s = settings;
  }

  /** A new login: where to send the browser, and what to keep. */
  async begin(
    next: string,
    redirectUri: string,
  ): Promise<{ url: string; pending: PendingLogin }> {
    const pending: PendingLogin = {
      state: oauth.generateRandomState(),
      nonce: "",
      verifier: oauth.generateRandomCodeVerifier(),
      next,
      redirectUri,
    };
    const url = new URL(`${this.#s.githubUrl}/login/oauth/authorize`);
    url.search = new URLSearchParams({
      "client_id": this.#s.clientId,
      "redirect_uri": redirectUri,
      scope: "read:user read:org",
      state: pending.state,
      "code_challenge": await oauth.calculatePKCECodeChallenge(
        pending.verifier,
      ),
      "code_challenge_method": "S256",
      "allow_signup": "false",
    }).toString();
    return { url: url.href, pending };
  }

  async #get(path: string, token: string): Promise<unknown> {
    const res = await this.#fetch(`${this.#s.apiUrl}${path}`, {
      headers: {
        authorization: `Bearer ${token}`,
        accept: "application/vnd.github+json",
        "user-agent": "onehub",
      },
    });
    if (res.status === 401) throw signInEnded("GitHub refused the token");
    if (!res.ok) {
      throw new OidcError(502, `GitHub answered ${res.status} for ${path}`);
    }
    return await res.json();
  }

  async #fetch(url: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(url, {
        ...init,
        signal: AbortSignal.timeout(this.#s.timeoutMs ?? 10_000),
      });
    } catch (error) {
      const e = error as Error;
      if (e.name === "TimeoutError") {
        throw new OidcError(
          504,
          "GitHub did not answer in time: try again in a moment",
        );
      }
      throw new OidcError(502, `GitHub could not be reached: ${e.message}`);
    }
  }

  /** The callback: state, code exchange, then who the user is and their orgs and teams. */
  async finish(callback: URL, pending: PendingLogin): Promise<OidcIdentity> {
    const q = callback.searchParams;
    if (q.get("error") === "access_denied") {
      throw new OidcError(
        403,
        "You declined to sign in with GitHub: sign in again and allow it, or ask your teacher",
      );
    }
    if (q.get("state") !== pending.state || !q.get("code")) {
      throw new OidcError(
        400,
        "The sign-in came back wrong (state mismatch): start again from the login page",
      );
    }
    const res = await this.#fetch(
      `${this.#s.githubUrl}/login/oauth/access_token`,
      {
        method: "POST",
        headers: {
          accept: "application/json",
          "content-type": "application/x-www-form-urlencoded",
        },
        body: new URLSearchParams({
          "client_id": this.#s.clientId,
          "client_secret": this.#s.clientSecret,
          code: q.get("code")!,
          "redirect_uri": pending.redirectUri,
          "code_verifier": pending.verifier,
        }),
      },
    );
    const body = await res.json().catch(() => ({})) as Record<string, unknown>;
    if (!res.ok || typeof body.access_token !== "string") {
      throw new OidcError(
        400,
        `GitHub refused the login (${
          body.error ?? res.status
        }): start again from the login page`,
      );
    }
    return await this.#whoIs({
      accessToken: body.access_token,
      refreshToken: typeof body.refresh_token === "string"
        ? body.refresh_token
        : null,
      idToken: null,
      scope: typeof body.scope === "string" ? body.scope : null,
      expiresAt: typeof body.expires_in === "number"
        ? Math.floor(Date.now() / 1000) + body.expires_in
        : null,
    });
  }

  /**
   * The sign-in checked again: who the token's user is now, with their
   * organisations and teams. GitHub's OAuth app tokens do not expire; a
   * revoked one is answered 401, and the user must sign in again.
   */
  refresh(
    tokens: ProviderTokens,
    _claims: Record<string, unknown>,
  ): Promise<OidcIdentity> {
    return this.#whoIs(tokens);
  }

  async #whoIs(tokens: ProviderTokens): Promise<OidcIdentity> {
    const token = tokens.accessToken;
    const user = await this.#get("/user", token) as { login?: unknown };
    if (typeof user.login !== "string") {
      throw new OidcError(502, "GitHub did not say who you are");
    }
    const orgs = await this.#get("/user/orgs", token) as { login: string }[];
    const teams = await this.#get("/user/teams", token) as {
      slug: string;
      organization: { login: string };
    }[];
    return {
      username: user.login,
      groups: [
        ...orgs.map((o) => o.login),
        ...teams.map((t) => `${t.organization.login}:${t.slug}`),
      ],
      claims: user as Record<string, unknown>,
      tokens,
    };
  }
}
