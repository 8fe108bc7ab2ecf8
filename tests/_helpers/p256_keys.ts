/**
 * `p256Keys()`: a fresh extractable ECDSA P-256 key pair for signing, the
 * kind ACME accounts and certificate requests use.
 *
 * @module
 */

/** A new extractable ECDSA P-256 key pair (sign and verify). */
export function p256Keys(): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey(
    { name: "ECDSA", namedCurve: "P-256" },
    true,
    ["sign", "verify"],
  ) as Promise<CryptoKeyPair>;
}
