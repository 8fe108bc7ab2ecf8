/**
 * A certificate signing request (PKCS #10, RFC 2986) for an ECDSA P-256 key
 * made with WebCrypto, written with a minimal DER encoder: what ACME's
 * finalize step sends (RFC 8555 §7.4). Subject CN is the first name; every
 * name goes in a subjectAltName extension (RFC 5280 §4.2.1.6), which is what
 * certificate authorities read.
 *
 * @module
 */

/** DER: a tag, a length and the content (X.690 §8.1). */
function tlv(tag: number, content: Uint8Array): Uint8Array {
  const n = content.length;
  const length = n < 0x80
    ? [n]
    : n < 0x100
    ? [0x81, n]
    : n < 0x10000
    ? [0x82, n >> 8, n & 0xff]
    : [0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
  const out = new Uint8Array(1 + length.length + n);
  out[0] = tag;
  out.set(length, 1);
  out.set(content, 1 + length.length);
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const sequence = (...parts: Uint8Array[]) => tlv(0x30, concat(...parts));
const set = (...parts: Uint8Array[]) => tlv(0x31, concat(...parts));
const utf8 = (text: string) => tlv(0x0c, new TextEncoder().encode(text));
const octets = (bytes: Uint8Array) => tlv(0x04, bytes);
const bitString = (bytes: Uint8Array) =>
  tlv(0x03, concat(new Uint8Array([0]), bytes));

/** An OBJECT IDENTIFIER from its dotted form (X.690 §8.19). */
function oid(dotted: string): Uint8Array {
  const [a, b, ...rest] = dotted.split(".").map(Number);
  const bytes = [a! * 40 + b!];
  for (const n of rest) {
    const chunk = [n & 0x7f];
    for (let v = n >>> 7; v > 0; v >>>= 7) chunk.unshift((v & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return tlv(0x06, new Uint8Array(bytes));
}

/** A non-negative INTEGER from big-endian bytes (leading zeros trimmed, sign byte added). */
function unsignedInteger(bytes: Uint8Array): Uint8Array {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  const trimmed = bytes.subarray(i);
  return tlv(
    0x02,
    trimmed[0]! & 0x80 ? concat(new Uint8Array([0]), trimmed) : trimmed,
  );
}

/** WebCrypto's ECDSA signature (r ‖ s) as the DER SEQUENCE X.509 wants (RFC 3279 §2.2.3). */
export function ecdsaSignatureToDer(raw: Uint8Array): Uint8Array {
  const half = raw.length / 2;
  return sequence(
    unsignedInteger(raw.subarray(0, half)),
    unsignedInteger(raw.subarray(half)),
  );
}

const OID_COMMON_NAME = "2.5.4.3";
const OID_EXTENSION_REQUEST = "1.2.840.113549.1.9.14";
const OID_SUBJECT_ALT_NAME = "2.5.29.17";
const OID_ECDSA_WITH_SHA256 = "1.2.840.10045.4.3.2";

/**
 * The DER of a CSR for `names` (DNS names), signed with `keys`.
 *
 * @param keys An ECDSA P-256 key pair whose public key is extractable.
 */
export async function createCsr(
  names: readonly string[],
  keys: CryptoKeyPair,
): Promise<Uint8Array<ArrayBuffer>> {
  if (names.length === 0) throw new Error("A CSR needs at least one name");
  const spki = new Uint8Array(
    await crypto.subtle.exportKey("spki", keys.publicKey),
  );
  const subject = sequence(
    set(sequence(oid(OID_COMMON_NAME), utf8(names[0]!))),
  );
  const altNames = sequence(
    ...names.map((n) => tlv(0x82, new TextEncoder().encode(n))), // [2] dNSName
  );
  const extensions = sequence(
    sequence(oid(OID_SUBJECT_ALT_NAME), octets(altNames)),
  );
  const attributes = tlv(
    0xa0, // [0] attributes
    sequence(oid(OID_EXTENSION_REQUEST), set(extensions)),
  );
  const info = sequence(
    tlv(0x02, new Uint8Array([0])), // version 0
    subject,
    spki,
    attributes,
  );
  const signature = new Uint8Array(
    await crypto.subtle.sign(
      { name: "ECDSA", hash: "SHA-256" },
      keys.privateKey,
      info as Uint8Array<ArrayBuffer>,
    ),
  );
  const der = sequence(
    info,
    sequence(oid(OID_ECDSA_WITH_SHA256)),
    bitString(ecdsaSignatureToDer(signature)),
  );
  return new Uint8Array(der);
}

/** PEM armour of DER bytes. */
export function toPem(label: string, der: Uint8Array): string {
  const b64 = (der as Uint8Array<ArrayBuffer>).toBase64();
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${
    lines.join("\n")
  }\n-----END ${label}-----\n`;
}
