import assert from "node:assert/strict";
import {
  LoginThrottle,
  type LoginThrottleOptions,
} from "../../../hub/auth/login_throttle.ts";
import type { Logger } from "../../../hub/observe/log.ts";

function setup(options: Partial<LoginThrottleOptions> = {}) {
  let clock = 1_000_000;
  const warnings: Array<Record<string, unknown> | undefined> = [];
  const logger = {
    debug() {},
    info() {},
    warn: (_m: string, fields?: Record<string, unknown>) =>
      warnings.push(fields),
    error() {},
  } as unknown as Logger;
  const throttle = new LoginThrottle({
    enabled: true,
    addressFailures: 3,
    userFailures: 5,
    userHardLimit: 1000,
    baseDelayMs: 1000,
    maxDelayMs: 60_000,
    windowMs: 600_000,
    now: () => clock,
    logger,
    ...options,
  });
  return {
    throttle,
    warnings,
    advance: (ms: number) => void (clock += ms),
  };
}

Deno.test("LoginThrottle blocks an address after its free failures, doubling the wait", () => {
  const { throttle, advance, warnings } = setup();
  for (let i = 0; i < 3; i++) {
    assert.deepEqual(throttle.check("10.0.0.1", `u${i}`), { ok: true });
    throttle.failure("10.0.0.1", `u${i}`);
  }
  assert.deepEqual(throttle.check("10.0.0.1", "x"), { ok: true });
  throttle.failure("10.0.0.1", "x"); // 4th: blocked 1 s
  assert.deepEqual(throttle.check("10.0.0.1", "anyone"), {
    ok: false,
    by: "address",
    retryAfterSeconds: 1,
  });
  advance(1000);
  assert.deepEqual(throttle.check("10.0.0.1", "x"), { ok: true });
  throttle.failure("10.0.0.1", "x"); // 5th: 2 s
  throttle.failure("10.0.0.1", "x"); // 6th: 4 s
  const verdict = throttle.check("10.0.0.1", "x");
  assert.equal(!verdict.ok && verdict.retryAfterSeconds, 4);
  // Logged when the address became blocked, not for each refusal.
  assert.equal(warnings.filter((w) => w?.address === "10.0.0.1").length, 2);
  assert.deepEqual(throttle.check("10.0.0.2", "x"), { ok: true });
});

Deno.test("LoginThrottle caps the wait at maxDelayMs and forgets failures after the window", () => {
  const { throttle, advance } = setup();
  for (let i = 0; i < 40; i++) throttle.failure("10.0.0.1", `u${i}`);
  const verdict = throttle.check("10.0.0.1", "x");
  assert.equal(!verdict.ok && verdict.retryAfterSeconds, 60);
  advance(600_001);
  assert.deepEqual(throttle.check("10.0.0.1", "x"), { ok: true });
  assert.equal(throttle.penalty("10.0.0.1"), 0);
});

Deno.test("LoginThrottle blocks a guessed username only for addresses that failed, so its owner still gets in", () => {
  const { throttle } = setup({ addressFailures: 100 });
  for (let i = 0; i < 6; i++) throttle.failure(`10.0.1.${i}`, "ada");
  // Every guessing address is refused for "ada" ...
  assert.deepEqual(throttle.check("10.0.1.0", "ada"), {
    ok: false,
    by: "user",
    retryAfterSeconds: 1,
  });
  // ... but may try other names, and a client without failures gets through.
  assert.deepEqual(throttle.check("10.0.1.0", "bob"), { ok: true });
  assert.deepEqual(throttle.check("192.0.2.7", "ada"), { ok: true });
  throttle.success("192.0.2.7", "ada");
  assert.deepEqual(throttle.check("10.0.1.0", "ada"), { ok: true });
});

Deno.test("LoginThrottle keeps at most maxEntries keys per table", () => {
  const { throttle } = setup({ maxEntries: 100 });
  for (let i = 0; i < 1000; i++) {
    throttle.failure(`10.1.${i >> 8}.${i & 255}`, `name${i}`);
  }
  assert.deepEqual(throttle.sizes, { addresses: 100, users: 100 });
});

Deno.test("LoginThrottle lets everything through when disabled", () => {
  const { throttle } = setup({ enabled: false });
  for (let i = 0; i < 50; i++) throttle.failure("10.0.0.1", "ada");
  assert.deepEqual(throttle.check("10.0.0.1", "ada"), { ok: true });
});

Deno.test("LoginThrottle refuses a name to every address past userHardLimit: made-up addresses buy no more guesses", () => {
  const { throttle, advance } = setup({
    addressFailures: 100,
    userFailures: 3,
    userHardLimit: 10,
  });
  let tried = 0;
  for (let i = 0; i < 50; i++) {
    const address = `10.1.0.${i}`; // a fresh address every time
    if (throttle.check(address, "alice").ok) {
      tried++;
      throttle.failure(address, "alice");
    }
  }
  assert.equal(tried, 10, "the hard cap, not one guess per address");
  const refused = throttle.check("192.0.2.7", "alice");
  assert.equal(refused.ok, false);
  assert.equal(!refused.ok && refused.by, "user");
  assert.deepEqual(throttle.check("192.0.2.7", "bob"), { ok: true });
  // Past the window the failures are forgotten.
  advance(3_600_000);
  assert.deepEqual(throttle.check("192.0.2.8", "alice"), { ok: true });
});
