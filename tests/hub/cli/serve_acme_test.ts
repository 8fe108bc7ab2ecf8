/**
 * `onehub serve` with `https.letsencrypt.*` against a local ACME server: the
 * plain port answers the http-01 challenge, the certificate is stored 0600
 * and served, a restart reuses it, and needsRenewal() decides renewals.
 */
import assert from "node:assert/strict";
import { freePorts } from "../../_helpers/free_ports.ts";
import { X509Certificate } from "node:crypto";
import { startMain } from "../../_helpers/serve_process.ts";
import { startTestAcmeServer } from "../../_helpers/acme_server.ts";
import { needsRenewal } from "../../../hub/https/acme/mod.ts";
import { resolveConfig } from "../../../hub/config/mod.ts";
import { migrateToLatest, openDatabase } from "../../../hub/db/mod.ts";
import { createUsers } from "../../../hub/db/users.ts";
import { createAuthenticator } from "../../../hub/auth/mod.ts";
import { silentLogger } from "../../../hub/observe/log.ts";
import { startHub } from "../../../hub/mod.ts";

Deno.test("serve gets a Let's Encrypt-style certificate by http-01, serves it, keeps it 0600 and reuses it after a restart", async () => {
  const [httpPort, httpsPort, hubPort] = freePorts(3) as [
    number,
    number,
    number,
  ];
  await using acme = await startTestAcmeServer({ validationPort: httpPort });
  const dir = await Deno.makeTempDir({ prefix: "onehub-acme-serve-" });
  const client = Deno.createHttpClient({ caCerts: [acme.caPem] });
  try {
    const config = `${dir}/config.yaml`;
    await Deno.writeTextFile(
      config,
      [
        `data_dir: ${dir}`,
        `http: {ip: 127.0.0.1, port: ${httpPort}}`,
        `hub: {port: ${hubPort}}`,
        "https:",
        "  enabled: true",
        `  port: ${httpsPort}`,
        "  letsencrypt:",
        "    email: teacher@example.org",
        "    domains: [localhost]",
        `    directory: ${acme.directoryUrl}`,
        "",
      ].join("\n"),
    );
    const serve = () =>
      startMain(["serve", "--auth", "dummy", "--config", config], {
        ready: /listening url=(https:\/\/[^\s]+\/)/,
        timeoutMs: 30_000,
      });
    {
      await using hub = await serve();
      assert.match(hub.log(), /certificate obtained domains=localhost/);
      const res = await fetch(`https://localhost:${httpsPort}/hub/health`, {
        client,
      });
      await res.body?.cancel();
      assert.equal(res.status, 200);
      assert.deepEqual(acme.validations.map((v) => [v.name, v.status]), [[
        "localhost",
        200,
      ]]);
      const plain = await fetch(`http://127.0.0.1:${httpPort}/hub/login`, {
        redirect: "manual",
      });
      await plain.body?.cancel();
      assert.equal(plain.status, 301);
      assert.equal(
        plain.headers.get("location"),
        `https://127.0.0.1:${httpsPort}/hub/login`,
      );
      const unknown = await fetch(
        `http://127.0.0.1:${httpPort}/.well-known/acme-challenge/nope`,
      );
      await unknown.body?.cancel();
      assert.equal(unknown.status, 404);
      assert.equal((await Deno.stat(`${dir}/certs`)).mode! & 0o777, 0o700);
      for (const f of ["cert.pem", "key.pem", "account.json"]) {
        assert.equal(
          (await Deno.stat(`${dir}/certs/${f}`)).mode! & 0o777,
          0o600,
          f,
        );
      }
    }
    {
      await using hub = await serve();
      assert.doesNotMatch(hub.log(), /certificate obtained/);
      assert.equal(acme.validations.length, 1, "no new order after a restart");
      const res = await fetch(`https://localhost:${httpsPort}/hub/health`, {
        client,
      });
      await res.body?.cancel();
      assert.equal(res.status, 200);
    }
    const pem = await Deno.readTextFile(`${dir}/certs/cert.pem`);
    const now = new Date();
    assert.equal(needsRenewal(pem, { domains: ["localhost"], now }), false);
    assert.equal(
      needsRenewal(pem, {
        domains: ["localhost"],
        now: new Date(Date.now() + 61 * 86_400_000),
      }),
      true,
      "30 days before expiry (90-day certificate)",
    );
    assert.equal(
      needsRenewal(pem, { domains: ["localhost", "other.example"], now }),
      true,
    );
    assert.equal(
      needsRenewal("garbage", { domains: ["localhost"], now }),
      true,
    );
  } finally {
    client.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("startHub() renews a certificate that is about to expire and serves the new one without a restart", async () => {
  await using hub = await startAcmeHub({
    domains: ["localhost"],
    renewCheckMs: 300,
    // The first certificate lasts 10 days, within the 30-day renewal window;
    // its renewal lasts 90, so renewals then stop.
    days: (n) => n === 1 ? 10 : 90,
  });
  const { acme, dir, httpsPort } = hub;
  /** The serial number of the certificate the HTTPS port presents now (retried across a re-listen). */
  const served = async (): Promise<string> => {
    for (let i = 0; i < 40; i++) {
      const serial = await servedOnce();
      if (serial) return serial;
      await new Promise((r) => setTimeout(r, 25));
    }
    return "";
  };
  const servedOnce = async (): Promise<string> => {
    const out = await new Deno.Command("bash", {
      args: [
        "-c",
        `openssl s_client -connect 127.0.0.1:${httpsPort} -servername localhost </dev/null 2>/dev/null | openssl x509 -noout -serial`,
      ],
    }).output();
    // openssl may print a leading zero that X509Certificate leaves out.
    return new TextDecoder().decode(out.stdout).trim().replace(/^serial=/, "")
      .toUpperCase().replace(/^0+/, "");
  };
  const stored = async () =>
    new X509Certificate(await Deno.readTextFile(`${dir}/certs/cert.pem`))
      .serialNumber.toUpperCase().replace(/^0+/, "");
  const client = Deno.createHttpClient({ caCerts: [acme.caPem] });
  try {
    // A renewal may land between the two reads: the port presents the stored one, or the one before.
    const before = await stored();
    const first = await served();
    const after = await stored();
    assert.ok(
      [before, after].includes(first),
      `the port presents a stored certificate (${first}; stored ${before}, then ${after})`,
    );
    for (let i = 0; i < 100 && acme.validations.length < 2; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(acme.validations.length >= 2, "a second order was made");
    let now = first;
    for (let i = 0; i < 40 && now === before; i++) {
      await new Promise((r) => setTimeout(r, 50));
      now = await served();
    }
    assert.notEqual(
      now,
      before,
      "the HTTPS port presents the renewed certificate",
    );
    assert.equal(now, await stored());
    const res = await fetch(`https://localhost:${httpsPort}/hub/health`, {
      client,
    });
    await res.body?.cancel();
    assert.equal(res.status, 200, "HTTPS still answers after the swap");
  } finally {
    client.close();
  }
});

Deno.test("startHub() with subdomain_host gets one certificate for the hub and every user's host, and a new one when a user is added", async () => {
  await using hub = await startAcmeHub({
    domains: ["hub.localhost"],
    renewCheckMs: 200,
    file: { "subdomain_host": "https://hub.localhost" },
    users: ["alice"],
  });
  const { acme, dir } = hub;
  const names = async () =>
    new X509Certificate(await Deno.readTextFile(`${dir}/certs/cert.pem`))
      .subjectAltName?.split(", ").map((n) => n.replace(/^DNS:/, ""))
      .sort();
  assert.deepEqual(await names(), ["alice.hub.localhost", "hub.localhost"]);
  await createUsers(hub.db, ["bob"], {
    admin: false,
    now: new Date().toISOString(),
  });
  let seen = await names();
  for (let i = 0; i < 100 && seen?.length !== 3; i++) {
    await new Promise((r) => setTimeout(r, 50));
    seen = await names();
  }
  assert.deepEqual(seen, [
    "alice.hub.localhost",
    "bob.hub.localhost",
    "hub.localhost",
  ]);
  const orders = acme.validations.length;
  await new Promise((r) => setTimeout(r, 600));
  assert.equal(
    acme.validations.length,
    orders,
    "no order without a new name",
  );
});

/** What {@linkcode startAcmeHub} starts; `users` are made before the hub starts. */
interface AcmeHubOptions {
  domains: string[];
  renewCheckMs: number;
  days?: (n: number) => number;
  file?: Record<string, unknown>;
  users?: string[];
}

/**
 * A test ACME server and startHub() with dummy auth and Let's Encrypt
 * from it, on free ports, its data in a new temporary folder. Disposing
 * it stops the hub, closes the database, removes the folder and stops
 * the ACME server.
 */
async function startAcmeHub(options: AcmeHubOptions) {
  const [httpPort, httpsPort] = freePorts(2) as [number, number];
  const acme = await startTestAcmeServer({
    validationPort: httpPort,
    ...(options.days ? { days: options.days } : {}),
  });
  const dir = await Deno.makeTempDir({ prefix: "onehub-acme-" });
  const config = resolveConfig({
    file: {
      data_dir: dir,
      auth: { type: "dummy" },
      http: { ip: "127.0.0.1", port: httpPort },
      hub: { port: 0 },
      https: {
        enabled: true,
        port: httpsPort,
        letsencrypt: { domains: options.domains, directory: acme.directoryUrl },
      },
      ...options.file,
    },
  });
  const handle = openDatabase(config.dbPath);
  await migrateToLatest(handle);
  if (options.users) {
    await createUsers(handle.db, options.users, {
      admin: false,
      now: new Date().toISOString(),
    });
  }
  const running = await startHub({
    config,
    db: handle.db,
    authenticator: createAuthenticator(config),
    logger: silentLogger,
    cookieSecret: new Uint8Array(32).fill(1),
    acmeRenewCheckMs: options.renewCheckMs,
  });
  return {
    acme,
    dir,
    httpsPort,
    db: handle.db,
    async [Symbol.asyncDispose]() {
      await running.stop();
      await handle.close();
      await Deno.remove(dir, { recursive: true });
      await acme[Symbol.asyncDispose]();
    },
  };
}
