/**
 * Reads a generic OpenID Connect provider's endpoints from its discovery
 * document (`<issuer>/.well-known/openid-configuration`) for
 * `onehub export z2jh`: oauthenticator's GenericOAuthenticator does not
 * discover them itself, so values.yaml needs them written out.
 *
 * @module
 */
import type { OidcEndpoints } from "./_types.ts";

/** Options of {@linkcode discoverEndpoints}. */
export interface DiscoveryOptions {
  /** Give up after this long. @default {5000} */
  timeoutMs?: number;
  /** @default {fetch} */
  fetch?: typeof fetch;
}

/**
 * The provider's authorization and token endpoints, or null when the
 * document cannot be read or lacks them (the export then writes
 * placeholders and says where to find them).
 */
export async function discoverEndpoints(
  issuer: string,
  options: DiscoveryOptions = {},
): Promise<OidcEndpoints | null> {
  const url = `${issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`;
  try {
    const res = await (options.fetch ?? fetch)(url, {
      headers: { accept: "application/json" },
      signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
    });
    if (!res.ok) {
      await res.body?.cancel();
      return null;
    }
    const doc = await res.json() as Record<string, unknown>;
    const authorize = doc["authorization_endpoint"];
    const token = doc["token_endpoint"];
    return typeof authorize === "string" && typeof token === "string"
      ? { authorizationEndpoint: authorize, tokenEndpoint: token }
      : null;
  } catch {
    return null;
  }
}
