import assert from "node:assert/strict";
import { PamPool, type PamPoolOptions } from "../../../../hub/auth/pam/pool.ts";
import { repoPath } from "../../../_helpers/paths.ts";

const FAKE = [
  Deno.execPath(),
  "run",
  "--allow-read",
  repoPath("tests/_helpers/fake_pam_serve.ts"),
];

function pool(
  options: Partial<PamPoolOptions> = {},
): PamPool & AsyncDisposable {
  const p = new PamPool({
    service: "onehub",
    timeoutMs: 10_000,
    concurrency: 2,
    queueSize: 4,
    helperArgv: FAKE,
    ...options,
  });
  return Object.assign(p, { [Symbol.asyncDispose]: () => p.close() });
}

Deno.test("PamPool serves many logins from one warm helper", async () => {
  await using p = pool({ concurrency: 1 });
  assert.deepEqual(
    await p.authenticate({ username: "ada", password: "right" }),
    { ok: true },
  );
  const [pid] = p.pids();
  assert.equal(
    (await p.authenticate({ username: "ada", password: "wrong" })).ok,
    false,
  );
  assert.deepEqual(
    await p.authenticate({ username: "ada", password: "right" }),
    { ok: true },
  );
  assert.deepEqual(p.pids(), [pid]);
});

Deno.test("PamPool never runs more helpers than its concurrency and answers busy past its queue", async () => {
  await using p = pool({ concurrency: 2, queueSize: 3 });
  const attempts = Array.from(
    { length: 8 },
    (_, i) =>
      p.authenticate({
        username: `u${i}`,
        password: "slow:300",
        remoteHost: `10.0.0.${i}`,
      }),
  );
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(p.size <= 2, `running ${p.size}`);
  assert.equal(p.waiting, 3);
  const results = await Promise.all(attempts);
  const busy = results.filter((r) => !r.ok && r.reason === "busy").length;
  const denied = results.filter((r) => !r.ok && r.reason === "denied").length;
  assert.equal(busy, 3);
  assert.equal(denied, 5);
  assert.ok(p.size <= 2);
});

Deno.test("PamPool puts a fresh client before one with failures or attempts already waiting", async () => {
  await using p = pool({ concurrency: 1, queueSize: 2 });
  const order: string[] = [];
  const track = (label: string, promise: Promise<unknown>) =>
    promise.then((r) => {
      order.push(label);
      return r;
    });
  const first = track(
    "busy helper",
    p.authenticate({
      username: "x",
      password: "slow:200",
      remoteHost: "10.0.0.9",
    }),
  );
  const guess1 = track(
    "guess 1",
    p.authenticate({
      username: "x",
      password: "wrong",
      remoteHost: "10.0.0.9",
      penalty: 3,
    }),
  );
  const guess2 = track(
    "guess 2",
    p.authenticate({
      username: "x",
      password: "wrong",
      remoteHost: "10.0.0.9",
      penalty: 3,
    }),
  );
  // The queue is full of the guesser's attempts: a fresh client takes the
  // place of the worst, which is told "busy" at once.
  const owner = track(
    "owner",
    p.authenticate({
      username: "ada",
      password: "right",
      remoteHost: "192.0.2.1",
    }),
  );
  assert.deepEqual(await guess2, { ok: false, reason: "busy" });
  assert.deepEqual(await owner, { ok: true });
  await Promise.all([first, guess1]);
  assert.deepEqual(order, ["guess 2", "busy helper", "owner", "guess 1"]);
});

Deno.test("PamPool kills a helper that does not answer in time and starts a new one", async () => {
  await using p = pool({ concurrency: 1, timeoutMs: 300 });
  const hung = await p.authenticate({ username: "ada", password: "hang" });
  assert.equal(!hung.ok && hung.reason, "timeout");
  assert.deepEqual(
    await p.authenticate({ username: "ada", password: "right" }),
    { ok: true },
  );
  assert.equal(p.size, 1);
});

Deno.test("PamPool replaces a helper that died mid-request", async () => {
  await using p = pool({ concurrency: 1 });
  assert.deepEqual(
    await p.authenticate({ username: "ada", password: "right" }),
    { ok: true },
  );
  const [before] = p.pids();
  const died = await p.authenticate({ username: "ada", password: "die" });
  assert.equal(!died.ok && died.reason, "unavailable");
  assert.match(!died.ok && "message" in died ? died.message : "", /status 3/);
  assert.deepEqual(
    await p.authenticate({ username: "ada", password: "right" }),
    { ok: true },
  );
  assert.notEqual(p.pids()[0], before);
});

Deno.test("PamPool denies empty passwords without starting a helper", async () => {
  await using p = pool();
  const result = await p.authenticate({ username: "ada", password: "" });
  assert.equal(!result.ok && result.reason, "denied");
  assert.equal(p.size, 0);
});

Deno.test("PamPool reports a helper that cannot be started as unavailable", async () => {
  await using p = pool({ helperArgv: ["/nonexistent/onehub"] });
  const result = await p.authenticate({ username: "ada", password: "right" });
  assert.equal(!result.ok && result.reason, "unavailable");
  assert.match(
    !result.ok && "message" in result ? result.message : "",
    /nonexistent/,
  );
});
