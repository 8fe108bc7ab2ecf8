import assert from "node:assert/strict";
import {
  b64url,
  jwkThumbprint,
  publicJwk,
  signJws,
} from "../../../../hub/https/acme/jws.ts";
import { p256Keys } from "../../../_helpers/p256_keys.ts";

Deno.test("jwkThumbprint() matches RFC 7638's canonical form for an EC key", async () => {
  // Fixed coordinates: the thumbprint is SHA-256 over the sorted members.
  const jwk = { kty: "EC", crv: "P-256", x: "AAAA", y: "BBBB" } as const;
  const expected = b64url(
    new Uint8Array(
      await crypto.subtle.digest(
        "SHA-256",
        new TextEncoder().encode(
          '{"crv":"P-256","kty":"EC","x":"AAAA","y":"BBBB"}',
        ),
      ),
    ),
  );
  assert.equal(await jwkThumbprint(jwk), expected);
});

Deno.test("signJws() makes a flattened ES256 JWS its public key verifies; null payload is POST-as-GET", async () => {
  const keys = await p256Keys();
  const jwk = await publicJwk(keys.publicKey);
  for (const payload of [{ termsOfServiceAgreed: true }, null]) {
    const jws = await signJws(keys.privateKey, {
      header: { nonce: "n1", url: "https://acme.test/new-acct", jwk },
      payload,
    });
    const header = JSON.parse(
      new TextDecoder().decode(
        Uint8Array.fromBase64(jws.protected, { alphabet: "base64url" }),
      ),
    );
    assert.deepEqual(header, {
      alg: "ES256",
      nonce: "n1",
      url: "https://acme.test/new-acct",
      jwk,
    });
    assert.equal(jws.payload === "", payload === null);
    const ok = await crypto.subtle.verify(
      { name: "ECDSA", hash: "SHA-256" },
      keys.publicKey,
      Uint8Array.fromBase64(jws.signature, { alphabet: "base64url" }),
      new TextEncoder().encode(`${jws.protected}.${jws.payload}`),
    );
    assert.ok(ok);
  }
});
