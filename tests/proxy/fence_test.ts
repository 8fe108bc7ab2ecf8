/**
 * Revocation fences (proxy/fence.ts): a fenced session or token is refused
 * on the route (403) until the fence ends, and its open WebSockets there are
 * closed at once; others are untouched.
 */
import assert from "node:assert/strict";
import { waitFor } from "../_helpers/wait_for.ts";
import { credentialsOf, Fences } from "../../proxy/fence.ts";
import { parseRequestHead } from "../../proxy/headers.ts";
import { manualClock, proxyToEcho } from "./_setup.ts";

async function sha256Hex(text: string): Promise<string> {
  const d = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(text),
  );
  return new Uint8Array(d).toHex();
}

Deno.test("credentialsOf() reads the session cookie and a token from Authorization or ?token=", async () => {
  const head = (extra: string, target = "/user/a/api") =>
    parseRequestHead(
      [`GET ${target} HTTP/1.1`, "Host: h", ...extra.split("\r\n")]
        .filter(Boolean).join("\r\n"),
    );
  assert.deepEqual(
    await credentialsOf(
      head(
        "Cookie: a=1; jupyterhub-session-id=s1; b=2\r\nAuthorization: token t1",
      ),
    ),
    { session: "s1", tokenHash: await sha256Hex("t1") },
  );
  assert.deepEqual(
    await credentialsOf(head("Authorization: Bearer t2")),
    { session: null, tokenHash: await sha256Hex("t2") },
  );
  assert.deepEqual(
    await credentialsOf(head("", "/user/a/api/kernels/k/channels?token=t3")),
    { session: null, tokenHash: await sha256Hex("t3") },
  );
  assert.deepEqual(await credentialsOf(head("")), {
    session: null,
    tokenHash: null,
  });
});

Deno.test("Fences: a fence stands until its end; only its credentials are refused", () => {
  const clock = manualClock(1_000);
  const fences = new Fences(clock.now);
  fences.raise("/user/a", {
    sessions: ["s1"],
    tokenHashes: ["h1"],
    forMs: 4_000,
  });
  assert.equal(
    fences.refuses("/user/a", { session: "s1", tokenHash: null }),
    true,
  );
  assert.equal(
    fences.refuses("/user/a", { session: null, tokenHash: "h1" }),
    true,
  );
  assert.equal(
    fences.refuses("/user/a", { session: "s2", tokenHash: "h2" }),
    false,
  );
  assert.equal(
    fences.refuses("/user/b", { session: "s1", tokenHash: null }),
    false,
  );
  clock.set(5_000);
  assert.equal(fences.active("/user/a"), false);
  assert.equal(
    fences.refuses("/user/a", { session: "s1", tokenHash: null }),
    false,
  );
});

/** A WebSocket through the proxy carrying a session cookie; resolves once open. */
function openWith(url: string, session: string): Promise<WebSocket> {
  const ws = new WebSocket(url, {
    headers: { cookie: `jupyterhub-session-id=${session}` },
  } as unknown as string[]);
  return new Promise((resolve, reject) => {
    ws.onopen = () => resolve(ws);
    ws.onerror = () => reject(new Error("WebSocket failed"));
  });
}

Deno.test("proxy.fence() closes the fenced session's open WebSocket at once, refuses its new requests, and leaves the owner's", async () => {
  await using p = await proxyToEcho({}, "/user/alice");
  const { up } = p;
  const url = `ws://127.0.0.1:${p.port}/user/alice/ws`;
  const recipient = await openWith(url, "bob-session");
  const owner = await openWith(url, "alice-session");
  const recipientClosed = new Promise((r) =>
    recipient.addEventListener("close", r, { once: true })
  );
  const closedNow = p.proxy.fence("/user/alice/", {
    sessions: ["bob-session"],
    tokenHashes: [await sha256Hex("bob-token")],
    forMs: 60_000,
  });
  assert.equal(closedNow, 1);
  await recipientClosed;
  // The owner's socket still echoes.
  const echoed = new Promise((r) => owner.onmessage = (e) => r(e.data));
  owner.send("still here");
  assert.equal(await echoed, "still here");
  const get = (headers: Record<string, string>) =>
    fetch(`http://127.0.0.1:${p.port}/user/alice/api/status`, { headers });
  for (
    const headers of [
      { cookie: "jupyterhub-session-id=bob-session" },
      { authorization: "token bob-token" },
    ]
  ) {
    const res = await get(headers);
    assert.equal(res.status, 403);
    await res.body?.cancel();
  }
  const ok = await get({ cookie: "jupyterhub-session-id=alice-session" });
  assert.equal(ok.status, 200);
  await ok.body?.cancel();
  await assert.rejects(openWith(url, "bob-session"), "a new socket is refused");
  const ownerClosed = new Promise((r) =>
    owner.addEventListener("close", r, { once: true })
  );
  owner.close();
  await ownerClosed;
  await waitFor(() => Promise.resolve(up.websockets.length >= 2), {
    timeoutMs: 2000,
    description: "the upstream saw both sockets",
  });
});

Deno.test("Fences: fencing the same credentials again keeps one entry with the later end", () => {
  const clock = manualClock(0);
  const fences = new Fences(clock.now);
  for (let i = 0; i < 1000; i++) {
    fences.raise("/user/a", {
      sessions: ["s1"],
      tokenHashes: [],
      forMs: 1000 + i,
    });
  }
  clock.set(1_998);
  assert.equal(
    fences.refuses("/user/a", { session: "s1", tokenHash: null }),
    true,
  );
  clock.set(1_999);
  assert.equal(
    fences.refuses("/user/a", { session: "s1", tokenHash: null }),
    false,
  );
  assert.equal(fences.active("/user/a"), false);
});
