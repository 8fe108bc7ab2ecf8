/**
 * An ACME client for one job: get a certificate for some DNS names by the
 * http-01 challenge (RFC 8555), as Let's Encrypt issues them. Account,
 * order, authorizations, challenge, finalize with a fresh ECDSA P-256 key,
 * download of the PEM chain. Every request is a signed POST (POST-as-GET
 * for reads), with the server's nonce, retried once on `badNonce`.
 *
 * The challenge answer is published through callbacks, so the caller
 * decides where `/.well-known/acme-challenge/<token>` is served (the hub
 * answers it on its plain-HTTP port). `fetch` is injected for tests.
 *
 * @module
 */
import { createCsr, toPem } from "./csr.ts";
import {
  b64url,
  type EcPublicJwk,
  jwkThumbprint,
  publicJwk,
  signJws,
} from "./jws.ts";

/** Let's Encrypt's production directory. */
export const LETS_ENCRYPT_DIRECTORY =
  "https://acme-v02.api.letsencrypt.org/directory";

/** An ACME server's problem document (RFC 8555 §6.7), or a protocol failure. */
export class AcmeError extends Error {
  readonly type: string;
  constructor(message: string, type = "") {
    super(message);
    this.name = "AcmeError";
    this.type = type;
  }
}

/** Options for {@linkcode obtainCertificate}. */
export interface AcmeOptions {
  /** The ACME directory URL. @default {LETS_ENCRYPT_DIRECTORY} */
  directoryUrl?: string;
  /** The account key pair (ECDSA P-256); keep it to stay the same account. */
  accountKey: CryptoKeyPair;
  /** Contact e-mail addresses (Let's Encrypt sends expiry notices there). */
  emails?: readonly string[];
  /** Serves `keyAuthorization` at `/.well-known/acme-challenge/<token>`. */
  publish: (token: string, keyAuthorization: string) => void | Promise<void>;
  /** Stops serving a token. */
  unpublish: (token: string) => void | Promise<void>;
  /** @default {globalThis.fetch} */
  fetch?: typeof fetch;
  /** Between status polls. @default {1000} */
  pollIntervalMs?: number;
  /** Give up after this long. @default {180_000} */
  timeoutMs?: number;
}

/** What {@linkcode obtainCertificate} returns. */
export interface IssuedCertificate {
  /** The PEM chain: the certificate first, then intermediates. */
  certificatePem: string;
  /** The new key, PKCS #8 PEM. */
  privateKeyPem: string;
}

interface Directory {
  newNonce: string;
  newAccount: string;
  newOrder: string;
}

interface Order {
  status: string;
  authorizations: string[];
  finalize: string;
  certificate?: string;
  error?: { type?: string; detail?: string };
}

interface Challenge {
  type: string;
  url: string;
  token: string;
  status: string;
}

interface Authorization {
  status: string;
  identifier: { type: string; value: string };
  challenges: Challenge[];
}

/** One ACME conversation: nonces, account URL, signed requests. */
class Session {
  readonly #options: AcmeOptions;
  readonly #fetch: typeof fetch;
  #nonce: string | null = null;
  #kid: string | null = null;
  #jwk: EcPublicJwk | null = null;
  directory!: Directory;

  constructor(options: AcmeOptions) {
    this.#options = options;
    this.#fetch = options.fetch ?? globalThis.fetch;
  }

  async start(): Promise<void> {
    const res = await this.#fetch(
      this.#options.directoryUrl ?? LETS_ENCRYPT_DIRECTORY,
    );
    if (!res.ok) {
      await res.body?.cancel();
      throw new AcmeError(`ACME directory answered ${res.status}`);
    }
    this.directory = await res.json() as Directory;
    this.#jwk = await publicJwk(this.#options.accountKey.publicKey);
  }

  async thumbprint(): Promise<string> {
    return await jwkThumbprint(this.#jwk!);
  }

  async #freshNonce(): Promise<string> {
    if (this.#nonce) {
      const nonce = this.#nonce;
      this.#nonce = null;
      return nonce;
    }
    const res = await this.#fetch(this.directory.newNonce, { method: "HEAD" });
    await res.body?.cancel();
    const nonce = res.headers.get("replay-nonce");
    if (!nonce) throw new AcmeError("ACME server sent no Replay-Nonce");
    return nonce;
  }

  /** A signed POST (`payload` null: POST-as-GET); the account's kid once known. */
  async post(
    url: string,
    payload: unknown,
    accept?: string,
  ): Promise<Response> {
    for (let attempt = 0;; attempt++) {
      const header = {
        nonce: await this.#freshNonce(),
        url,
        ...(this.#kid ? { kid: this.#kid } : { jwk: this.#jwk! }),
      };
      const key = this.#options.accountKey.privateKey;
      const jws = await signJws(key, { header, payload });
      const res = await this.#fetch(url, {
        method: "POST",
        headers: {
          "content-type": "application/jose+json",
          ...(accept ? { accept } : {}),
        },
        body: JSON.stringify(jws),
      });
      this.#nonce = res.headers.get("replay-nonce") ?? this.#nonce;
      if (res.ok) return res;
      const problem = await res.json().catch(() => ({})) as {
        type?: string;
        detail?: string;
      };
      if (
        problem.type === "urn:ietf:params:acme:error:badNonce" && attempt === 0
      ) continue;
      throw new AcmeError(
        `ACME ${new URL(url).pathname} answered ${res.status}: ${
          problem.detail ?? problem.type ?? "no detail"
        }`,
        problem.type ?? "",
      );
    }
  }

  async account(): Promise<void> {
    const emails = this.#options.emails ?? [];
    const res = await this.post(this.directory.newAccount, {
      termsOfServiceAgreed: true,
      ...(emails.length ? { contact: emails.map((e) => `mailto:${e}`) } : {}),
    });
    await res.body?.cancel();
    const kid = res.headers.get("location");
    if (!kid) throw new AcmeError("ACME newAccount sent no Location");
    this.#kid = kid;
  }
}

/** Polls an ACME resource (POST-as-GET) until `done`, or fails at the deadline. */
type Poll = <T extends { status: string }>(
  url: string,
  done: (value: T) => boolean,
) => Promise<T>;

function poller(acme: Session, options: AcmeOptions): Poll {
  const interval = options.pollIntervalMs ?? 1000;
  const deadline = Date.now() + (options.timeoutMs ?? 180_000);
  return async <T extends { status: string }>(
    url: string,
    done: (value: T) => boolean,
  ) => {
    for (;;) {
      const value = await (await acme.post(url, null)).json() as T;
      if (done(value)) return value;
      if (Date.now() > deadline) {
        throw new AcmeError(
          `ACME ${
            new URL(url).pathname
          } still "${value.status}" at the deadline`,
        );
      }
      await new Promise((r) => setTimeout(r, interval));
    }
  };
}

/** Step 1: one authorization proved by http-01 (the answer published while the server checks). */
async function authorize(
  acme: Session,
  authzUrl: string,
  thumbprint: string,
  options: AcmeOptions,
  poll: Poll,
): Promise<void> {
  const authz = await (await acme.post(authzUrl, null)).json() as Authorization;
  if (authz.status === "valid") return;
  const challenge = authz.challenges.find((c) => c.type === "http-01");
  if (!challenge) {
    throw new AcmeError(
      `ACME offers no http-01 challenge for ${authz.identifier.value}`,
    );
  }
  await options.publish(challenge.token, `${challenge.token}.${thumbprint}`);
  try {
    await (await acme.post(challenge.url, {})).body?.cancel();
    const final = await poll<Authorization>(
      authzUrl,
      (a) => a.status !== "pending" && a.status !== "processing",
    );
    if (final.status !== "valid") {
      const failed = final.challenges.find((c) => c.type === "http-01") as
        | (Challenge & { error?: { detail?: string } })
        | undefined;
      throw new AcmeError(
        `ACME could not validate ${authz.identifier.value}: ${
          failed?.error?.detail ?? final.status
        }`,
      );
    }
  } finally {
    await options.unpublish(challenge.token);
  }
}

/** Step 2: a fresh P-256 key, its CSR sent, the order polled until the chain can be fetched. */
async function finalize(
  acme: Session,
  names: readonly string[],
  order: Order,
  orderUrl: string,
  poll: Poll,
): Promise<IssuedCertificate> {
  const certKeys = await crypto.subtle.generateKey(
    { name: "ECDSA", namedCurve: "P-256" },
    true,
    ["sign", "verify"],
  ) as CryptoKeyPair;
  const csr = await createCsr(names, certKeys);
  await (await acme.post(order.finalize, { csr: b64url(csr) })).body?.cancel();
  const ready = await poll<Order>(
    orderUrl,
    (o) => o.status === "valid" || o.status === "invalid",
  );
  if (ready.status !== "valid" || !ready.certificate) {
    throw new AcmeError(
      `ACME order ended "${ready.status}": ${
        ready.error?.detail ?? "no detail"
      }`,
    );
  }
  const chain = await (await acme.post(
    ready.certificate,
    null,
    "application/pem-certificate-chain",
  ))
    .text();
  if (!chain.includes("-----BEGIN CERTIFICATE-----")) {
    throw new AcmeError("ACME sent a certificate that is not PEM");
  }
  const pkcs8 = new Uint8Array(
    await crypto.subtle.exportKey("pkcs8", certKeys.privateKey),
  );
  return { certificatePem: chain, privateKeyPem: toPem("PRIVATE KEY", pkcs8) };
}

/**
 * Gets a certificate for `names` by http-01 (module doc).
 *
 * @throws {AcmeError} naming the step and the server's detail.
 */
export async function obtainCertificate(
  names: readonly string[],
  options: AcmeOptions,
): Promise<IssuedCertificate> {
  if (names.length === 0) throw new AcmeError("No names to certify");
  const acme = new Session(options);
  const poll = poller(acme, options);
  await acme.start();
  await acme.account();
  const thumbprint = await acme.thumbprint();
  const made = await acme.post(acme.directory.newOrder, {
    identifiers: names.map((value) => ({ type: "dns", value })),
  });
  const orderUrl = made.headers.get("location");
  const order = await made.json() as Order;
  if (!orderUrl) throw new AcmeError("ACME newOrder sent no Location");
  for (const authzUrl of order.authorizations) {
    await authorize(acme, authzUrl, thumbprint, options, poll);
  }
  return await finalize(acme, names, order, orderUrl, poll);
}
