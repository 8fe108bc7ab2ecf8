/**
 * API tokens, login cookies and OAuth codes: creation and hashing (pure +
 * WebCrypto). Secrets are 32 random bytes in base64url; the database keeps
 * only a SHA-256 hash plus a short prefix for lookup. Hashes of high-entropy
 * secrets need no salt or stretching (jupyterhub uses 0 rounds for the same
 * reason, `jupyterhub/orm.py` Hashed).
 *
 * @module
 */
import { timingSafeEqual } from "node:crypto";

/** Characters of the token kept in clear for lookup. */
export const TOKEN_PREFIX_LENGTH = 4;

/** A new random secret: 32 bytes, base64url (43 characters). */
export function newSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return bytes.toBase64({ alphabet: "base64url", omitPadding: true });
}

/** Hex SHA-256 of a secret. */
export async function hashSecret(secret: string): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(secret),
  );
  return new Uint8Array(digest).toHex();
}

/** The lookup prefix of a token. */
export function tokenPrefix(token: string): string {
  return token.slice(0, TOKEN_PREFIX_LENGTH);
}

/** Constant-time comparison of two hex hashes. */
export function sameHash(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  return timingSafeEqual(
    new TextEncoder().encode(a),
    new TextEncoder().encode(b),
  );
}

/** Token ids on the wire are "a" + row id (JupyterHub's api-token ids). */
export function tokenIdToWire(id: number): string {
  return `a${id}`;
}

/** Parses a wire token id ("a8" → 8), or null when malformed. */
export function tokenIdFromWire(wire: string): number | null {
  const m = /^a([1-9]\d{0,15})$/.exec(wire);
  return m ? Number(m[1]) : null;
}
