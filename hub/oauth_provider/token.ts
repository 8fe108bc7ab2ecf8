/**
 * `POST /token` (JupyterHub's single-user server contract): exchanges a code for an
 * access token. Client authentication by `client_id` + `client_secret` in
 * the form or HTTP Basic; grant type `authorization_code` only; the code
 * works once, within 5 minutes, for the client and redirect URI it was
 * issued to. The token is an `api_tokens` row linked to the client and the
 * browser session, with the code's raw scopes.
 *
 * @module
 */
import type { Context } from "hono";
import { getClient, takeCode } from "../db/oauth.ts";
import type { OAuthClientRow, OAuthCodeRow } from "../db/schema.ts";
import { insertToken } from "../db/tokens.ts";
import { truncate } from "../observe/log.ts";
import { hashSecret, newSecret, sameHash, tokenPrefix } from "../secrets.ts";
import type { HubEnv } from "../middleware/identity.ts";
import { FormError, readForm } from "./_http.ts";
import type { OAuthProviderDeps } from "./_types.ts";

/** Parameters that may appear once only. */
const SINGLE_PARAMS = [
  "client_id",
  "client_secret",
  "grant_type",
  "code",
  "redirect_uri",
] as const;

const NO_STORE = { "Cache-Control": "no-store", "Pragma": "no-cache" };

/** Note of issued tokens (display only: nothing decides by a note). */
export function oauthTokenNote(client: Pick<OAuthClientRow, "description">) {
  return `oauth: ${client.description}`;
}

/** Decodes `Authorization: Basic base64(id:secret)` (both form-urlencoded, RFC 6749 §2.3.1). */
export function parseBasicAuth(
  header: string | undefined,
): { id: string; secret: string; rawId: string } | null {
  const m = /^basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(header?.trim() ?? "");
  if (!m) return null;
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(
      Uint8Array.fromBase64(m[1]!.replace(/-/g, "+").replace(/_/g, "/")),
    );
  } catch {
    return null;
  }
  const colon = text.indexOf(":");
  if (colon < 0) return null;
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s.replace(/\+/g, " "));
    } catch {
      return s;
    }
  };
  const rawId = text.slice(0, colon);
  return { id: decode(rawId), secret: decode(text.slice(colon + 1)), rawId };
}

/** A refusal of the token endpoint, answered as OAuth's JSON error. */
class TokenError extends Error {
  constructor(
    readonly status: 400 | 401,
    readonly code: string,
    description: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(description);
  }
}

/** Step 1: a body-only form with single parameters and the one supported grant type. */
async function readTokenForm(c: Context<HubEnv>): Promise<URLSearchParams> {
  if (new URL(c.req.url).search) {
    throw new TokenError(
      400,
      "invalid_request",
      "URL query parameters are not allowed",
    );
  }
  let form: URLSearchParams;
  try {
    form = await readForm(c.req.raw);
  } catch (e) {
    if (!(e instanceof FormError)) throw e;
    throw new TokenError(400, "invalid_request", e.message);
  }
  for (const name of SINGLE_PARAMS) {
    if (form.getAll(name).length > 1) {
      throw new TokenError(
        400,
        "invalid_request",
        `Duplicate ${name} parameter.`,
      );
    }
  }
  const grantType = form.get("grant_type");
  if (!grantType) {
    throw new TokenError(
      400,
      "invalid_request",
      "Missing grant_type parameter.",
    );
  }
  if (grantType !== "authorization_code") {
    throw new TokenError(
      400,
      "unsupported_grant_type",
      `Only grant_type=authorization_code is supported, not ${
        truncate(grantType, 40)
      }`,
    );
  }
  return form;
}

/** Step 2: the client, by Basic auth or form fields, with its secret checked. */
async function authenticateClient(
  c: Context<HubEnv>,
  deps: OAuthProviderDeps,
  form: URLSearchParams,
): Promise<OAuthClientRow> {
  const basic = parseBasicAuth(c.req.header("authorization"));
  const clientId = basic?.id ?? form.get("client_id");
  const secret = basic?.secret ?? form.get("client_secret");
  const invalid = new TokenError(
    401,
    "invalid_client",
    "Client authentication failed: unknown client_id or wrong client_secret",
    basic ? { "WWW-Authenticate": 'Basic realm="jupyterhub"' } : {},
  );
  if (!clientId || secret === null) throw invalid;
  let client = await getClient(deps.db, clientId);
  if (!client && basic && basic.rawId !== clientId) {
    client = await getClient(deps.db, basic.rawId);
  }
  if (!client || !sameHash(await hashSecret(secret), client.secret_hash)) {
    deps.logger.warn("oauth: client authentication failed", {
      client: truncate(clientId, 80),
    });
    throw invalid;
  }
  return client;
}

/** Step 3: the code, taken (single use), issued to this client for this redirect URI. */
async function redeemCode(
  deps: OAuthProviderDeps,
  form: URLSearchParams,
  client: OAuthClientRow,
  now: Date,
): Promise<OAuthCodeRow> {
  const code = form.get("code");
  if (!code) {
    throw new TokenError(400, "invalid_request", "Missing code parameter.");
  }
  const redirectUri = form.get("redirect_uri") ?? client.redirect_uri;
  if (redirectUri !== client.redirect_uri) {
    throw new TokenError(400, "invalid_request", "Mismatching redirect URI.");
  }
  const row = await takeCode(deps.db, await hashSecret(code), now);
  if (!row || row.client_id !== client.identifier) {
    deps.logger.warn("oauth: invalid code", { client: client.identifier });
    throw new TokenError(
      400,
      "invalid_grant",
      "The authorization code is unknown, expired, already used or issued to another client",
    );
  }
  if (row.redirect_uri !== redirectUri) {
    throw new TokenError(400, "invalid_request", "Mismatching redirect URI.");
  }
  return row;
}

/** Step 4: the access token for the code's user and scopes, as OAuth's answer. */
async function issueAccessToken(
  deps: OAuthProviderDeps,
  client: OAuthClientRow,
  row: OAuthCodeRow,
  now: Date,
): Promise<Record<string, unknown>> {
  const scopes = JSON.parse(row.scopes) as string[];
  const expiresIn = deps.config.session.maxAgeSeconds;
  const token = newSecret();
  await insertToken(deps.db, {
    userId: row.user_id,
    serviceId: null,
    prefix: tokenPrefix(token),
    hash: await hashSecret(token),
    scopes,
    note: oauthTokenNote(client),
    created: now.toISOString(),
    expiresAt: new Date(now.getTime() + expiresIn * 1000).toISOString(),
    sessionId: row.session_id,
    oauthClient: client.identifier,
  });
  deps.logger.info("oauth: token issued", { client: client.identifier });
  return {
    "access_token": token,
    "expires_in": expiresIn,
    "token_type": "Bearer",
    scope: scopes.join(" "),
  };
}

/** The token endpoint handler. */
export function tokenHandler(
  deps: OAuthProviderDeps,
): (c: Context<HubEnv>) => Promise<Response> {
  return async (c) => {
    try {
      const form = await readTokenForm(c);
      const client = await authenticateClient(c, deps, form);
      const now = deps.now();
      const row = await redeemCode(deps, form, client, now);
      return c.json(
        await issueAccessToken(deps, client, row, now),
        200,
        NO_STORE,
      );
    } catch (error) {
      if (!(error instanceof TokenError)) throw error;
      return c.json(
        { error: error.code, "error_description": error.message },
        error.status,
        { ...NO_STORE, ...error.headers },
      );
    }
  };
}
