/**
 * The lingering close: a client still sending a body reads an answer given
 * before the body was read (the target's early 413, the proxy's own 404 and
 * 503), and lingering ends at its byte, idle and total bounds; `refuse()`
 * answers in the proxy before any `100 Continue`.
 */
import assert from "node:assert/strict";
import { BufferedConn } from "../../proxy/http1.ts";
import { lingerClose, type LingerLimits } from "../../proxy/linger.ts";
import { closedPort, header, RawClient, startRawServer } from "./_raw_http.ts";
import type { RequestSummary } from "../../proxy/server.ts";
import { startProxy } from "./_setup.ts";

/** A connected pair on loopback: `server` is the accepted side. */
async function connectedPair(): Promise<
  { client: Deno.Conn; server: Deno.Conn } & Disposable
> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  const client = await Deno.connect({
    hostname: "127.0.0.1",
    port: (listener.addr as Deno.NetAddr).port,
  });
  const server = await accepted;
  listener.close();
  return {
    client,
    server,
    [Symbol.dispose]() {
      for (const c of [client, server]) {
        try {
          c.close();
        } catch { /* closed */ }
      }
    },
  };
}

const LIMITS: LingerLimits = { maxBytes: 1 << 20, totalMs: 2000, idleMs: 300 };

/** Writes `chunk` every `everyMs` until a write fails (the other side closed). */
async function keepSending(
  conn: Deno.Conn,
  chunk: Uint8Array,
  everyMs: number,
): Promise<number> {
  let sent = 0;
  try {
    while (true) {
      sent += await conn.write(chunk);
      if (everyMs) await new Promise((r) => setTimeout(r, everyMs));
    }
  } catch {
    return sent;
  }
}

Deno.test("lingerClose() half-closes, discards what the client still sends and stops at each bound", async (t) => {
  await t.step("the client finishes its body and closes", async () => {
    using pair = await connectedPair();
    const lingering = lingerClose(new BufferedConn(pair.server), LIMITS);
    await pair.client.write(new Uint8Array(100_000));
    // Our side was half-closed: the client sees the end of the answer.
    assert.equal(await pair.client.read(new Uint8Array(16)), null);
    pair.client.close();
    assert.deepEqual(await lingering, { bytes: 100_000, end: "closed" });
  });
  await t.step("a client sending without end is cut at maxBytes", async () => {
    using pair = await connectedPair();
    const sending = keepSending(pair.client, new Uint8Array(64 * 1024), 0);
    const result = await lingerClose(new BufferedConn(pair.server), LIMITS);
    assert.equal(result.end, "bytes");
    assert.ok(result.bytes > LIMITS.maxBytes, String(result.bytes));
    assert.ok(await sending > 0);
  });
  await t.step("a silent client is cut after idleMs", async () => {
    using pair = await connectedPair();
    const result = await lingerClose(new BufferedConn(pair.server), LIMITS);
    assert.deepEqual(result, { bytes: 0, end: "idle" });
  });
  await t.step("a trickling client is cut after totalMs", async () => {
    using pair = await connectedPair();
    const sending = keepSending(pair.client, new Uint8Array(10), 50);
    const result = await lingerClose(new BufferedConn(pair.server), {
      ...LIMITS,
      totalMs: 600,
    });
    assert.equal(result.end, "time");
    assert.ok(result.bytes > 0);
    await sending;
  });
});

const BIG = 12 * 1000 * 1000;

/** A 12 MB upload as a fetch client sends it: a Content-Length, or chunked. */
function upload(chunked: boolean): BodyInit {
  if (!chunked) return new Uint8Array(BIG);
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= BIG) return controller.close();
      sent += 64 * 1024;
      controller.enqueue(new Uint8Array(64 * 1024));
    },
  });
}

/** POSTs 12 MB through the proxy both ways; every answer must be read whole. */
async function postBoth(
  url: string,
  status: number,
  body: RegExp,
): Promise<void> {
  for (const chunked of [false, true]) {
    for (let i = 0; i < 3; i++) {
      const res = await fetch(url, { method: "POST", body: upload(chunked) });
      assert.equal(res.status, status, `chunked=${chunked}`);
      assert.match(await res.text(), body);
    }
  }
}

Deno.test("a client still sending its body reads the answer given before it was read", async (t) => {
  // A target that answers 413 at once and closes without reading the body:
  // the kernel resets the proxy's connection to it mid-copy.
  await using target = startRawServer(async (conn) => {
    const buf = new Uint8Array(16 * 1024);
    await conn.read(buf);
    const text = '{"status": 413, "message": "Request body is too large"}';
    await conn.write(
      new TextEncoder().encode(
        `HTTP/1.1 413 Payload Too Large\r\nContent-Type: application/json\r\nContent-Length: ${text.length}\r\nConnection: close\r\n\r\n${text}`,
      ),
    );
  });
  await using p = startProxy();
  p.proxy.addRoute("/early", target.origin);
  p.proxy.addRoute("/down", `http://127.0.0.1:${closedPort()}`);
  await t.step("the target's early 413", async () => {
    await postBoth(`${p.origin}/early/upload`, 413, /too large/);
  });
  await t.step("the proxy's own 404 (no route)", async () => {
    await postBoth(`${p.origin}/nowhere`, 404, /404 Not Found/);
  });
  await t.step("the proxy's own 503 (target down)", async () => {
    await postBoth(`${p.origin}/down/upload`, 503, /503/);
  });
});

Deno.test("refuse(): the proxy answers itself, before any 100 Continue, and the target never sees the request", async () => {
  await using target = startRawServer(async (conn) => {
    await conn.read(new Uint8Array(1024));
  });
  const seen: RequestSummary[] = [];
  await using p = startProxy({
    refuse: (request, route) => {
      seen.push(request);
      return route.data.hub && (request.contentLength ?? 0) > 1000
        ? { status: 413, contentType: "text/plain", body: "too large" }
        : null;
    },
  });
  p.proxy.addRoute("/", target.origin, { hub: true });
  await using client = await RawClient.connect(p.port);
  await client.write(
    "POST /hub/api/users HTTP/1.1\r\nHost: proxy.test\r\nContent-Length: 5000000\r\nExpect: 100-continue\r\n\r\n",
  );
  // The first answer is the final one: no interim 100 before it.
  const res = await client.readResponse();
  assert.equal(res.status, 413);
  assert.equal(res.reason, "Content Too Large");
  assert.equal(header(res.headers, "connection"), "close");
  assert.equal(new TextDecoder().decode(res.body), "too large");
  assert.equal(target.accepted, 0);
  assert.deepEqual(seen, [{
    method: "POST",
    path: "/hub/api/users",
    contentLength: 5_000_000,
  }]);
  // A client that sends its body anyway still reads to the end, then the proxy closes.
  await client.write(new Uint8Array(64 * 1024));
  assert.ok(await client.closedByPeer());
});
