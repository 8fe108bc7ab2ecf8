/**
 * API tokens, login cookies and OAuth codes: creation and hashing (pure +
 * WebCrypto). Secrets are 32 random bytes in base64url; the database keeps
 * only a SHA-256 hash plus a short prefix for lookup. Hashes of high-entropy
 * secrets need no salt or stretching (jupyterhub uses 0 rounds for the same
 * reason, `jupyterhub/orm.py` Hashed).
 *
 * @module
 */

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

/**
 * Compares two strings in time that depends only on their lengths, not on
 * where they differ (a plain loop instead of node:crypto, which costs about
 * 5 MiB of memory to load).
 */
export function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** Constant-time comparison of two hex hashes. */
export function sameHash(a: string, b: string): boolean {
  return constantTimeEqual(a, b);
}

/** Hashes of recently seen tokens, so a busy client does not pay for SHA-256 on every request. */
const HASH_CACHE = new Map<string, string>();
const HASH_CACHE_SIZE = 1024;

/**
 * {@linkcode hashSecret} with a small in-memory memo. The memo never decides
 * anything: lookups still go to the database, so a revoked token stops
 * working at once.
 */
export async function hashSecretCached(secret: string): Promise<string> {
  let hash = HASH_CACHE.get(secret);
  if (hash === undefined) {
    hash = await hashSecret(secret);
    if (HASH_CACHE.size >= HASH_CACHE_SIZE) HASH_CACHE.clear();
    HASH_CACHE.set(secret, hash);
  }
  return hash;
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
