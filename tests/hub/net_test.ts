/** Address facts and the readiness rule (hub/net.ts). */
import assert from "node:assert/strict";
import {
  httpAnswers,
  isLoopbackAddress,
  isLoopbackUrl,
} from "../../hub/net.ts";

Deno.test("httpAnswers: any answer below 500 counts, redirects are not followed, errors do not", async () => {
  const seen: string[] = [];
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (req) => {
      const path = new URL(req.url).pathname;
      seen.push(path);
      if (path === "/redirect") {
        return new Response(null, {
          status: 302,
          headers: { location: "/boom" },
        });
      }
      if (path === "/boom") return new Response("no", { status: 500 });
      if (path === "/missing") return new Response("no", { status: 404 });
      return new Response("ok");
    },
  );
  const base = `http://127.0.0.1:${server.addr.port}`;
  assert.equal(await httpAnswers(`${base}/user/daemon/api`), true);
  assert.equal(await httpAnswers(`${base}/missing`), true);
  assert.equal(await httpAnswers(`${base}/redirect`), true);
  assert.ok(!seen.includes("/boom"), "the redirect was not followed");
  assert.equal(await httpAnswers(`${base}/boom`), false);
  assert.equal(await httpAnswers("http://127.0.0.1:1/api"), false);
});

Deno.test("isLoopbackAddress / isLoopbackUrl: this machine's own addresses only", () => {
  for (const ip of ["127.0.0.1", "127.8.9.10", "::1", "localhost"]) {
    assert.equal(isLoopbackAddress(ip), true, ip);
  }
  for (const ip of ["0.0.0.0", "::", "10.0.0.1", "128.0.0.1"]) {
    assert.equal(isLoopbackAddress(ip), false, ip);
  }
  assert.equal(isLoopbackUrl(new URL("http://localhost:5556/dex")), true);
  assert.equal(isLoopbackUrl(new URL("http://[::1]:80/")), true);
  assert.equal(isLoopbackUrl(new URL("https://accounts.google.com/")), false);
});
