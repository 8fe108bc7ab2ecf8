/**
 * One HTTP exchange through the proxy (forward_http.ts over http1.ts and
 * headers.ts): what reaches the target, what comes back, bodies streamed
 * both ways, keep-alive and pipelining, and the target's failures.
 */
import assert from "node:assert/strict";
import { startEchoUpstream } from "../_helpers/echo_upstream.ts";
import { waitFor } from "../_helpers/wait_for.ts";
import {
  get,
  header,
  headerValues,
  RawClient,
  startRawServer,
} from "./_raw_http.ts";
import type { ProxyOptions } from "../../proxy/server.ts";
import {
  echoed,
  echoHeader,
  json,
  proxyToEcho,
  rawGetThroughProxy,
  startProxy,
} from "./_setup.ts";

const decoder = new TextDecoder();
const encoder = new TextEncoder();

Deno.test("proxy relays the full path and query and preserves Host", async () => {
  await using p = await proxyToEcho({}, "/user/alice");
  await using client = await RawClient.connect(p.port);
  await client.write(get("/user/alice/lab?x=1&y=%20", "hub.example.org:8000"));
  const res = await client.readResponse();
  assert.equal(res.status, 200);
  const seen = json(res.body);
  assert.equal(seen.url, "/user/alice/lab?x=1&y=%20");
  assert.equal(echoHeader(seen, "host"), "hub.example.org:8000");
});

Deno.test("proxy shows its proof to the hub's route only, never a client's copy, and never to a user's server", async () => {
  await using up = await startEchoUpstream();
  await using p = startProxy({ hubProof: "proof-of-this-hub" });
  p.proxy.addRoute("/", up.origin, { hub: true });
  p.proxy.addRoute("/user/alice", up.origin, { user: "alice" });
  await using client = await RawClient.connect(p.port);
  const forged = "X-Onehub-Proxy: guessed\r\n";
  const hub = await echoed(client, get("/hub/login", "hub.test", forged));
  assert.equal(echoHeader(hub, "x-onehub-proxy"), "proof-of-this-hub");
  const server = await echoed(
    client,
    get("/user/alice/api", "hub.test", forged),
  );
  assert.equal(echoHeader(server, "x-onehub-proxy"), null);
});

/** A request through the proxy with forged or forwarded X-Forwarded-* fields, and what the target must see. */
interface ForwardedRow {
  name: string;
  options: ProxyOptions;
  host: string;
  fields: string;
  /** Expected fields at the target; `PORT` stands for the proxy's port. */
  seen: Record<string, string>;
}

const FORWARDED_ROWS: ForwardedRow[] = [{
  name:
    "proxy sets X-Forwarded-For/Proto/Port/Host and drops forged ones from an untrusted peer",
  options: {},
  host: "hub.test",
  fields:
    "X-Forwarded-For: 6.6.6.6\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Port: 1\r\nX-Forwarded-Host: evil.test\r\n",
  seen: {
    "x-forwarded-for": "127.0.0.1",
    "x-forwarded-proto": "http",
    "x-forwarded-port": "PORT",
    "x-forwarded-host": "hub.test",
  },
}, {
  name: "proxy appends to X-Forwarded-* from a trusted downstream proxy",
  options: { trustedProxies: ["127.0.0.1"] },
  host: "internal:8000",
  fields:
    "X-Forwarded-For: 203.0.113.9\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Port: 443\r\nX-Forwarded-Host: hub.example.org\r\n",
  seen: {
    "x-forwarded-for": "203.0.113.9,127.0.0.1",
    "x-forwarded-proto": "https,http",
    "x-forwarded-port": "443,PORT",
    "x-forwarded-host": "hub.example.org",
    host: "internal:8000",
  },
}];

for (const row of FORWARDED_ROWS) {
  Deno.test(row.name, async () => {
    await using p = await proxyToEcho(row.options);
    await using client = await RawClient.connect(p.port);
    const seen = await echoed(client, get("/hub/", row.host, row.fields));
    for (const [field, value] of Object.entries(row.seen)) {
      assert.equal(
        echoHeader(seen, field),
        value.replace("PORT", String(p.port)),
      );
    }
  });
}

Deno.test("proxy strips hop-by-hop request fields and those named in Connection", async () => {
  await using p = await proxyToEcho();
  await using client = await RawClient.connect(p.port);
  const seen = await echoed(
    client,
    get(
      "/",
      "hub.test",
      "Connection: keep-alive, X-Secret\r\nX-Secret: 1\r\nKeep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\n" +
        "TE: trailers\r\nUpgrade: h2c\r\nX-Kept: yes\r\n",
    ),
  );
  const names = seen.headers.map(([n]: [string, string]) => n);
  for (
    const gone of [
      "connection",
      "x-secret",
      "keep-alive",
      "proxy-connection",
      "te",
      "upgrade",
    ]
  ) {
    assert.ok(!names.includes(gone), `${gone} reached the target: ${names}`);
  }
  assert.equal(echoHeader(seen, "x-kept"), "yes");
});

Deno.test("proxy strips hop-by-hop response fields and keeps the rest as sent", async () => {
  await using ex = await rawGetThroughProxy(async (conn) => {
    await conn.write(new TextEncoder().encode(
      "HTTP/1.1 200 OK\r\nConnection: X-Private\r\nX-Private: 1\r\nKeep-Alive: timeout=5\r\nX-Kept: 2\r\n" +
        "Content-Length: 2\r\n\r\nok",
    ));
  });
  const res = ex.res;
  assert.equal(decoder.decode(res.body), "ok");
  assert.deepEqual(res.headers.map(([n]) => n.toLowerCase()).sort(), [
    "content-length",
    "x-kept",
  ]);
});

Deno.test("proxy keeps two Set-Cookie fields apart", async () => {
  await using p = await proxyToEcho();
  await using client = await RawClient.connect(p.port);
  await client.write(get("/cookies"));
  const res = await client.readResponse();
  assert.deepEqual(headerValues(res.headers, "set-cookie"), [
    "a=1; Path=/",
    "b=2; Path=/; HttpOnly",
  ]);
});

Deno.test("proxy passes a gzip body and its Content-Encoding through byte for byte", async () => {
  await using p = await proxyToEcho();
  const { up } = p;
  await using client = await RawClient.connect(p.port);
  await client.write(get("/gzip", "hub.test", "Accept-Encoding: gzip\r\n"));
  const res = await client.readResponse();
  assert.equal(header(res.headers, "content-encoding"), "gzip");
  assert.deepEqual(res.body, up.gzipBody);
});

Deno.test("proxy streams a 5 MiB request body to the target", async () => {
  await using p = await proxyToEcho();
  const body = crypto.getRandomValues(new Uint8Array(64 * 1024));
  const big = new Uint8Array(5 * 1024 * 1024);
  for (let i = 0; i < big.length; i += body.length) big.set(body, i);
  const res = await fetch(`${p.origin}/upload`, { method: "POST", body: big });
  const seen = await res.json();
  assert.equal(seen.bodyLength, big.length);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", big));
  assert.equal(
    seen.bodySha256,
    Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join(""),
  );
  assert.equal(echoHeader(seen, "content-length"), String(big.length));
});

Deno.test("proxy relays a chunked upload with its framing", async () => {
  await using p = await proxyToEcho();
  const parts = ["first;", "second;", "x".repeat(50_000)];
  const encoder = new TextEncoder();
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = parts.shift();
      if (next === undefined) controller.close();
      else controller.enqueue(encoder.encode(next));
    },
  });
  const res = await fetch(`${p.origin}/upload`, {
    method: "POST",
    body: stream,
  });
  const seen = await res.json();
  assert.equal(seen.bodyLength, 6 + 7 + 50_000);
  assert.equal(echoHeader(seen, "transfer-encoding"), "chunked");
  assert.ok(seen.text.startsWith("first;second;xxx"));
});

Deno.test("proxy delivers the first event of an event stream before the stream ends", async () => {
  await using p = await proxyToEcho();
  const { up } = p;
  const res = await fetch(`${p.origin}/sse?ms=150&count=4`);
  assert.equal(res.headers.get("content-type"), "text/event-stream");
  const reader = res.body!.getReader();
  const first = await reader.read();
  const firstAt = Date.now();
  assert.equal(decoder.decode(first.value), "data: 0\n\n");
  let rest = "";
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    rest += decoder.decode(r.value);
  }
  assert.equal(rest, "data: 1\n\ndata: 2\n\ndata: 3\n\n");
  const endedAt = up.streams[0]!.endedAt;
  assert.ok(
    endedAt !== null && firstAt < endedAt,
    `first event at ${firstAt}, stream ended at ${endedAt}`,
  );
});

async function readBig(res: Response): Promise<number> {
  let offset = 0;
  for await (const chunk of res.body!) {
    // Spot-check the pattern (byte i is i % 256) at both ends of every chunk.
    assert.equal(chunk[0], offset & 0xff);
    assert.equal(chunk[chunk.length - 1], (offset + chunk.length - 1) & 0xff);
    offset += chunk.length;
  }
  return offset;
}

Deno.test("proxy streams a chunked download larger than any buffer to the end", async () => {
  await using p = await proxyToEcho();
  const res = await fetch(`${p.origin}/big?mb=64`);
  assert.equal(res.headers.get("content-length"), null);
  assert.equal(await readBig(res), 64 * 1024 * 1024);
});

Deno.test("proxy streams a Content-Length download larger than any buffer to the end", async () => {
  await using p = await proxyToEcho();
  const res = await fetch(`${p.origin}/big?mb=64&length=1`);
  assert.equal(res.headers.get("content-length"), String(64 * 1024 * 1024));
  assert.equal(await readBig(res), 64 * 1024 * 1024);
});

Deno.test("proxy answers many sequential requests on one keep-alive connection", async () => {
  await using p = await proxyToEcho();
  const { up } = p;
  await using client = await RawClient.connect(p.port);
  for (let i = 0; i < 60; i++) {
    const body = "b".repeat(i * 97);
    // Alternate bodyless GETs and POSTs of growing size, so buffer offsets move between requests.
    if (i % 2) {
      await client.write(
        `POST /r${i} HTTP/1.1\r\nHost: hub.test\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      );
    } else await client.write(get(`/r${i}?pad=${"p".repeat(i * 31)}`));
    const res = await client.readResponse();
    assert.equal(res.status, 200, `request ${i}`);
    const seen = json(res.body);
    assert.equal(seen.url.split("?")[0], `/r${i}`);
    assert.equal(seen.bodyLength, i % 2 ? body.length : 0);
  }
  assert.equal(up.requests.length, 60);
});

Deno.test("proxy answers pipelined requests in order", async () => {
  await using p = await proxyToEcho();
  await using client = await RawClient.connect(p.port);
  await client.write(
    get("/one") +
      "POST /two HTTP/1.1\r\nHost: hub.test\r\nContent-Length: 5\r\n\r\nhello" +
      "POST /three HTTP/1.1\r\nHost: hub.test\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n" +
      get("/four"),
  );
  const seen = [];
  for (let i = 0; i < 4; i++) {
    seen.push(json((await client.readResponse()).body));
  }
  assert.deepEqual(seen.map((s) => [s.url, s.text]), [
    ["/one", ""],
    ["/two", "hello"],
    ["/three", "abc"],
    [
      "/four",
      "",
    ],
  ]);
});

Deno.test("proxy sends no body for HEAD, 204 and 304 and keeps the connection usable", async () => {
  await using p = await proxyToEcho();
  await using client = await RawClient.connect(p.port);
  await client.write(
    "HEAD /big?mb=1&length=1 HTTP/1.1\r\nHost: hub.test\r\n\r\n",
  );
  const head = await client.readResponse({ method: "HEAD" });
  assert.equal(head.status, 200);
  assert.equal(header(head.headers, "content-length"), String(1024 * 1024));
  await client.write(get("/status/204"));
  assert.equal((await client.readResponse()).status, 204);
  await client.write(get("/status/304"));
  assert.equal((await client.readResponse()).status, 304);
  // If any of the above had leaked a body, this response would not parse.
  await client.write(get("/after"));
  assert.equal(json((await client.readResponse()).body).url, "/after");
});

Deno.test("proxy cancels the target's stream when the client goes away mid-download", async () => {
  await using p = await proxyToEcho();
  const { up } = p;
  const client = await RawClient.connect(p.port);
  await client.write(get("/big?mb=1000"));
  assert.equal((await client.readHead())?.status, 200);
  await client.discard(1024 * 1024);
  client.close();
  await waitFor(() => up.streams[0]?.cancelled, {
    description: "the upstream stream's cancel",
  });
  assert.ok(up.streams[0]!.bytes < 1000 * 1024 * 1024);
});

Deno.test("proxy answers 502 when the target sends garbage", async () => {
  await using target = startRawServer(async (conn) => {
    await conn.read(new Uint8Array(4096));
    await conn.write(new TextEncoder().encode("SSH-2.0-OpenSSH_9.2\r\n\r\n"));
  });
  await using p = startProxy();
  p.proxy.addRoute("/", target.origin);
  const res = await fetch(`${p.origin}/`);
  assert.equal(res.status, 502);
  await res.body?.cancel();
});

Deno.test("proxy answers 502 and closes the target connection when the target's Content-Length is invalid", async () => {
  let hungUp = false;
  await using target = startRawServer(async (conn) => {
    await conn.read(new Uint8Array(4096));
    await conn.write(
      new TextEncoder().encode(
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
      ),
    );
    while (
      (await conn.read(new Uint8Array(16))) !== null
    ) { /* until the proxy hangs up */ }
    hungUp = true;
  });
  await using p = startProxy();
  p.proxy.addRoute("/", target.origin);
  await using client = await RawClient.connect(p.port);
  await client.write(get("/"));
  assert.equal((await client.readResponse()).status, 502);
  await waitFor(() => hungUp, {
    description: "the proxy to close the target connection",
  });
});

Deno.test("proxy answers 400 and closes the target connection when a request body turns out malformed", async () => {
  let received = "";
  let hungUp = false;
  // A target that reads the body and waits for the rest of it, as a real server would.
  await using target = startRawServer(async (conn) => {
    const buf = new Uint8Array(4096);
    for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) {
      received += new TextDecoder().decode(buf.subarray(0, n));
    }
    hungUp = true;
  });
  await using p = startProxy();
  p.proxy.addRoute("/", target.origin);
  await using client = await RawClient.connect(p.port);
  await client.write(
    "POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nzz\r\n",
  );
  const res = await client.readResponse();
  assert.equal(res.status, 400);
  await waitFor(() => hungUp, {
    description: "the proxy to close the target connection",
  });
  assert.match(received, /\r\n\r\n3\r\nabc$/);
});

Deno.test("proxy drops Content-Length from a response that also has Transfer-Encoding", async () => {
  await using ex = await rawGetThroughProxy(async (conn) => {
    await conn.write(new TextEncoder().encode(
      "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
    ));
  });
  const res = ex.res;
  assert.equal(header(res.headers, "content-length"), null);
  assert.equal(decoder.decode(res.body), "ok");
});

Deno.test("proxy refuses a malformed chunked body instead of guessing where it ends", async (t) => {
  // Each body is malformed where a lenient parser would end early and take the rest as a new request.
  const rows: Array<[string, string]> = [
    ["0x prefix", "0x5\r\nhello\r\n0\r\n\r\n"],
    ["garbage after the size", "5 z\r\nhello\r\n0\r\n\r\n"],
    ["data followed by a fake last chunk", "3\r\nabcXX0\r\n\r\n"],
    ["data not followed by CRLF", "3\r\nabc\n0\r\n\r\n"],
  ];
  await using p = await proxyToEcho();
  const { up } = p;
  for (const [name, body] of rows) {
    await t.step(name, async () => {
      await using client = await RawClient.connect(p.port);
      await client.write(
        `POST /chunked HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n${body}${
          get("/smuggled")
        }`,
      );
      const res = await client.readResponse();
      assert.ok(res.status >= 400, `status ${res.status}`);
      assert.equal(await client.closedByPeer(), true);
    });
  }
  assert.ok(!up.requests.some((r) => r.url === "/smuggled"));
});

Deno.test("proxy relays Expect: 100-continue before the body is sent", async () => {
  await using p = await proxyToEcho();
  await using client = await RawClient.connect(p.port);
  await client.write(
    "POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n",
  );
  const interim = await client.readResponse();
  assert.equal(interim.status, 100);
  await client.write("hello");
  const res = await client.readResponse();
  assert.equal(json(res.body).text, "hello");
});

Deno.test("proxy closes after answering an HTTP/1.0 request without keep-alive", async () => {
  await using p = await proxyToEcho();
  await using client = await RawClient.connect(p.port);
  await client.write("GET /old HTTP/1.0\r\n\r\n");
  const res = await client.readResponse();
  assert.equal(res.version, "HTTP/1.0");
  assert.equal(json(res.body).url, "/old");
  assert.equal(await client.closedByPeer(), true);
});

Deno.test("proxy retries a GET on a fresh connection when a pooled one was closed by the target", async () => {
  // The target answers one request per connection, then closes it without saying so.
  await using target = startRawServer(async (conn) => {
    await conn.read(new Uint8Array(4096));
    await conn.write(
      new TextEncoder().encode(
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
      ),
    );
  });
  await using p = startProxy();
  p.proxy.addRoute("/", target.origin);
  for (let i = 0; i < 3; i++) {
    const res = await fetch(`${p.origin}/${i}`);
    assert.equal(await res.text(), "ok", `request ${i}`);
  }
  assert.equal(target.accepted, 3);
});

Deno.test("proxy keeps concurrent requests and their pooled connections apart", async () => {
  await using p = await proxyToEcho();
  const results = await Promise.all(
    Array.from({ length: 100 }, async (_, i) => {
      const res = await fetch(`${p.origin}/c/${i}`, {
        method: "POST",
        body: `body ${i}`,
      });
      return await res.json();
    }),
  );
  results.forEach((seen, i) =>
    assert.deepEqual([seen.url, seen.text], [`/c/${i}`, `body ${i}`])
  );
});

Deno.test("proxy relays a close-delimited response and closes the client connection after it", async () => {
  await using ex = await rawGetThroughProxy(async (conn) => {
    await conn.write(
      encoder.encode(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil ",
      ),
    );
    await conn.write(encoder.encode("the end"));
  });
  const res = ex.res;
  assert.equal(header(res.headers, "connection"), "close");
  assert.equal(decoder.decode(res.body), "until the end");
});

Deno.test("proxy gives an HTTP/1.0 client a streamed body without chunked framing", async () => {
  await using p = await proxyToEcho();
  await using client = await RawClient.connect(p.port);
  await client.write("GET /big?mb=2 HTTP/1.0\r\nHost: hub.test\r\n\r\n");
  const res = await client.readResponse();
  assert.equal(header(res.headers, "transfer-encoding"), null);
  assert.equal(res.body.length, 2 * 1024 * 1024);
});

Deno.test("proxy does not resend a POST when a pooled connection turns out closed", async () => {
  await using target = startRawServer(async (conn) => {
    await conn.read(new Uint8Array(4096));
    await conn.write(
      encoder.encode("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
    );
  });
  await using p = startProxy();
  p.proxy.addRoute("/", target.origin);
  await using client = await RawClient.connect(p.port);
  await client.write(get("/first"));
  assert.equal((await client.readResponse()).status, 200);
  await client.write(
    "POST /act HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
  );
  assert.equal((await client.readResponse()).status, 503);
  assert.equal(target.accepted, 1);
});
