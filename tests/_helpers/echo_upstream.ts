/**
 * An upstream for proxy tests: `await using up = await startEchoUpstream()`
 * serves on 127.0.0.1 port 0 (Deno.serve, stopped by an AbortController on
 * dispose) and records what reached it. Routes:
 *
 * - any path not below: `200` JSON {@linkcode EchoRecord} of the request
 *   (method, path + query, headers, body length + SHA-256, body text when
 *   short); also pushed to `up.requests`.
 * - `/sse?ms=N&count=K`: `text/event-stream`, one `data: <i>` event at once
 *   and then every N ms (default 100), K events (default 5); the stream's
 *   fate is in `up.streams` (`endedAt`, `cancelled`).
 * - `/big?mb=N[&length=1]`: N MiB (default 1) streamed in 64 KiB chunks
 *   as they are pulled; byte i is `i % 256`; with `length=1` a
 *   Content-Length is sent, else chunked. Bytes pulled and cancellation in
 *   `up.streams`.
 * - `/gzip`: `up.gzipBody` (gzip of a text) with `content-encoding: gzip`,
 *   served as-is.
 * - `/cookies`: two separate `Set-Cookie` fields (`a=1; Path=/`,
 *   `b=2; Path=/; HttpOnly`).
 * - `/status/NNN`: that status; body `status NNN` except 204/304; 3xx
 *   adds `Location: /elsewhere`.
 * - `/slow-head?ms=N`: waits N ms, then answers like the echo route.
 * - WebSocket `/ws`: accepts the LAST subprotocol offered (recorded in
 *   `up.websockets`), echoes text and binary; the text `close:CODE:REASON`
 *   makes the server close with that code; the close code/reason the
 *   client sent is recorded (`closeCode`, `closeReason`).
 * - WebSocket `/ws-flood?count=N&size=BYTES`: sends N binary messages of
 *   BYTES (default 1 MiB) as fast as the connection drains (it keeps at
 *   most 2 messages queued, so `up.floodSent()` counts bytes the kernel
 *   took), then closes with 1000.
 *
 * A leading `/user/<name>` is ignored when choosing the route, so the
 * upstream can sit behind a user route (`/user/alice/ws` is the WebSocket
 * echo); records keep the full path as received.
 *
 * Headers are recorded as Deno's `Headers` iterate: lower-case names,
 * repeated fields joined with ", " (Set-Cookie apart).
 *
 * @module
 */

/** What the echo route saw. */
export interface EchoRecord {
  method: string;
  /** Path and query, as received (prefix included). */
  url: string;
  headers: Array<[string, string]>;
  bodyLength: number;
  bodySha256: string;
  /** The body as text when it is at most 64 KiB. */
  text: string | null;
  remoteAddr: string;
}

/** A streamed response and what became of it. */
export interface StreamRecord {
  path: string;
  /** Bytes handed to the server so far. */
  bytes: number;
  /** When the stream finished normally (epoch ms). */
  endedAt: number | null;
  /** True once the reader cancelled it (the client went away). */
  cancelled: boolean;
}

/** A WebSocket session. */
export interface WebSocketRecord {
  path: string;
  /** Subprotocols the client offered. */
  offered: string[];
  /** The one accepted ("" for none). */
  protocol: string;
  headers: Array<[string, string]>;
  messages: number;
  closeCode: number | null;
  closeReason: string | null;
}

/** A running echo upstream. */
export interface EchoUpstream extends AsyncDisposable {
  port: number;
  /** "http://127.0.0.1:PORT" */
  origin: string;
  requests: EchoRecord[];
  streams: StreamRecord[];
  websockets: WebSocketRecord[];
  /** The exact bytes `/gzip` sends. */
  gzipBody: Uint8Array;
  /** Bytes of `/ws-flood` messages the sockets actually got rid of. */
  floodSent(): number;
  close(): Promise<void>;
}

const MiB = 1024 * 1024;
const CHUNK = 64 * 1024;

async function sha256(data: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    data as Uint8Array<ArrayBuffer>,
  );
  return Array.from(
    new Uint8Array(digest),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
}

async function gzip(text: string): Promise<Uint8Array> {
  const stream = new Blob([text]).stream().pipeThrough(
    new CompressionStream("gzip"),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function intParam(url: URL, name: string, fallback: number): number {
  const value = url.searchParams.get(name);
  return value === null ? fallback : Number(value);
}

/** The bytes `/big` sends: byte i is `i % 256`. */
export function bigPattern(offset: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (offset + i) & 0xff;
  return out;
}

/** Starts the upstream. */
export async function startEchoUpstream(): Promise<EchoUpstream> {
  const abort = new AbortController();
  const requests: EchoRecord[] = [];
  const streams: StreamRecord[] = [];
  const websockets: WebSocketRecord[] = [];
  const sockets = new Set<WebSocket>();
  const controllers = new Set<ReadableStreamDefaultController<Uint8Array>>();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const floods: Array<{ socket: WebSocket; queued: number }> = [];
  const gzipBody = await gzip("onehub proxy gzip test body\n".repeat(500));
  const encoder = new TextEncoder();

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const id = setTimeout(() => {
        timers.delete(id);
        resolve();
      }, ms);
      timers.add(id);
    });

  async function echo(
    request: Request,
    remoteAddr: string,
  ): Promise<Response> {
    const body = new Uint8Array(await request.arrayBuffer());
    const full = new URL(request.url);
    const record: EchoRecord = {
      method: request.method,
      url: full.pathname + full.search,
      headers: [...request.headers],
      bodyLength: body.length,
      bodySha256: await sha256(body),
      text: body.length <= 64 * 1024 ? new TextDecoder().decode(body) : null,
      remoteAddr,
    };
    requests.push(record);
    return Response.json(record);
  }

  /**
   * A body pulled one chunk at a time (no read-ahead), recorded in
   * `streams`: bytes sent, when it ended, whether the reader cancelled.
   * `next` gives each chunk and whether it is the last.
   */
  function recordedStream(
    path: string,
    next: (
      record: StreamRecord,
    ) => Promise<{ chunk: Uint8Array; last: boolean } | null>,
  ): ReadableStream<Uint8Array> {
    const record: StreamRecord = {
      path,
      bytes: 0,
      endedAt: null,
      cancelled: false,
    };
    streams.push(record);
    let ctl: ReadableStreamDefaultController<Uint8Array>;
    return new ReadableStream<Uint8Array>({
      start(controller) {
        ctl = controller;
        controllers.add(controller);
      },
      async pull(controller) {
        const step = await next(record);
        if (step === null || record.cancelled) return;
        record.bytes += step.chunk.length;
        controller.enqueue(step.chunk);
        if (step.last) {
          record.endedAt = Date.now();
          controllers.delete(ctl);
          controller.close();
        }
      },
      cancel() {
        record.cancelled = true;
        controllers.delete(ctl);
      },
    }, { highWaterMark: 0 });
  }

  function sse(url: URL): Response {
    const ms = intParam(url, "ms", 100);
    const count = intParam(url, "count", 5);
    let sent = 0;
    const body = recordedStream(url.pathname, async (record) => {
      if (sent > 0) await sleep(ms);
      if (record.cancelled) return null;
      const chunk = encoder.encode(`data: ${sent}\n\n`);
      return { chunk, last: ++sent === count };
    });
    return new Response(body, {
      headers: {
        "content-type": "text/event-stream",
        "cache-control": "no-cache",
      },
    });
  }

  function big(url: URL): Response {
    const total = intParam(url, "mb", 1) * MiB;
    const template = bigPattern(0, CHUNK); // CHUNK is a multiple of 256: every chunk is the same
    const body = recordedStream(url.pathname, (record) => {
      const n = Math.min(CHUNK, total - record.bytes);
      return Promise.resolve({
        chunk: template.slice(0, n),
        last: record.bytes + n >= total,
      });
    });
    const headers: Record<string, string> = {
      "content-type": "application/octet-stream",
    };
    if (url.searchParams.get("length") === "1") {
      headers["content-length"] = String(total);
    }
    return new Response(body, { headers });
  }

  function status(url: URL): Response {
    const code = Number(url.pathname.slice("/status/".length));
    const headers: Record<string, string> = {};
    if (code >= 300 && code < 400) headers["location"] = "/elsewhere";
    const body = code === 204 || code === 304 ? null : `status ${code}`;
    return new Response(body, { status: code, headers });
  }

  function websocket(request: Request, url: URL): Response {
    const offered = (request.headers.get("sec-websocket-protocol") ?? "")
      .split(",").map((p) => p.trim()).filter((p) => p);
    const protocol = offered.at(-1) ?? "";
    const headers = [...request.headers]; // (the request is unreadable once upgraded)
    const { socket, response } = Deno.upgradeWebSocket(
      request,
      protocol ? { protocol } : {},
    );
    const record: WebSocketRecord = {
      path: new URL(request.url).pathname,
      offered,
      protocol,
      headers,
      messages: 0,
      closeCode: null,
      closeReason: null,
    };
    websockets.push(record);
    sockets.add(socket);
    socket.binaryType = "arraybuffer";
    socket.onclose = (event) => {
      record.closeCode = event.code;
      record.closeReason = event.reason;
      sockets.delete(socket);
    };
    socket.onerror = () => {};
    if (url.pathname === "/ws-flood") {
      const count = intParam(url, "count", 300);
      const size = intParam(url, "size", MiB);
      const flood = { socket, queued: 0 };
      floods.push(flood);
      socket.onopen = async () => {
        const message = new Uint8Array(size).fill(0x5a);
        for (let i = 0; i < count; i++) {
          // Keep at most two messages queued so `queued - bufferedAmount` is what the kernel took.
          while (
            socket.readyState === WebSocket.OPEN && socket.bufferedAmount > size
          ) await sleep(2);
          if (socket.readyState !== WebSocket.OPEN) return;
          socket.send(message);
          flood.queued += size;
        }
        while (
          socket.readyState === WebSocket.OPEN && socket.bufferedAmount > 0
        ) await sleep(2);
        if (socket.readyState === WebSocket.OPEN) {
          socket.close(1000, "flood done");
        }
      };
      return response;
    }
    socket.onmessage = (event) => {
      record.messages++;
      if (typeof event.data === "string") {
        const m = /^close:(\d+):(.*)$/.exec(event.data);
        if (m) return socket.close(Number(m[1]), m[2]);
      }
      socket.send(event.data);
    };
    return response;
  }

  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    signal: abort.signal,
    onListen() {},
  }, async (request, info) => {
    const url = new URL(request.url);
    // Behind a user route (`/user/alice/sse`) the routes below still apply; records keep the full path.
    url.pathname = url.pathname.replace(/^\/user\/[^/]+(?=\/)/, "");
    const remoteAddr = info.remoteAddr.hostname;
    const upgrade =
      (request.headers.get("upgrade") ?? "").toLowerCase() === "websocket";
    if (url.pathname === "/ws" || url.pathname === "/ws-flood") {
      return upgrade
        ? websocket(request, url)
        : new Response("WebSocket only", { status: 426 });
    }
    if (url.pathname === "/sse") return sse(url);
    if (url.pathname === "/big") return big(url);
    if (url.pathname === "/gzip") {
      return new Response(gzipBody.slice(), {
        headers: { "content-type": "text/plain", "content-encoding": "gzip" },
      });
    }
    if (url.pathname === "/cookies") {
      const headers = new Headers({ "content-type": "text/plain" });
      headers.append("set-cookie", "a=1; Path=/");
      headers.append("set-cookie", "b=2; Path=/; HttpOnly");
      return new Response("cookies", { headers });
    }
    if (url.pathname.startsWith("/status/")) {
      await request.body?.cancel();
      return status(url);
    }
    if (url.pathname === "/slow-head") await sleep(intParam(url, "ms", 100));
    return echo(request, remoteAddr);
  });

  const close = async () => {
    for (const socket of sockets) {
      try {
        socket.close();
      } catch { /* closing already */ }
    }
    for (const controller of controllers) {
      try {
        controller.error(new Error("upstream closed"));
      } catch { /* closed already */ }
    }
    controllers.clear();
    for (const id of timers) clearTimeout(id);
    timers.clear();
    if (!abort.signal.aborted) abort.abort();
    await server.finished;
  };

  return {
    port: server.addr.port,
    origin: `http://127.0.0.1:${server.addr.port}`,
    requests,
    streams,
    websockets,
    gzipBody,
    floodSent: () =>
      floods.reduce((sum, f) => sum + f.queued - f.socket.bufferedAmount, 0),
    close,
    [Symbol.asyncDispose]: close,
  };
}
