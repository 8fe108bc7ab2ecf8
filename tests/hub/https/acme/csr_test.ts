import assert from "node:assert/strict";
import {
  createCsr,
  ecdsaSignatureToDer,
  toPem,
} from "../../../../hub/https/acme/csr.ts";
import { runWithInput } from "../../../_helpers/run_with_input.ts";
import { p256Keys } from "../../../_helpers/p256_keys.ts";

async function openssl(args: string[], input: string): Promise<string> {
  const out = await runWithInput("openssl", { args, input });
  const d = new TextDecoder();
  assert.equal(out.code, 0, d.decode(out.stderr));
  return d.decode(out.stdout) + d.decode(out.stderr);
}

Deno.test("createCsr() writes a CSR openssl verifies, with the names as CN and subjectAltName", async () => {
  const keys = await p256Keys();
  const der = await createCsr(["hub.example.org", "www.example.org"], keys);
  const text = await openssl(
    ["req", "-verify", "-noout", "-text"],
    toPem("CERTIFICATE REQUEST", der),
  );
  assert.match(text, /verify OK|Certificate request self-signature verify OK/);
  assert.match(text, /Subject: CN\s?=\s?hub\.example\.org/);
  assert.match(text, /DNS:hub\.example\.org, DNS:www\.example\.org/);
  assert.match(text, /ecdsa-with-SHA256/);
});

Deno.test("ecdsaSignatureToDer() keeps integers positive and minimal", () => {
  const raw = new Uint8Array(64);
  raw[0] = 0x80; // r has its high bit set: a 0x00 byte goes first
  raw[32 + 31] = 1; // s is 1: leading zeros go
  const der = ecdsaSignatureToDer(raw);
  assert.deepEqual([...der.subarray(0, 4)], [0x30, 2 + 33 + 3, 0x02, 33]);
  assert.deepEqual([...der.subarray(-3)], [0x02, 1, 1]);
});
