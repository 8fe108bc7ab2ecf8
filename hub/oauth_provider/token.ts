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
import type { OAuthClientRow } from "../db/schema.ts";
import { insertToken } from "../db/tokens.ts";
import { truncate } from "../log.ts";
import { hashSecret, newSecret, sameHash, tokenPrefix } from "../tokens.ts";
import type { HubEnv } from "../middleware/identity.ts";
import { FormError, readForm } from "./_http.ts";
import type { OAuthProviderDeps } from "./mod.ts";

/** Parameters that may appear once only. */
const SINGLE_PARAMS = [
  "client_id",
  "client_secret",
  "grant_type",
  "code",
  "redirect_uri",
] as const;

const NO_STORE = { "Cache-Control": "no-store", "Pragma": "no-cache" };

/** Note of issued tokens: must not start with "Server at " (those do not count as user activity). */
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

/** The token endpoint handler. */
export function tokenHandler(
  deps: OAuthProviderDeps,
): (c: Context<HubEnv>) => Promise<Response> {
  const { db, config, logger } = deps;
  return async (c) => {
    const error = (
      status: 400 | 401,
      code: string,
      description: string,
      headers: Record<string, string> = {},
    ) =>
      c.json({ error: code, "error_description": description }, status, {
        ...NO_STORE,
        ...headers,
      });

    if (new URL(c.req.url).search) {
      return error(
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
      return error(400, "invalid_request", e.message);
    }
    for (const name of SINGLE_PARAMS) {
      if (form.getAll(name).length > 1) {
        return error(400, "invalid_request", `Duplicate ${name} parameter.`);
      }
    }
    const grantType = form.get("grant_type");
    if (!grantType) {
      return error(400, "invalid_request", "Missing grant_type parameter.");
    }
    if (grantType !== "authorization_code") {
      return error(
        400,
        "unsupported_grant_type",
        `Only grant_type=authorization_code is supported, not ${
          truncate(grantType, 40)
        }`,
      );
    }

    const basic = parseBasicAuth(c.req.header("authorization"));
    const clientId = basic?.id ?? form.get("client_id");
    const secret = basic?.secret ?? form.get("client_secret");
    const invalidClient = () =>
      error(
        401,
        "invalid_client",
        "Client authentication failed: unknown client_id or wrong client_secret",
        basic ? { "WWW-Authenticate": 'Basic realm="jupyterhub"' } : {},
      );
    if (!clientId || secret === null) return invalidClient();
    let client = await getClient(db, clientId);
    if (!client && basic && basic.rawId !== clientId) {
      client = await getClient(db, basic.rawId);
    }
    if (!client || !sameHash(await hashSecret(secret), client.secret_hash)) {
      logger.warn("oauth: client authentication failed", {
        client: truncate(clientId, 80),
      });
      return invalidClient();
    }

    const code = form.get("code");
    if (!code) return error(400, "invalid_request", "Missing code parameter.");
    const redirectUri = form.get("redirect_uri") ?? client.redirect_uri;
    if (redirectUri !== client.redirect_uri) {
      return error(400, "invalid_request", "Mismatching redirect URI.");
    }
    const now = deps.now();
    const row = await takeCode(db, await hashSecret(code), now);
    if (!row || row.client_id !== client.identifier) {
      logger.warn("oauth: invalid code", { client: client.identifier });
      return error(
        400,
        "invalid_grant",
        "The authorization code is unknown, expired, already used or issued to another client",
      );
    }
    if (row.redirect_uri !== redirectUri) {
      return error(400, "invalid_request", "Mismatching redirect URI.");
    }

    const scopes = JSON.parse(row.scopes) as string[];
    const expiresIn = config.session.maxAgeSeconds;
    const token = newSecret();
    await insertToken(db, {
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
    logger.info("oauth: token issued", { client: client.identifier });
    return c.json(
      {
        "access_token": token,
        "expires_in": expiresIn,
        "token_type": "Bearer",
        scope: scopes.join(" "),
      },
      200,
      NO_STORE,
    );
  };
}
