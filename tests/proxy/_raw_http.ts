/**
 * Raw HTTP/1.1 over TCP for proxy tests, written independently of proxy/
 * so the proxy is not checked with its own parser:
 *
 * - {@linkcode RawClient}: write bytes, read one response at a time (body
 *   de-chunked, raw bytes kept), or read until the peer closes; lets a test
 *   see exactly what went over the wire (gzip bytes, duplicate fields,
 *   pipelining, keep-alive).
 * - {@linkcode startRawServer}: a TCP listener on 127.0.0.1 port 0 whose
 *   connections a test handles itself (garbage responses, and so on).
 * - {@linkcode closedPort}: a port with nothing listening.
 *
 * @module
 */

/** One response as read off the wire. */
export interface RawResponse {
  version: string;
  status: number;
  reason: string;
  /** Fields as sent, duplicates apart. */
  headers: Array<[string, string]>;
  /** The body, de-chunked. */
  body: Uint8Array;
  /** The body bytes exactly as they arrived (with chunk framing). */
  rawBody: Uint8Array;
}

/** The values of a field (case-insensitive). */
export function headerValues(
  headers: Array<[string, string]>,
  name: string,
): string[] {
  return headers.filter(([n]) => n.toLowerCase() === name.toLowerCase()).map((
    [, v],
  ) => v);
}

/** The single value of a field, or null. */
export function header(
  headers: Array<[string, string]>,
  name: string,
): string | null {
  const values = headerValues(headers, name);
  return values.length ? values.join(", ") : null;
}

const encoder = new TextEncoder();
const latin1 = new TextDecoder("latin1");

function concat(parts: Uint8Array[]): Uint8Array {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function indexOf(buf: Uint8Array, pattern: number[], from = 0): number {
  outer: for (let i = from; i + pattern.length <= buf.length; i++) {
    for (let j = 0; j < pattern.length; j++) {
      if (buf[i + j] !== pattern[j]) continue outer;
    }
    return i;
  }
  return -1;
}

/** A client connection that speaks HTTP/1.1 by hand. */
export class RawClient implements AsyncDisposable {
  readonly conn: Deno.TcpConn;
  #buf: Uint8Array = new Uint8Array(0);
  #closed = false;

  private constructor(conn: Deno.TcpConn) {
    this.conn = conn;
  }

  /** Connects to 127.0.0.1:port. */
  static async connect(port: number): Promise<RawClient> {
    return new RawClient(await Deno.connect({ hostname: "127.0.0.1", port }));
  }

  /** Writes text (as latin1-safe UTF-8) or bytes. */
  async write(data: string | Uint8Array): Promise<void> {
    let bytes = typeof data === "string" ? encoder.encode(data) : data;
    while (bytes.length) bytes = bytes.subarray(await this.conn.write(bytes));
  }

  /** Reads more; false at end of stream (or when the peer reset the connection). */
  async #fill(): Promise<boolean> {
    const chunk = new Uint8Array(64 * 1024);
    let n: number | null;
    try {
      n = await this.conn.read(chunk);
    } catch (error) {
      if (error instanceof Deno.errors.ConnectionReset) n = null;
      else throw error;
    }
    if (n === null) return false;
    this.#buf = this.#buf.length
      ? concat([this.#buf, chunk.subarray(0, n)])
      : chunk.slice(0, n);
    return true;
  }

  async #take(n: number): Promise<Uint8Array> {
    while (this.#buf.length < n) {
      if (!(await this.#fill())) {
        throw new Error(
          `Connection closed with ${this.#buf.length} of ${n} bytes`,
        );
      }
    }
    const out = this.#buf.slice(0, n);
    this.#buf = this.#buf.subarray(n);
    return out;
  }

  async #line(): Promise<Uint8Array> {
    while (true) {
      const at = indexOf(this.#buf, [13, 10]);
      if (at >= 0) {
        const line = this.#buf.slice(0, at);
        this.#buf = this.#buf.subarray(at + 2);
        return line;
      }
      if (!(await this.#fill())) {
        throw new Error("Connection closed in the middle of a line");
      }
    }
  }

  /** Reads a response head; null when the connection closed before one started. */
  async readHead(): Promise<Omit<RawResponse, "body" | "rawBody"> | null> {
    while (true) {
      const at = indexOf(this.#buf, [13, 10, 13, 10]);
      if (at >= 0) {
        const text = latin1.decode(this.#buf.subarray(0, at));
        this.#buf = this.#buf.subarray(at + 4);
        const [start, ...lines] = text.split("\r\n");
        const m = /^(HTTP\/1\.[01]) (\d{3}) ?(.*)$/.exec(start!);
        if (!m) throw new Error(`Not a status line: ${JSON.stringify(start)}`);
        const headers = lines.map((l): [string, string] => {
          const colon = l.indexOf(":");
          return [l.slice(0, colon), l.slice(colon + 1).trim()];
        });
        return { version: m[1]!, status: Number(m[2]), reason: m[3]!, headers };
      }
      if (!(await this.#fill())) {
        if (this.#buf.length === 0) return null;
        throw new Error(
          `Connection closed in a head: ${
            JSON.stringify(latin1.decode(this.#buf))
          }`,
        );
      }
    }
  }

  /** Reads one whole response (interim 1xx responses are returned on their own). */
  async readResponse(options: { method?: string } = {}): Promise<RawResponse> {
    const head = await this.readHead();
    if (head === null) throw new Error("Connection closed before a response");
    const s = head.status;
    if (
      options.method === "HEAD" || (s >= 100 && s < 200) || s === 204 ||
      s === 304
    ) {
      return { ...head, body: new Uint8Array(0), rawBody: new Uint8Array(0) };
    }
    const te = header(head.headers, "transfer-encoding");
    const cl = header(head.headers, "content-length");
    if (te !== null && /chunked$/i.test(te)) {
      const body: Uint8Array[] = [];
      const raw: Uint8Array[] = [];
      while (true) {
        const line = await this.#line();
        raw.push(line, encoder.encode("\r\n"));
        const size = parseInt(latin1.decode(line), 16);
        if (Number.isNaN(size)) {
          throw new Error(
            `Bad chunk size line ${JSON.stringify(latin1.decode(line))}`,
          );
        }
        if (size === 0) {
          while (true) {
            const trailer = await this.#line();
            raw.push(trailer, encoder.encode("\r\n"));
            if (trailer.length === 0) break;
          }
          break;
        }
        const data = await this.#take(size + 2);
        raw.push(data);
        body.push(data.subarray(0, size));
      }
      return { ...head, body: concat(body), rawBody: concat(raw) };
    }
    if (cl !== null) {
      const body = await this.#take(Number(cl));
      return { ...head, body, rawBody: body };
    }
    const body = await this.readUntilClose();
    return { ...head, body, rawBody: body };
  }

  /** Reads everything until the peer closes. */
  async readUntilClose(): Promise<Uint8Array> {
    while (await this.#fill()) { /* keep reading */ }
    const out = this.#buf;
    this.#buf = new Uint8Array(0);
    return out;
  }

  /** Reads until at least `n` more bytes arrived (or the peer closed); returns how many were read. */
  async discard(n: number): Promise<number> {
    let got = 0;
    while (got < n) {
      if (this.#buf.length === 0 && !(await this.#fill())) break;
      got += this.#buf.length;
      this.#buf = new Uint8Array(0);
    }
    return got;
  }

  /** True when the peer has closed the connection (reads one step). */
  async closedByPeer(): Promise<boolean> {
    if (this.#buf.length) return false;
    return !(await this.#fill());
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.conn.close();
    } catch { /* already closed */ }
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }
}

/** A plain `GET` request text. */
export function get(path: string, host = "proxy.test", extra = ""): string {
  return `GET ${path} HTTP/1.1\r\nHost: ${host}\r\n${extra}\r\n`;
}

/** A listener whose connections the test serves by hand. */
export interface RawServer extends AsyncDisposable {
  port: number;
  origin: string;
  /** Connections accepted so far. */
  accepted: number;
}

/** Listens on 127.0.0.1 port 0 and runs `handle` for each connection (closing it afterwards). */
export function startRawServer(
  handle: (conn: Deno.Conn) => Promise<void>,
): RawServer {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const tasks = new Set<Promise<void>>();
  const conns = new Set<Deno.Conn>();
  const server: RawServer = {
    port,
    origin: `http://127.0.0.1:${port}`,
    accepted: 0,
    async [Symbol.asyncDispose]() {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed */ }
      }
      await loop;
      await Promise.all(tasks);
    },
  };
  const loop = (async () => {
    try {
      for await (const conn of listener) {
        server.accepted++;
        conns.add(conn);
        const task = handle(conn).catch(() => {}).finally(() => {
          conns.delete(conn);
          try {
            conn.close();
          } catch { /* closed */ }
          tasks.delete(task);
        });
        tasks.add(task);
      }
    } catch { /* listener closed */ }
  })();
  return server;
}

/** A port on 127.0.0.1 with nothing listening (bound, then released). */
export function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}
