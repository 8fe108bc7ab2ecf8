/**
 * A real `onehub serve` with PAM under a password-guessing flood: clients
 * are told apart by X-Forwarded-For (127.0.0.1 is configured as a trusted
 * proxy, as nginx in front of the hub would be), but only through onehub's
 * proxy: sent straight to the hub's port they count for nothing. Needs root.
 */
import { postLogin } from "../_helpers/login_form.ts";
import assert from "node:assert/strict";
import {
  createSystemUser,
  ensurePamService,
  skipUnlessRoot,
} from "../_helpers/system_users.ts";
import { startPamServe } from "../_helpers/serve_process.ts";

const ignore = skipUnlessRoot(
  "login_throttle_test",
  "create users and read /etc/shadow through PAM",
);

/** One login attempt as `address`; returns status, Retry-After and ms taken. */
async function attempt(
  base: string,
  address: string,
  username: string,
  password: string,
) {
  const started = performance.now();
  const res = await postLogin(base, username, password, {
    "x-forwarded-for": address,
  });
  const body = await res.text();
  return {
    status: res.status,
    retryAfter: res.headers.get("retry-after"),
    body,
    ms: performance.now() - started,
  };
}

Deno.test({
  name:
    "a guessing address is throttled with 429 before PAM while the real user logs in from elsewhere",
  ignore,
  sanitizeResources: false,
  fn: async (t) => {
    await ensurePamService();
    const dataDir = await Deno.makeTempDir({ prefix: "onehub-throttle-" });
    await using user = await createSystemUser();
    try {
      await using hub = await startPamServe(
        dataDir,
        "users:\n  allow_all: true\nproxy:\n  trusted_proxies: [127.0.0.1]\nauth:\n" +
          "  pam: {concurrency: 2, queue_size: 4}\n" +
          "  throttle: {address_failures: 3, user_failures: 100, base_delay: 30}\n",
      );
      const attacker = "198.51.100.7";
      await t.step(
        "three wrong passwords reach PAM (403, with PAM's delay)",
        async () => {
          for (let i = 0; i < 3; i++) {
            const r = await attempt(hub.url, attacker, user.name, "wrong");
            assert.equal(r.status, 403);
            assert.ok(
              r.ms > 500,
              `answered in ${r.ms} ms: PAM's delay is missing`,
            );
          }
        },
      );
      await t.step(
        "the fourth failure blocks the address: 429 with Retry-After, at once",
        async () => {
          const fourth = await attempt(hub.url, attacker, user.name, "wrong");
          assert.equal(fourth.status, 403);
          const blocked = await attempt(
            hub.url,
            attacker,
            user.name,
            user.password,
          );
          assert.equal(blocked.status, 429);
          assert.equal(blocked.retryAfter, "30");
          assert.match(
            blocked.body,
            /Too many failed logins from your address/,
          );
          assert.match(blocked.body, /try again in 30 seconds/);
          assert.ok(blocked.ms < 500, `took ${blocked.ms} ms: it reached PAM`);
        },
      );
      await t.step(
        "the user gets in from another address meanwhile",
        async () => {
          const ok = await attempt(
            hub.url,
            "192.0.2.10",
            user.name,
            user.password,
          );
          assert.equal(ok.status, 302);
        },
      );
      await t.step(
        "made-up X-Forwarded-For sent straight to the hub's port buy nothing: the socket's address is throttled; the owner still gets in",
        async () => {
          // A student's process on the machine reaches the hub's loopback port
          // directly; only onehub's proxy's X-Forwarded-For are believed.
          const hubPort = `${/ hub=(http:\/\/\S+)/.exec(hub.log())![1]}/`;
          const statuses: number[] = [];
          for (let i = 0; i < 6; i++) {
            const r = await attempt(hubPort, `10.9.${i}.1`, user.name, "wrong");
            statuses.push(r.status);
          }
          assert.deepEqual(statuses, [403, 403, 403, 403, 429, 429]);
          const ok = await attempt(
            hub.url,
            "192.0.2.11",
            user.name,
            user.password,
          );
          assert.equal(ok.status, 302, "through the proxy, from elsewhere");
        },
      );
      await t.step(
        "a concurrent flood past the queue gets 429, never 503",
        async () => {
          const flood = await Promise.all(
            Array.from(
              { length: 12 },
              (_, i) =>
                attempt(hub.url, `203.0.113.${i}`, `nobody${i}`, "wrong"),
            ),
          );
          const statuses = flood.map((r) => r.status);
          assert.ok(
            statuses.every((s) => s === 403 || s === 429),
            String(statuses),
          );
          assert.ok(statuses.includes(429), String(statuses));
          assert.ok(
            flood.filter((r) => r.status === 429).every((r) => r.retryAfter),
          );
        },
      );
      assert.equal(
        hub.log().match(/login throttled/g)?.length,
        2,
        "each block (the guessing address, the hub port's socket) is logged once",
      );
    } finally {
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
