/**
 * ACME's request signing (RFC 8555 §6.2): flattened JWS JSON (RFC 7515
 * §7.2.2) with ES256 (RFC 7518 §3.4: the raw r ‖ s WebCrypto returns), the
 * account key as `jwk` until the account exists and its URL as `kid` after,
 * the server's nonce and the request URL in the protected header; and the
 * JWK thumbprint (RFC 7638) that key authorizations are built from
 * (RFC 8555 §8.1).
 *
 * @module
 */

/** A public ECDSA P-256 key as a JWK with only the members RFC 7638 hashes. */
export interface EcPublicJwk {
  kty: "EC";
  crv: "P-256";
  x: string;
  y: string;
}

const encoder = new TextEncoder();

/** Base64url without padding (RFC 7515 §2). */
export function b64url(data: Uint8Array | string): string {
  const bytes = typeof data === "string" ? encoder.encode(data) : data;
  return (bytes as Uint8Array<ArrayBuffer>).toBase64({
    alphabet: "base64url",
    omitPadding: true,
  });
}

/** The public JWK of an ECDSA P-256 key. */
export async function publicJwk(key: CryptoKey): Promise<EcPublicJwk> {
  const jwk = await crypto.subtle.exportKey("jwk", key);
  if (jwk.kty !== "EC" || jwk.crv !== "P-256" || !jwk.x || !jwk.y) {
    throw new Error("The ACME account key must be an ECDSA P-256 key");
  }
  return { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y };
}

/** The JWK thumbprint: SHA-256 of the required members in lexical order (RFC 7638 §3). */
export async function jwkThumbprint(jwk: EcPublicJwk): Promise<string> {
  const canonical =
    `{"crv":"${jwk.crv}","kty":"${jwk.kty}","x":"${jwk.x}","y":"${jwk.y}"}`;
  const digest = await crypto.subtle.digest(
    "SHA-256",
    encoder.encode(canonical),
  );
  return b64url(new Uint8Array(digest));
}

/** What {@linkcode signJws} puts in the protected header besides `alg`. */
export interface JwsHeader {
  nonce: string;
  url: string;
  /** The account URL, once there is one. */
  kid?: string;
  /** The public key, for newAccount (and only there). */
  jwk?: EcPublicJwk;
}

/** A flattened JWS JSON object. */
export interface FlattenedJws {
  protected: string;
  payload: string;
  signature: string;
}

/**
 * Signs `payload` (an object, or `null` for POST-as-GET, whose payload is
 * the empty string: RFC 8555 §6.3).
 */
export async function signJws(
  privateKey: CryptoKey,
  message: { header: JwsHeader; payload: unknown },
): Promise<FlattenedJws> {
  const { header, payload } = message;
  const protectedHeader = b64url(JSON.stringify({ alg: "ES256", ...header }));
  const body = payload === null ? "" : b64url(JSON.stringify(payload));
  const signature = await crypto.subtle.sign(
    { name: "ECDSA", hash: "SHA-256" },
    privateKey,
    encoder.encode(`${protectedHeader}.${body}`),
  );
  return {
    protected: protectedHeader,
    payload: body,
    signature: b64url(new Uint8Array(signature)),
  };
}
