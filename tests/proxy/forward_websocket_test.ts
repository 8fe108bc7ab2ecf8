import assert from "node:assert/strict";
import { waitFor } from "../_helpers/wait_for.ts";
import { closedPort, header, RawClient } from "./_raw_http.ts";
import { manualClock, proxyToEcho, startProxy } from "./_setup.ts";

/** Opens a WebSocket and waits until it is open (or rejects on error). */
function open(url: string, protocols?: string[]): Promise<WebSocket> {
  const ws = new WebSocket(url, protocols);
  ws.binaryType = "arraybuffer";
  return new Promise((resolve, reject) => {
    ws.onopen = () => resolve(ws);
    ws.onerror = () => reject(new Error(`WebSocket to ${url} failed`));
  });
}

function nextMessage(ws: WebSocket): Promise<string | ArrayBuffer> {
  return new Promise((resolve) => {
    ws.onmessage = (event) => resolve(event.data);
  });
}

function closed(ws: WebSocket): Promise<CloseEvent> {
  return new Promise((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) {
      resolve(new CloseEvent("close", { code: 1006 }));
    }
    ws.addEventListener("close", (event) => resolve(event), { once: true });
  });
}

/** Closes `ws` and waits for its close event. */
async function closeAndWait(ws: WebSocket): Promise<void> {
  const done = closed(ws);
  ws.close();
  await done;
}

/** A failed handshake: resolves with the close event after the error. */
function refused(url: string): Promise<{ error: boolean; wasClean: boolean }> {
  const ws = new WebSocket(url);
  let error = false;
  ws.onerror = () => void (error = true);
  return new Promise((resolve) => {
    ws.onclose = (event) => resolve({ error, wasClean: event.wasClean });
  });
}

const HANDSHAKE =
  "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n" +
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";

/** A masked client frame (RFC 6455 §5.2) with a payload under 126 bytes. */
function clientFrame(opcode: number, payload: Uint8Array): Uint8Array {
  const mask = [1, 2, 3, 4];
  const out = new Uint8Array(6 + payload.length);
  out[0] = 0x80 | opcode;
  out[1] = 0x80 | payload.length;
  out.set(mask, 2);
  payload.forEach((b, i) => (out[6 + i] = b ^ mask[i % 4]!));
  return out;
}

Deno.test("relayWebSocket() echoes through the proxy with the subprotocol the upstream chose", async () => {
  const clock = manualClock(1_000);
  await using p = await proxyToEcho({ now: clock.now }, "/user/alice/");
  const { up } = p;
  clock.set(2_000);
  const ws = await open(`ws://127.0.0.1:${p.port}/user/alice/ws?token=x`, [
    "v1.kernel",
    "v2.kernel",
  ]);
  assert.equal(ws.protocol, "v2.kernel");
  const reply = nextMessage(ws);
  ws.send("hello");
  assert.equal(await reply, "hello");
  assert.deepEqual(
    [
      up.websockets[0]!.path,
      up.websockets[0]!.offered,
      up.websockets[0]!.protocol,
    ],
    ["/user/alice/ws", ["v1.kernel", "v2.kernel"], "v2.kernel"],
  );
  assert.equal(p.proxy.activity.get("/user/alice"), 2_000);
  await closeAndWait(ws);
});

Deno.test("relayWebSocket() passes Host, Origin and cookies and sets X-Forwarded-* for ws", async () => {
  await using p = await proxyToEcho();
  const { up } = p;
  await using client = await RawClient.connect(p.port);
  await client.write(
    `GET /ws HTTP/1.1\r\nHost: hub.test:8000\r\nOrigin: http://hub.test:8000\r\nCookie: session=abc\r\n` +
      `X-Forwarded-For: 6.6.6.6\r\n${HANDSHAKE}\r\n`,
  );
  const res = await client.readHead();
  assert.equal(res?.status, 101);
  assert.equal(header(res!.headers, "upgrade")?.toLowerCase(), "websocket");
  const seen = new Map(up.websockets[0]!.headers);
  assert.equal(seen.get("host"), "hub.test:8000");
  assert.equal(seen.get("origin"), "http://hub.test:8000");
  assert.equal(seen.get("cookie"), "session=abc");
  assert.equal(seen.get("x-forwarded-for"), "127.0.0.1");
  assert.equal(seen.get("x-forwarded-proto"), "ws");
  assert.equal(seen.get("x-forwarded-port"), String(p.port));
  assert.equal(seen.has("x-forwarded-host"), false);
});

Deno.test("relayWebSocket() carries binary messages, including one of 8 MiB", async () => {
  await using p = await proxyToEcho();
  const ws = await open(`ws://127.0.0.1:${p.port}/ws`);
  const small = new Uint8Array([0, 1, 2, 255]);
  let reply = nextMessage(ws);
  ws.send(small);
  assert.deepEqual(new Uint8Array(await reply as ArrayBuffer), small);
  const big = new Uint8Array(8 * 1024 * 1024);
  for (let i = 0; i < big.length; i += 65536) {
    crypto.getRandomValues(big.subarray(i, i + 65536));
  }
  reply = nextMessage(ws);
  ws.send(big);
  const echoed = new Uint8Array(await reply as ArrayBuffer);
  assert.equal(echoed.length, big.length);
  assert.ok(
    echoed.every((b, i) => b === big[i]),
    "the 8 MiB message came back unchanged",
  );
  await closeAndWait(ws);
});

Deno.test("relayWebSocket() passes the client's close code and reason to the upstream", async () => {
  await using p = await proxyToEcho();
  const { up } = p;
  const ws = await open(`ws://127.0.0.1:${p.port}/ws`);
  const done = closed(ws);
  ws.close(4001, "client bye");
  const event = await done;
  await waitFor(() => up.websockets[0]!.closeCode !== null, {
    description: "the upstream's close event",
  });
  assert.deepEqual(
    [up.websockets[0]!.closeCode, up.websockets[0]!.closeReason],
    [4001, "client bye"],
  );
  assert.equal(
    event.code,
    4001,
    "the upstream's echoed close frame reaches the client",
  );
});

Deno.test("relayWebSocket() passes the upstream's close code and reason to the client", async () => {
  await using p = await proxyToEcho();
  const ws = await open(`ws://127.0.0.1:${p.port}/ws`);
  const done = closed(ws);
  ws.send("close:4002:server bye");
  const event = await done;
  assert.deepEqual([event.code, event.reason], [4002, "server bye"]);
});

Deno.test("relayWebSocket() relays a ping and the upstream's pong", async () => {
  await using p = await proxyToEcho();
  await using client = await RawClient.connect(p.port);
  await client.write(`GET /ws HTTP/1.1\r\nHost: hub.test\r\n${HANDSHAKE}\r\n`);
  assert.equal((await client.readHead())?.status, 101);
  await client.write(
    clientFrame(0x9, new TextEncoder().encode("are you there")),
  );
  const pong = new Uint8Array(2 + 13);
  let got = 0;
  while (got < pong.length) {
    const n = await client.conn.read(pong.subarray(got));
    assert.notEqual(n, null);
    got += n!;
  }
  assert.equal(pong[0], 0x8a, "a final pong frame");
  assert.equal(pong[1], 13, "unmasked, 13 bytes");
  assert.equal(new TextDecoder().decode(pong.subarray(2)), "are you there");
});

Deno.test("relayWebSocket() keeps a session open past the proxy's head and keep-alive timeouts", async () => {
  await using p = await proxyToEcho({
    headTimeoutMs: 30,
    keepAliveTimeoutMs: 30,
  });
  const ws = await open(`ws://127.0.0.1:${p.port}/ws`);
  // Idle for several times both timeouts: a timer left running from the handshake would have closed it.
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal(ws.readyState, WebSocket.OPEN);
  const reply = nextMessage(ws);
  ws.send("still here");
  assert.equal(await reply, "still here");
  await closeAndWait(ws);
});

Deno.test("relayWebSocket() touches the route's activity on frames", async () => {
  const clock = manualClock(1_000);
  await using p = await proxyToEcho({ now: clock.now }, "/user/alice");
  const ws = await open(`ws://127.0.0.1:${p.port}/user/alice/ws`);
  clock.set(5_000);
  assert.notEqual(p.proxy.activity.get("/user/alice"), 5_000);
  const reply = nextMessage(ws);
  ws.send("tick");
  await reply;
  assert.equal(p.proxy.activity.get("/user/alice"), 5_000);
  await closeAndWait(ws);
});

Deno.test("relayWebSocket() passes the upstream's refusal (403) to the client", async () => {
  await using p = await proxyToEcho();
  await using client = await RawClient.connect(p.port);
  await client.write(
    `GET /status/403 HTTP/1.1\r\nHost: hub.test\r\n${HANDSHAKE}\r\n`,
  );
  const res = await client.readResponse();
  assert.equal(res.status, 403);
  assert.equal(new TextDecoder().decode(res.body), "status 403");
  assert.equal(await client.closedByPeer(), true);
  const failed = await refused(`ws://127.0.0.1:${p.port}/status/403`);
  assert.deepEqual(failed, { error: true, wasClean: false });
});

Deno.test("relayWebSocket() answers 503 when the target is down", async () => {
  await using p = startProxy();
  p.proxy.addRoute("/user/alice", `http://127.0.0.1:${closedPort()}`);
  await using client = await RawClient.connect(p.port);
  await client.write(
    `GET /user/alice/api/kernels/1/channels HTTP/1.1\r\nHost: hub.test\r\n${HANDSHAKE}\r\n`,
  );
  const res = await client.readResponse();
  assert.equal(res.status, 503);
  assert.equal(await client.closedByPeer(), true);
  const failed = await refused(
    `ws://127.0.0.1:${p.port}/user/alice/api/kernels/1/channels`,
  );
  assert.deepEqual(failed, { error: true, wasClean: false });
});

Deno.test("relayWebSocket() is not reached without a route: 404", async () => {
  await using p = startProxy();
  await using client = await RawClient.connect(p.port);
  await client.write(
    `GET /user/nobody/ws HTTP/1.1\r\nHost: hub.test\r\n${HANDSHAKE}\r\n`,
  );
  assert.equal((await client.readResponse()).status, 404);
});

Deno.test("relayWebSocket() closes the upstream side when the client drops the TCP connection", async () => {
  await using p = await proxyToEcho();
  const { up } = p;
  const client = await RawClient.connect(p.port);
  await client.write(`GET /ws HTTP/1.1\r\nHost: hub.test\r\n${HANDSHAKE}\r\n`);
  assert.equal((await client.readHead())?.status, 101);
  client.close();
  await waitFor(() => up.websockets[0]?.closeCode !== null, {
    description: "the upstream socket to close",
  });
});

Deno.test("proxy.close() ends open WebSocket sessions", async () => {
  await using p = await proxyToEcho();
  const { up } = p;
  const ws = await open(`ws://127.0.0.1:${p.port}/ws`);
  const done = closed(ws);
  p.proxy.close();
  await done;
  await waitFor(() => up.websockets[0]?.closeCode !== null, {
    description: "the upstream socket to close",
  });
});
