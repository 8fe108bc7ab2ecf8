/**
 * Let's Encrypt for the hub (`https.letsencrypt.*`): the certificate, its
 * key and the ACME account key live in `{data_dir}/certs` (0700, files
 * 0600). {@linkcode ensureCertificate} returns the stored certificate while
 * it covers the domains and has more than {@linkcode RENEW_BEFORE_DAYS}
 * days left, and otherwise gets a new one by http-01 (client.ts), whose
 * challenges {@linkcode AcmeChallenges} answers on the plain-HTTP port.
 *
 * Imports: ./client.ts, node:crypto (X509Certificate, only here).
 *
 * @module
 */
import { X509Certificate } from "node:crypto";
import { obtainCertificate } from "./client.ts";
import type { Logger } from "../../observe/log.ts";

export { AcmeError, LETS_ENCRYPT_DIRECTORY } from "./client.ts";

/** Renew when fewer days than this are left (Let's Encrypt: 90-day certificates). */
export const RENEW_BEFORE_DAYS = 30;

/** The path prefix of http-01 answers (RFC 8555 §8.3). */
export const CHALLENGE_PREFIX = "/.well-known/acme-challenge/";

/** The http-01 answers being published: token → key authorization. */
export class AcmeChallenges {
  readonly #answers = new Map<string, string>();

  set(token: string, answer: string): void {
    this.#answers.set(token, answer);
  }

  delete(token: string): void {
    this.#answers.delete(token);
  }

  /** The answer for a request path, or null when it is not a known challenge. */
  answer(path: string): string | null {
    if (!path.startsWith(CHALLENGE_PREFIX)) return null;
    return this.#answers.get(path.slice(CHALLENGE_PREFIX.length)) ?? null;
  }
}

/** What {@linkcode needsRenewal} checks a certificate against. */
export interface RenewalCheck {
  /** Every name the certificate must cover. */
  domains: readonly string[];
  now: Date;
  /** Renew when it expires within this many days. @default {RENEW_BEFORE_DAYS} */
  days?: number;
}

/** Whether `pem` needs replacing: it misses a domain or expires within `days`. */
export function needsRenewal(pem: string, check: RenewalCheck): boolean {
  const { domains, now, days = RENEW_BEFORE_DAYS } = check;
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch {
    return true;
  }
  const names = new Set(
    (cert.subjectAltName ?? "").split(",").map((n) => n.trim())
      .filter((n) => n.startsWith("DNS:")).map((n) => n.slice(4).toLowerCase()),
  );
  if (domains.some((d) => !names.has(d.toLowerCase()))) return true;
  const left = Date.parse(cert.validTo) - now.getTime();
  return left < days * 24 * 3600_000;
}

/** Options for {@linkcode ensureCertificate}. */
export interface EnsureCertificateOptions {
  domains: readonly string[];
  email: string;
  directoryUrl: string;
  /** `{data_dir}/certs`. */
  dir: string;
  challenges: AcmeChallenges;
  logger: Logger;
  /** @default {globalThis.fetch} */
  fetch?: typeof fetch;
  /** @default {() => new Date()} */
  now?: () => Date;
  /** @default {1000} */
  pollIntervalMs?: number;
}

/** A certificate ready for a TLS listener. */
export interface ManagedCertificate {
  cert: string;
  key: string;
  /** True when it was just obtained. */
  renewed: boolean;
}

async function readIfExists(path: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}

/** Writes a private file atomically, mode 0600. */
async function writePrivate(path: string, text: string): Promise<void> {
  const temp = `${path}.new`;
  await Deno.writeTextFile(temp, text, { mode: 0o600 });
  await Deno.chmod(temp, 0o600);
  await Deno.rename(temp, path);
}

/** The ACME account key, made (and kept) on first use. */
async function accountKey(dir: string): Promise<CryptoKeyPair> {
  const path = `${dir}/account.json`;
  const saved = await readIfExists(path);
  const algorithm = { name: "ECDSA", namedCurve: "P-256" };
  if (saved) {
    const jwk = JSON.parse(saved) as JsonWebKey;
    const privateKey = await crypto.subtle.importKey(
      "jwk",
      jwk,
      algorithm,
      true,
      ["sign"],
    );
    const { d: _d, ...pub } = jwk;
    const publicKey = await crypto.subtle.importKey(
      "jwk",
      { ...pub, key_ops: ["verify"] },
      algorithm,
      true,
      ["verify"],
    );
    return { privateKey, publicKey };
  }
  const keys = await crypto.subtle.generateKey(algorithm, true, [
    "sign",
    "verify",
  ]) as CryptoKeyPair;
  const jwk = await crypto.subtle.exportKey("jwk", keys.privateKey);
  await writePrivate(path, JSON.stringify(jwk));
  return keys;
}

/**
 * The stored certificate, or a new one from the ACME server when it is
 * missing, misses a domain or expires within {@linkcode RENEW_BEFORE_DAYS}
 * days (module doc).
 *
 * @throws {AcmeError} when the ACME server refuses (the message names the step).
 */
export async function ensureCertificate(
  options: EnsureCertificateOptions,
): Promise<ManagedCertificate> {
  const now = options.now?.() ?? new Date();
  await Deno.mkdir(options.dir, { recursive: true, mode: 0o700 });
  await Deno.chmod(options.dir, 0o700);
  const certPath = `${options.dir}/cert.pem`;
  const keyPath = `${options.dir}/key.pem`;
  const [cert, key] = await Promise.all([
    readIfExists(certPath),
    readIfExists(keyPath),
  ]);
  if (cert && key && !needsRenewal(cert, { domains: options.domains, now })) {
    return { cert, key, renewed: false };
  }
  options.logger.info("getting a certificate from the ACME server", {
    domains: options.domains.join(","),
    directory: options.directoryUrl,
  });
  const issued = await obtainCertificate(options.domains, {
    directoryUrl: options.directoryUrl,
    accountKey: await accountKey(options.dir),
    emails: options.email ? [options.email] : [],
    publish: (token, answer) => options.challenges.set(token, answer),
    unpublish: (token) => options.challenges.delete(token),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.pollIntervalMs
      ? { pollIntervalMs: options.pollIntervalMs }
      : {}),
  });
  await writePrivate(keyPath, issued.privateKeyPem);
  await writePrivate(certPath, issued.certificatePem);
  options.logger.info("certificate obtained", {
    domains: options.domains.join(","),
    expires: new X509Certificate(issued.certificatePem).validTo,
  });
  return {
    cert: issued.certificatePem,
    key: issued.privateKeyPem,
    renewed: true,
  };
}
