import assert from "node:assert/strict";
import { createTestHub } from "../../_helpers/test_hub.ts";
import { startServe } from "../../_helpers/serve_process.ts";
import { readBounded } from "../../../hub/middleware/body_limit.ts";
import { upload, UPLOAD_CLIENTS } from "../../_helpers/upload_clients.ts";
import { printErr } from "../../../hub/cli/_print.ts";
import { assertAnswer } from "../../_helpers/api_cases.ts";
import { adminToken } from "../../_helpers/api_setup.ts";

/** A streamed body (no Content-Length) of `total` bytes; `pulled()` says how much was read. */
function countingBody(total: number, chunk = 4096) {
  let sent = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= total) return controller.close();
      const n = Math.min(chunk, total - sent);
      sent += n;
      controller.enqueue(new Uint8Array(n).fill(0x61));
    },
  });
  return { stream, pulled: () => sent };
}

const FORM = "application/x-www-form-urlencoded";
const JSON_TYPE = "application/json";

Deno.test("every route that reads a body answers 413 to a streamed body over its limit, reading no further", async (t) => {
  await using hub = await createTestHub({
    api: { max_body_size: 2048 },
    http: { max_form_size: 1024 },
  }, { spawner: "fake" });
  const token = await adminToken(hub, { name: "daemon" });
  const { cookie } = await hub.login("daemon");
  const rows: Array<[string, string, string, number, boolean]> = [
    // label, path, content type, limit, API (JSON error)
    ["login form", "/hub/login", FORM, 1024, false],
    ["spawn options form", "/hub/spawn", FORM, 1024, false],
    ["OAuth consent form", "/hub/api/oauth2/authorize", FORM, 1024, false],
    ["OAuth token endpoint", "/hub/api/oauth2/token", FORM, 1024, true],
    ["API: create users", "/hub/api/users", JSON_TYPE, 2048, true],
    ["API: new token", "/hub/api/users/daemon/tokens", JSON_TYPE, 2048, true],
    ["API: proxy", "/hub/api/proxy", JSON_TYPE, 2048, true],
  ];
  for (const [label, path, type, limit, api] of rows) {
    await t.step(label, async () => {
      const body = countingBody(50 * 1024 * 1024);
      const res = await hub.request(path, {
        method: "POST",
        headers: { "content-type": type, cookie },
        ...(api ? { token } : {}),
        body: body.stream,
      });
      assert.equal(res.status, 413);
      assert.equal(res.headers.get("connection"), "close");
      const text = await res.text();
      assert.match(text, new RegExp(`larger than ${limit} bytes`));
      assert.ok(body.pulled() <= limit + 2 * 4096, `read ${body.pulled()}`);
    });
  }
  await t.step(
    "a declared Content-Length over the limit is refused unread",
    async () => {
      const res = await hub.request("/hub/login", {
        method: "POST",
        headers: { "content-type": FORM, "content-length": "999999" },
        body: "username=a",
      });
      assert.equal(res.status, 413);
      assert.match(await res.text(), /larger than 1024 bytes/);
    },
  );
  await t.step("a body under the limit still reaches the route", async () => {
    await assertAnswer(hub, {
      send: "POST /hub/api/users",
      token,
      json: { usernames: ["bin"] },
      status: 201,
    });
  });
});

Deno.test("readBounded() returns the whole body under the limit and throws 413 past it", async () => {
  const small = countingBody(10_000, 3000);
  assert.equal((await readBounded(small.stream, 10_000)).byteLength, 10_000);
  const big = countingBody(10_001, 3000);
  await assert.rejects(readBounded(big.stream, 10_000), { status: 413 });
});

/**
 * curl sends `Expect: 100-continue` with bodies over 1 MiB: through the
 * public port it gets the 413 as its first answer, no `100 Continue`.
 */
async function expectRefusedBeforeContinue(url: string, dir: string) {
  await Deno.writeFile(`${dir}/two-mb`, new Uint8Array(2 * 1024 * 1024));
  const out = await new Deno.Command("curl", {
    args: ["-sv", "--data-binary", `@${dir}/two-mb`, url],
    stdin: "null",
  }).output();
  const trace = new TextDecoder().decode(out.stderr);
  assert.match(trace, /^> Expect: 100-continue/m);
  assert.doesNotMatch(trace, /^< HTTP\/1\.1 100/m);
  assert.match(trace, /^< HTTP\/1\.1 413/m);
  assert.match(new TextDecoder().decode(out.stdout), /larger than 1048576/);
}

/** The hub process's peak resident memory in MiB (VmHWM). */
async function peakRss(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

Deno.test("Node fetch, Deno fetch, curl and Python requests read the 413 for 12 MB and 300 MB bodies, on the public and the hub port; Expect: 100-continue gets it first", async () => {
  const dir = await Deno.makeTempDir({ prefix: "onehub-upload-" });
  await using proc = await startServe([
    "--auth",
    "dummy",
    "--config",
    "/dev/null",
    "--data-dir",
    dir,
  ]);
  const hubUrl = /hub=(http:\/\/\S+)/.exec(proc.log())![1]!;
  await expectRefusedBeforeContinue(`${proc.url}hub/api/users`, dir);
  const before = await peakRss(proc.pid);
  const failures: string[] = [];
  try {
    for (const base of [proc.url, `${hubUrl}/`]) {
      for (const bytes of [12_000_000, 300_000_000]) {
        for (const chunked of [false, true]) {
          const url = `${base}hub/api/users`;
          // The four clients at once: as many lingering connections as that.
          const results = await Promise.all(
            UPLOAD_CLIENTS.map((client) =>
              upload(client, { url, bytes, chunked }, dir)
            ),
          );
          results.forEach((r, i) => {
            const ok = "status" in r && r.status === 413 &&
              /larger than 1048576 bytes/.test(r.text);
            if (!ok) {
              failures.push(
                `${UPLOAD_CLIENTS[i]} ${bytes} B ${
                  chunked ? "chunked" : "with Content-Length"
                } to ${url}: ${JSON.stringify(r).slice(0, 200)}`,
              );
            }
          });
        }
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  const after = await peakRss(proc.pid);
  printErr(
    `body_limit_test: hub peak RSS ${before.toFixed(1)} MiB before, ${
      after.toFixed(1)
    } MiB after 32 uploads of up to 300 MB (4 at once)`,
  );
  assert.deepEqual(failures, []);
  // Discarded bytes are never kept: far below one 300 MB body.
  assert.ok(
    after - before < 96,
    `peak grew ${(after - before).toFixed(1)} MiB`,
  );
});
