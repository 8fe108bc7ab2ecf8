/**
 * Login with an OpenID Connect provider (oauth4webapi): discovery, the
 * authorization code flow with PKCE, `state` and `nonce`, the token
 * exchange with ID token validation (issuer, audience, expiry, nonce), and
 * the username and groups from the ID token's claims (or userinfo's).
 * Every failure is an {@linkcode OidcError} with the status the login page
 * answers (400 for the browser's request, 403 for a refusal, 502/504 when
 * the provider failed) and a message that says what to do.
 *
 * Plain-http issuers are accepted only on loopback (tests, a local
 * provider); anything else must be https.
 *
 * @module
 */
import { isLoopbackUrl } from "../../net.ts";
import * as oauth from "oauth4webapi";

/** What the login needs to know about the provider and this client. */
export interface OidcSettings {
  /** The issuer URL (discovery at `<issuer>/.well-known/openid-configuration`). */
  issuer: string;
  clientId: string;
  clientSecret: string;
  scopes: readonly string[];
  usernameClaim: string;
  groupsClaim: string;
  /** Milliseconds a provider call may take. @default {10000} */
  timeoutMs?: number;
}

/** A failed login: the status the page answers and what to tell the person. */
export class OidcError extends Error {
  constructor(readonly status: 400 | 403 | 502 | 504, message: string) {
    super(message);
    this.name = "OidcError";
  }
}

/** What a browser carries between the login and the callback (kept server-side). */
export interface PendingLogin {
  state: string;
  nonce: string;
  verifier: string;
  next: string;
  /** Where the provider sends the browser back: `<public origin>{base_url}hub/oauth_callback`. */
  redirectUri: string;
}

/** The provider's tokens, as kept in the user's auth state. */
export interface ProviderTokens {
  accessToken: string;
  refreshToken: string | null;
  idToken: string | null;
  scope: string | null;
  /** When the access token expires (seconds since the epoch), when the provider said. */
  expiresAt: number | null;
}

/** Seconds before its end an access token already counts as expired. */
const EXPIRY_MARGIN_S = 30;

/** Whether the access token is expired (or within the margin of it) at `nowS` (seconds since the epoch). */
export function tokenExpired(tokens: ProviderTokens, nowS: number): boolean {
  return tokens.expiresAt !== null &&
    tokens.expiresAt <= nowS + EXPIRY_MARGIN_S;
}

/** The message of a sign-in the provider no longer honours. */
export function signInEnded(why: string): OidcError {
  return new OidcError(
    403,
    `Your sign-in with the provider has ended (${why}): log out and sign in again`,
  );
}

/** Who logged in. */
export interface OidcIdentity {
  username: string;
  groups: string[];
  claims: Record<string, unknown>;
  tokens: ProviderTokens;
}

/** The provider's failures as an OidcError (timeouts: 504; the rest: 502). */
function providerFailure(error: unknown, what: string): OidcError {
  if (error instanceof OidcError) return error;
  const e = error as Error;
  if (e?.name === "TimeoutError" || e?.name === "AbortError") {
    return new OidcError(
      504,
      `The sign-in provider did not answer in time (${what}): try again in a moment`,
    );
  }
  return new OidcError(
    502,
    `The sign-in provider failed (${what}): ${e?.message ?? e}`,
  );
}

/** One provider, its discovery cached. */
export class OidcClient {
  readonly #settings: OidcSettings;
  #server: Promise<oauth.AuthorizationServer> | null = null;

  constructor(settings: OidcSettings) {
    this.#settings = settings;
  }

  #options() {
    const issuer = new URL(this.#settings.issuer);
    return {
      signal: AbortSignal.timeout(this.#settings.timeoutMs ?? 10_000),
      ...(issuer.protocol === "http:" && isLoopbackUrl(issuer)
        ? { [oauth.allowInsecureRequests]: true }
        : {}),
    };
  }

  #client(): oauth.Client {
    return { client_id: this.#settings.clientId };
  }

  /** The provider's metadata (fetched once; a failure is retried next time). */
  server(): Promise<oauth.AuthorizationServer> {
    this.#server ??= (async () => {
      const issuer = new URL(this.#settings.issuer);
      try {
        const res = await oauth.discoveryRequest(issuer, this.#options());
        return await oauth.processDiscoveryResponse(issuer, res);
      } catch (error) {
        throw providerFailure(error, "discovery");
      }
    })().catch((error) => {
      this.#server = null;
      throw error;
    });
    return this.#server;
  }

  /** A new login: the URL to send the browser to, and what to keep for the callback. */
  async begin(
    next: string,
    redirectUri: string,
  ): Promise<{ url: string; pending: PendingLogin }> {
    const as = await this.server();
    if (!as.authorization_endpoint) {
      throw new OidcError(
        502,
        "The sign-in provider has no authorization endpoint",
      );
    }
    const pending: PendingLogin = {
      state: oauth.generateRandomState(),
      nonce: oauth.generateRandomNonce(),
      verifier: oauth.generateRandomCodeVerifier(),
      next,
      redirectUri,
    };
    const url = new URL(as.authorization_endpoint);
    url.search = new URLSearchParams({
      "client_id": this.#settings.clientId,
      "redirect_uri": redirectUri,
      "response_type": "code",
      scope: this.#settings.scopes.join(" "),
      state: pending.state,
      nonce: pending.nonce,
      "code_challenge": await oauth.calculatePKCECodeChallenge(
        pending.verifier,
      ),
      "code_challenge_method": "S256",
    }).toString();
    return { url: url.href, pending };
  }

  /** The callback: checks the response, exchanges the code, validates the ID token, reads the identity. */
  async finish(callback: URL, pending: PendingLogin): Promise<OidcIdentity> {
    const as = await this.server();
    const client = this.#client();
    let params: URLSearchParams;
    try {
      params = oauth.validateAuthResponse(as, client, callback, pending.state);
    } catch (error) {
      const e = error as {
        error?: string;
        error_description?: string;
        message: string;
      };
      const denied = e.error === "access_denied";
      throw new OidcError(
        denied ? 403 : 400,
        denied
          ? "You declined to sign in with the provider: sign in again and allow it, or ask your teacher"
          : `The sign-in came back wrong (${
            e.error_description ?? e.error ?? e.message
          }): start again from the login page`,
      );
    }
    let tokens: oauth.TokenEndpointResponse;
    try {
      const res = await oauth.authorizationCodeGrantRequest(
        as,
        client,
        oauth.ClientSecretPost(this.#settings.clientSecret),
        params,
        pending.redirectUri,
        pending.verifier,
        this.#options(),
      );
      tokens = await oauth.processAuthorizationCodeResponse(as, client, res, {
        expectedNonce: pending.nonce,
        requireIdToken: true,
      });
      // The ID token came straight from the token endpoint, which TLS
      // vouches for; its signature is checked against the provider's
      // published keys all the same, so a token the provider did not sign
      // never makes a session.
      await oauth.validateApplicationLevelSignature(as, res, this.#options());
    } catch (error) {
      throw tokenFailure(error, "login");
    }
    const claims = { ...oauth.getValidatedIdTokenClaims(tokens)! } as Record<
      string,
      unknown
    >;
    return this.#identity(claims, toProviderTokens(tokens, null));
  }

  /**
   * The sign-in checked again with the provider (oauthenticator's
   * `refresh_user`): a token still in time is tried at the userinfo
   * endpoint; an expired or refused one is replaced with the refresh
   * token. The claims are the stored ones updated by the provider's.
   *
   * @throws {OidcError} 403 when the provider no longer honours the
   *   sign-in (the user must sign in again), 502/504 when it failed.
   */
  async refresh(
    tokens: ProviderTokens,
    claims: Record<string, unknown>,
  ): Promise<OidcIdentity> {
    const as = await this.server();
    const inTime = !tokenExpired(tokens, Date.now() / 1000);
    if (inTime) {
      const fresh = await this.#userinfo(as, tokens.accessToken, claims);
      if (fresh) return this.#identity({ ...claims, ...fresh }, tokens);
    }
    if (!tokens.refreshToken) {
      throw signInEnded(inTime ? "the token was refused" : "the token expired");
    }
    let next: oauth.TokenEndpointResponse;
    let res: Response;
    try {
      res = await oauth.refreshTokenGrantRequest(
        as,
        this.#client(),
        oauth.ClientSecretPost(this.#settings.clientSecret),
        tokens.refreshToken,
        this.#options(),
      );
      next = await oauth.processRefreshTokenResponse(as, this.#client(), res);
      if (next.id_token) {
        await oauth.validateApplicationLevelSignature(as, res, this.#options());
      }
    } catch (error) {
      throw tokenFailure(error, "refresh");
    }
    const idClaims = next.id_token
      ? { ...oauth.getValidatedIdTokenClaims(next) } as Record<string, unknown>
      : {};
    return this.#identity(
      { ...claims, ...idClaims },
      toProviderTokens(next, tokens),
    );
  }

  /** Userinfo's claims for `accessToken`; null when the provider refuses the token. */
  async #userinfo(
    as: oauth.AuthorizationServer,
    accessToken: string,
    claims: Record<string, unknown>,
  ): Promise<Record<string, unknown> | null> {
    if (!as.userinfo_endpoint) return {};
    try {
      const res = await oauth.userInfoRequest(
        as,
        this.#client(),
        accessToken,
        this.#options(),
      );
      if (res.status === 401 || res.status === 403) return null;
      const sub = typeof claims.sub === "string"
        ? claims.sub
        : oauth.skipSubjectCheck;
      return {
        ...await oauth.processUserInfoResponse(as, this.#client(), sub, res),
      };
    } catch (error) {
      if (error instanceof oauth.WWWAuthenticateChallengeError) return null;
      throw tokenFailure(error, "userinfo");
    }
  }

  #identity(
    claims: Record<string, unknown>,
    tokens: ProviderTokens,
  ): OidcIdentity {
    const { usernameClaim, groupsClaim } = this.#settings;
    const raw = claims[usernameClaim];
    if (typeof raw !== "string" || raw === "") {
      throw new OidcError(
        403,
        `The provider did not say who you are (no "${usernameClaim}" claim): ask your teacher to check auth.oauth.username_claim`,
      );
    }
    const groups = Array.isArray(claims[groupsClaim])
      ? (claims[groupsClaim] as unknown[]).filter((g): g is string =>
        typeof g === "string"
      )
      : [];
    return { username: raw, groups, claims, tokens };
  }
}

/** A token endpoint answer as kept; a refresh that sends no new refresh token keeps the old one. */
function toProviderTokens(
  t: oauth.TokenEndpointResponse,
  before: ProviderTokens | null,
): ProviderTokens {
  return {
    accessToken: t.access_token,
    refreshToken: t.refresh_token ?? before?.refreshToken ?? null,
    idToken: t.id_token ?? before?.idToken ?? null,
    scope: t.scope ?? before?.scope ?? null,
    expiresAt: t.expires_in
      ? Math.floor(Date.now() / 1000) + t.expires_in
      : null,
  };
}

/** A failed code exchange or refresh as an OidcError. */
function tokenFailure(error: unknown, step: "login" | "refresh" | "userinfo") {
  if (error instanceof oauth.ResponseBodyError) {
    return step === "login"
      ? new OidcError(
        400,
        `The sign-in provider refused the login (${error.error}${
          error.error_description ? `: ${error.error_description}` : ""
        }): start again from the login page`,
      )
      : signInEnded(`the provider said ${error.error}`);
  }
  if (error instanceof oauth.OperationProcessingError) {
    return new OidcError(
      502,
      `The sign-in provider's answer did not check out: ${error.message}`,
    );
  }
  return providerFailure(error, step === "login" ? "token" : step);
}
