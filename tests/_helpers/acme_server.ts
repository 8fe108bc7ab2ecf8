/**
 * A small ACME server for tests (RFC 8555, the parts an http-01 client
 * uses), on 127.0.0.1: directory, nonces (each used once), accounts (JWS
 * verified with the account's JWK or by its kid), orders, authorizations,
 * http-01 validation by fetching
 * `http://127.0.0.1:<validationPort>/.well-known/acme-challenge/<token>`
 * for every name, finalize (the CSR is signed by a throwaway CA with
 * openssl) and the PEM chain. `acme.validations` records each fetch.
 *
 * @module
 */
import { serveLocal } from "./local_server.ts";
import { makeTestCertificate } from "./tls.ts";

interface Account {
  url: string;
  key: CryptoKey;
  thumbprint: string;
}

interface OrderState {
  names: string[];
  status: string;
  authz: string[];
  certificate?: string;
}

interface AuthzState {
  name: string;
  token: string;
  status: string;
  error?: string;
}

/** A running test ACME server. */
export interface TestAcmeServer extends AsyncDisposable {
  directoryUrl: string;
  /** The CA that signs (for `Deno.createHttpClient({ caCerts })`). */
  caPem: string;
  /** Every challenge fetch: the name and what the client answered. */
  validations: Array<{ name: string; status: number; body: string }>;
}

const decoder = new TextDecoder();
const fromB64url = (s: string) =>
  Uint8Array.fromBase64(s, { alphabet: "base64url" });

async function thumbprintOf(jwk: Record<string, string>): Promise<string> {
  const canonical =
    `{"crv":"${jwk.crv}","kty":"${jwk.kty}","x":"${jwk.x}","y":"${jwk.y}"}`;
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(canonical),
  );
  return new Uint8Array(digest).toBase64({
    alphabet: "base64url",
    omitPadding: true,
  });
}

/**
 * Starts the server; `validationPort` is where challenges are fetched,
 * `days` how long certificates last (default 90, as Let's Encrypt's).
 */
export async function startTestAcmeServer(
  options: {
    validationPort: number;
    /** Days a certificate lasts, or a function of its number (1, 2, …). */
    days?: number | ((n: number) => number);
  },
): Promise<TestAcmeServer> {
  const dir = await Deno.makeTempDir({ prefix: "onehub-acme-" });
  const ca = await makeTestCertificate(dir);
  const caKey = `${dir}/ca.key`;
  const caCert = `${dir}/ca.pem`;
  const nonces = new Set<string>();
  const accounts = new Map<string, Account>();
  const orders = new Map<string, OrderState>();
  const authzs = new Map<string, AuthzState>();
  const certs = new Map<string, string>();
  const validations: TestAcmeServer["validations"] = [];
  let serial = 0;
  let base = "";

  const nonce = () => {
    const n = crypto.randomUUID();
    nonces.add(n);
    return n;
  };
  const reply = (status: number, body: unknown, headers: HeadersInit = {}) =>
    new Response(body === null ? null : JSON.stringify(body), {
      status,
      headers: {
        "content-type": status >= 400
          ? "application/problem+json"
          : "application/json",
        "replay-nonce": nonce(),
        ...headers,
      },
    });
  const problem = (status: number, type: string, detail: string) =>
    reply(status, { type: `urn:ietf:params:acme:error:${type}`, detail });

  /** Verifies a JWS POST; returns its payload and the account. */
  const verify = async (request: Request, url: string) => {
    const jws = await request.json() as Record<string, string>;
    const header = JSON.parse(decoder.decode(fromB64url(jws.protected!)));
    if (header.alg !== "ES256") {
      throw problem(400, "badSignatureAlgorithm", header.alg);
    }
    if (!nonces.delete(header.nonce)) {
      throw problem(400, "badNonce", "unknown nonce");
    }
    if (header.url !== url) throw problem(401, "unauthorized", "url mismatch");
    let account: Account | undefined;
    let key: CryptoKey;
    if (header.jwk) {
      key = await crypto.subtle.importKey(
        "jwk",
        header.jwk,
        { name: "ECDSA", namedCurve: "P-256" },
        true,
        ["verify"],
      );
    } else {
      account = accounts.get(header.kid);
      if (!account) {
        throw problem(400, "accountDoesNotExist", String(header.kid));
      }
      key = account.key;
    }
    const ok = await crypto.subtle.verify(
      { name: "ECDSA", hash: "SHA-256" },
      key,
      fromB64url(jws.signature!),
      new TextEncoder().encode(`${jws.protected}.${jws.payload}`),
    );
    if (!ok) throw problem(403, "unauthorized", "bad signature");
    const payload = jws.payload === ""
      ? null
      : JSON.parse(decoder.decode(fromB64url(jws.payload!)));
    return { payload, account, header, key };
  };

  const validate = async (account: Account, authz: AuthzState) => {
    try {
      const res = await fetch(
        `http://127.0.0.1:${options.validationPort}/.well-known/acme-challenge/${authz.token}`,
        { headers: { host: authz.name } },
      );
      const body = (await res.text()).trim();
      validations.push({ name: authz.name, status: res.status, body });
      authz.status = body === `${authz.token}.${account.thumbprint}`
        ? "valid"
        : "invalid";
      if (authz.status === "invalid") {
        authz.error = `got ${res.status} "${body}"`;
      }
    } catch (error) {
      authz.status = "invalid";
      authz.error = (error as Error).message;
    }
  };

  const issue = async (csrDer: Uint8Array): Promise<string> => {
    const id = ++serial;
    const csrPem = `-----BEGIN CERTIFICATE REQUEST-----\n${
      (csrDer as Uint8Array<ArrayBuffer>).toBase64().match(/.{1,64}/g)!.join(
        "\n",
      )
    }\n-----END CERTIFICATE REQUEST-----\n`;
    await Deno.writeTextFile(`${dir}/${id}.csr`, csrPem);
    const out = await new Deno.Command("openssl", {
      args: [
        "x509",
        "-req",
        "-in",
        `${dir}/${id}.csr`,
        "-CA",
        caCert,
        "-CAkey",
        caKey,
        "-CAcreateserial",
        "-days",
        String(
          typeof options.days === "function"
            ? options.days(id)
            : options.days ?? 90,
        ),
        "-copy_extensions",
        "copy",
        "-out",
        `${dir}/${id}.pem`,
      ],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (out.code !== 0) throw new Error(decoder.decode(out.stderr));
    return await Deno.readTextFile(`${dir}/${id}.pem`) + ca.caPem;
  };

  const server = await serveLocal(async (request) => {
    const url = new URL(request.url);
    const full = `${base}${url.pathname}`;
    const path = url.pathname;
    try {
      if (path === "/directory") {
        return Response.json({
          newNonce: `${base}/new-nonce`,
          newAccount: `${base}/new-account`,
          newOrder: `${base}/new-order`,
        });
      }
      if (path === "/new-nonce") return reply(200, null);
      if (request.method !== "POST") return problem(405, "malformed", "POST");
      const { payload, account, header, key } = await verify(request, full);
      if (path === "/new-account") {
        if (payload?.termsOfServiceAgreed !== true) {
          return problem(400, "malformed", "terms not agreed");
        }
        const accountUrl = `${base}/acct/${accounts.size + 1}`;
        accounts.set(accountUrl, {
          url: accountUrl,
          key,
          thumbprint: await thumbprintOf(header.jwk),
        });
        return reply(201, { status: "valid", contact: payload.contact ?? [] }, {
          location: accountUrl,
        });
      }
      if (!account) return problem(400, "malformed", "use kid");
      if (path === "/new-order") {
        const id = String(orders.size + 1);
        const names = (payload.identifiers as Array<{ value: string }>).map((
          i,
        ) => i.value);
        const authz = names.map((name, i) => {
          const a = `${id}-${i}`;
          authzs.set(a, {
            name,
            token: crypto.randomUUID(),
            status: "pending",
          });
          return a;
        });
        orders.set(id, { names, status: "pending", authz });
        return reply(201, orderBody(id), { location: `${base}/order/${id}` });
      }
      const [, kind, id] = path.split("/");
      if (kind === "authz" && authzs.has(id!)) {
        return reply(200, authzBody(id!));
      }
      if (kind === "chall" && authzs.has(id!)) {
        const a = authzs.get(id!)!;
        a.status = "processing";
        queueMicrotask(() => void validate(account, a));
        return reply(200, authzBody(id!).challenges[0]);
      }
      if (kind === "order" && orders.has(id!)) {
        return reply(200, orderBody(id!));
      }
      if (kind === "finalize" && orders.has(id!)) {
        const order = orders.get(id!)!;
        if (!order.authz.every((a) => authzs.get(a)!.status === "valid")) {
          return problem(403, "orderNotReady", "authorizations not valid");
        }
        const cert = await issue(fromB64url(payload.csr));
        certs.set(id!, cert);
        order.status = "valid";
        order.certificate = `${base}/cert/${id}`;
        return reply(200, orderBody(id!));
      }
      if (kind === "cert" && certs.has(id!)) {
        return new Response(certs.get(id!)!, {
          headers: {
            "content-type": "application/pem-certificate-chain",
            "replay-nonce": nonce(),
          },
        });
      }
      return problem(404, "malformed", `no ${path}`);
    } catch (error) {
      if (error instanceof Response) return error;
      return problem(500, "serverInternal", (error as Error).message);
    }
  });

  function authzBody(id: string) {
    const a = authzs.get(id)!;
    return {
      status: a.status,
      identifier: { type: "dns", value: a.name },
      challenges: [{
        type: "http-01",
        url: `${base}/chall/${id}`,
        token: a.token,
        status: a.status,
        ...(a.error ? { error: { detail: a.error } } : {}),
      }],
    };
  }

  function orderBody(id: string) {
    const o = orders.get(id)!;
    return {
      status: o.status,
      identifiers: o.names.map((value) => ({ type: "dns", value })),
      authorizations: o.authz.map((a) => `${base}/authz/${a}`),
      finalize: `${base}/finalize/${id}`,
      ...(o.certificate ? { certificate: o.certificate } : {}),
    };
  }

  base = server.origin;
  return {
    directoryUrl: `${base}/directory`,
    caPem: ca.caPem,
    validations,
    async [Symbol.asyncDispose]() {
      await server.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}
