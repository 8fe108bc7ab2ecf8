/**
 * obtainCertificate() against tests/_helpers/acme_server.ts: a local ACME
 * server that verifies every JWS, validates http-01 by fetching the
 * challenge from the responder the test runs, and signs the CSR with a
 * throwaway CA. The certificate then serves TLS that Deno's fetch trusts.
 */
import { serveLocal } from "../../../_helpers/local_server.ts";
import assert from "node:assert/strict";
import {
  AcmeError,
  obtainCertificate,
} from "../../../../hub/https/acme/client.ts";
import { startTestAcmeServer } from "../../../_helpers/acme_server.ts";
import { p256Keys } from "../../../_helpers/p256_keys.ts";

/** An http-01 responder on 127.0.0.1: the tokens published to it. */
async function challengeResponder() {
  const tokens = new Map<string, string>();
  const server = await serveLocal((request) => {
    const m = /^\/\.well-known\/acme-challenge\/([A-Za-z0-9_-]+)$/.exec(
      new URL(request.url).pathname,
    );
    const answer = m ? tokens.get(m[1]!) : undefined;
    return answer === undefined
      ? new Response("not found", { status: 404 })
      : new Response(answer);
  });
  return { tokens, port: server.port, [Symbol.asyncDispose]: server.close };
}

const newKey = p256Keys;

Deno.test("obtainCertificate() gets a certificate by http-01 that then serves TLS", async () => {
  await using responder = await challengeResponder();
  await using acme = await startTestAcmeServer({
    validationPort: responder.port,
  });
  const published: string[] = [];
  const issued = await obtainCertificate(["localhost", "hub.onehub.test"], {
    directoryUrl: acme.directoryUrl,
    accountKey: await newKey(),
    emails: ["teacher@example.org"],
    publish: (token, answer) => {
      published.push(token);
      responder.tokens.set(token, answer);
    },
    unpublish: (token) => void responder.tokens.delete(token),
    pollIntervalMs: 20,
  });
  assert.equal(published.length, 2);
  assert.equal(responder.tokens.size, 0, "tokens are unpublished");
  assert.deepEqual(
    acme.validations.map((v) => [v.name, v.status]),
    [["localhost", 200], ["hub.onehub.test", 200]],
  );
  assert.match(issued.privateKeyPem, /^-----BEGIN PRIVATE KEY-----\n/);
  assert.match(issued.certificatePem, /^-----BEGIN CERTIFICATE-----\n/);

  const listening = Promise.withResolvers<Deno.NetAddr>();
  const tls = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    cert: issued.certificatePem,
    key: issued.privateKeyPem,
    onListen: (addr) => listening.resolve(addr),
  }, () => new Response("hello over the ACME certificate"));
  const client = Deno.createHttpClient({ caCerts: [acme.caPem] });
  try {
    const { port } = await listening.promise;
    const res = await fetch(`https://localhost:${port}/`, { client });
    assert.equal(await res.text(), "hello over the ACME certificate");
  } finally {
    client.close();
    await tls.shutdown();
  }
});

Deno.test("obtainCertificate() fails naming the name when the challenge answer is wrong", async () => {
  await using responder = await challengeResponder();
  await using acme = await startTestAcmeServer({
    validationPort: responder.port,
  });
  await assert.rejects(
    obtainCertificate(["localhost"], {
      directoryUrl: acme.directoryUrl,
      accountKey: await newKey(),
      publish: (token) => void responder.tokens.set(token, "wrong"),
      unpublish: (token) => void responder.tokens.delete(token),
      pollIntervalMs: 20,
    }),
    (error) =>
      error instanceof AcmeError &&
      /could not validate localhost: got 200 "wrong"/.test(error.message),
  );
  assert.equal(responder.tokens.size, 0);
});
