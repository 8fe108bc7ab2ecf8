import assert from "node:assert/strict";
import {
  BufferedConn,
  type Conn,
  MAX_HEAD_BYTES,
  ProtocolError,
  UnexpectedEof,
} from "../../proxy/http1.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A connection that yields the given reads one by one and records what is written to it. */
function scriptedConn(
  reads: Array<string | Uint8Array>,
): { conn: Conn; written: () => string } {
  const queue = reads.map((
    r,
  ) => (typeof r === "string" ? encoder.encode(r) : r));
  const out: Uint8Array[] = [];
  const fake = {
    read(buf: Uint8Array): Promise<number | null> {
      const next = queue.shift();
      if (next === undefined) return Promise.resolve(null);
      const n = Math.min(buf.length, next.length);
      buf.set(next.subarray(0, n));
      if (n < next.length) queue.unshift(next.subarray(n));
      return Promise.resolve(n);
    },
    write(data: Uint8Array): Promise<number> {
      out.push(data.slice());
      return Promise.resolve(data.length);
    },
  };
  return {
    conn: fake as unknown as Conn,
    written: () => out.map((b) => decoder.decode(b)).join(""),
  };
}

Deno.test("BufferedConn.readHead() returns heads split across reads and keeps what follows", async () => {
  const { conn } = scriptedConn([
    "GET / HT",
    "TP/1.1\r\nHost: a\r",
    "\n\r\nGET /2 HTTP/1.1\r\n\r\n",
  ]);
  const reader = new BufferedConn(conn);
  assert.equal(await reader.readHead(), "GET / HTTP/1.1\r\nHost: a");
  assert.equal(await reader.readHead(), "GET /2 HTTP/1.1");
  assert.equal(await reader.readHead(), null);
});

Deno.test("BufferedConn.readHead() skips empty lines before a head", async () => {
  const { conn } = scriptedConn(["\r\n\r\nGET / HTTP/1.1\r\n\r\n"]);
  assert.equal(await new BufferedConn(conn).readHead(), "GET / HTTP/1.1");
});

Deno.test("BufferedConn.readHead() finds a head whose blank line straddles a buffer refill", async () => {
  // Many small heads so the buffer compacts and the terminator lands on every offset.
  const heads = Array.from(
    { length: 400 },
    (_, i) => `GET /${"x".repeat(i)} HTTP/1.1\r\nHost: a\r\n\r\n`,
  ).join("");
  const bytes = encoder.encode(heads);
  const reads: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += 1000) {
    reads.push(bytes.subarray(i, i + 1000));
  }
  const reader = new BufferedConn(scriptedConn(reads).conn);
  for (let i = 0; i < 400; i++) {
    assert.equal(
      await reader.readHead(),
      `GET /${"x".repeat(i)} HTTP/1.1\r\nHost: a`,
    );
  }
  assert.equal(await reader.readHead(), null);
});

Deno.test("BufferedConn.readHead() refuses a head over MAX_HEAD_BYTES even when it arrives at once", async (t) => {
  for (const size of [MAX_HEAD_BYTES + 1, 100 * 1024, 300 * 1024]) {
    await t.step(`${size} bytes`, async () => {
      const head = `GET / HTTP/1.1\r\nX: ${"x".repeat(size)}\r\n\r\n`;
      const reader = new BufferedConn(scriptedConn([head]).conn);
      await assert.rejects(
        () => reader.readHead(),
        (e) => e instanceof ProtocolError && e.status === 431,
      );
    });
  }
});

Deno.test("BufferedConn.readHead() reports a head cut short by the peer", async () => {
  const reader = new BufferedConn(scriptedConn(["GET / HTTP/1.1\r\nHo"]).conn);
  await assert.rejects(() => reader.readHead(), UnexpectedEof);
});

Deno.test("copyBody() copies exactly Content-Length bytes and leaves the rest buffered", async () => {
  const source = new BufferedConn(scriptedConn(["hel", "lo world"]).conn);
  const sink = scriptedConn([]);
  await source.copyBody(sink.conn, { kind: "length", length: 5 });
  assert.equal(sink.written(), "hello");
  assert.equal(
    decoder.decode(source.buf.subarray(source.start, source.end)),
    " world",
  );
});

Deno.test("copyBody() relays a well-formed chunked body unchanged", async (t) => {
  const rows: Array<[string, string[]]> = [
    ["one read", ["5\r\nhello\r\n0\r\n\r\n"]],
    ["byte by byte", [..."5\r\nhello\r\n0\r\n\r\n"]],
    ["extensions and upper-case hex", [
      "A;name=value\r\n0123456789\r\n0;last\r\n\r\n",
    ]],
    ["spaces before an extension", ["5 ;x\r\nhello\r\n0\r\n\r\n"]],
    ["trailer fields", ["3\r\nabc\r\n0\r\nX-Sum: 1\r\nX-Other: 2\r\n\r\n"]],
    ["empty body", ["0\r\n\r\n"]],
  ];
  for (const [name, reads] of rows) {
    await t.step(name, async () => {
      const source = new BufferedConn(scriptedConn([...reads, "NEXT"]).conn);
      const sink = scriptedConn([]);
      await source.copyBody(sink.conn, { kind: "chunked" });
      assert.equal(sink.written(), reads.join(""));
      assert.equal(
        decoder.decode(source.buf.subarray(source.start, source.end)),
        "",
      );
    });
  }
});

Deno.test("copyBody() refuses a chunked body a lenient parser would end early", async (t) => {
  const rows: Array<[string, string]> = [
    ["0x prefix", "0x5\r\nhello\r\n0\r\n\r\n"],
    ["garbage after the size", "5z\r\nhello\r\n0\r\n\r\n"],
    ["no digits", ";x\r\n"],
    ["negative", "-1\r\n"],
    ["data longer than the size", "3\r\nabcXX\r\n0\r\n\r\n"],
    ["data not followed by CRLF", "3\r\nabc\n0\r\n\r\n"],
    ["data then a fake last chunk", "3\r\nabcXX0\r\n\r\n"],
    ["bare LF in an extension", "3;a\nb\r\nabc\r\n0\r\n\r\n"],
    ["malformed trailer", "0\r\nnot a field\r\n\r\n"],
    ["bare LF trailer", "0\r\nX: 1\nY: 2\r\n\r\n"],
    ["oversized size", "1000000000000\r\n"],
  ];
  for (const [name, body] of rows) {
    await t.step(name, async () => {
      const source = new BufferedConn(scriptedConn([body]).conn);
      await assert.rejects(
        () => source.copyBody(scriptedConn([]).conn, { kind: "chunked" }),
        (e) => e instanceof ProtocolError && e.status === 400,
      );
    });
  }
});

Deno.test("copyBody() reports a chunked body cut short", async () => {
  const source = new BufferedConn(scriptedConn(["5\r\nhel"]).conn);
  await assert.rejects(
    () => source.copyBody(scriptedConn([]).conn, { kind: "chunked" }),
    UnexpectedEof,
  );
});

Deno.test("copyBody() copies a close-delimited body until the peer closes", async () => {
  const source = new BufferedConn(scriptedConn(["a", "bc", "def"]).conn);
  const sink = scriptedConn([]);
  await source.copyBody(sink.conn, { kind: "close" });
  assert.equal(sink.written(), "abcdef");
});
