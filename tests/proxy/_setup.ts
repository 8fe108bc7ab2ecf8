/**
 * Starts a proxy for a test: `await using p = startProxy(options)` builds
 * it with {@linkcode createProxy}, listens on 127.0.0.1 port 0 and, on
 * dispose, closes every listener and connection and waits until the
 * listener has finished.
 *
 * @module
 */
import {
  createProxy,
  type Proxy,
  type ProxyListener,
  type ProxyOptions,
} from "../../proxy/server.ts";
import {
  get,
  RawClient,
  type RawResponse,
  startRawServer,
} from "./_raw_http.ts";

/** A listening proxy. */
export interface RunningProxy extends AsyncDisposable {
  proxy: Proxy;
  listener: ProxyListener;
  port: number;
  /** "http://127.0.0.1:PORT" */
  origin: string;
}

/** Creates and starts a proxy. */
export function startProxy(options: ProxyOptions = {}): RunningProxy {
  const proxy = createProxy(options);
  const listener = proxy.listen({ hostname: "127.0.0.1", port: 0 });
  return {
    proxy,
    listener,
    port: listener.port,
    origin: `http://127.0.0.1:${listener.port}`,
    async [Symbol.asyncDispose]() {
      proxy.close();
      await listener.finished;
    },
  };
}

/** A clock a test moves by hand. */
export function manualClock(
  start = 1_000_000,
): { now: () => number; set(t: number): void } {
  let t = start;
  return { now: () => t, set: (v) => void (t = v) };
}

const decoder = new TextDecoder();

/** A JSON body (the echo upstream's record), untyped as tests read it. */
// deno-lint-ignore no-explicit-any
export function json(body: Uint8Array): any {
  return JSON.parse(decoder.decode(body));
}

/** A request field the echo upstream recorded, or null. */
export function echoHeader(
  record: { headers: Array<[string, string]> },
  name: string,
): string | null {
  return record.headers.find(([n]) => n === name)?.[1] ?? null;
}

/**
 * `GET /` through a fresh proxy to a raw target that reads the request and
 * then writes what `answer` writes; the client's response, with everything
 * closed on dispose.
 */
export async function rawGetThroughProxy(
  answer: (conn: Deno.Conn) => Promise<void>,
): Promise<AsyncDisposable & { res: RawResponse }> {
  const stack = new AsyncDisposableStack();
  const target = stack.use(startRawServer(async (conn) => {
    await conn.read(new Uint8Array(4096));
    await answer(conn);
  }));
  const p = stack.use(startProxy());
  p.proxy.addRoute("/", target.origin);
  const client = stack.use(await RawClient.connect(p.port));
  await client.write(get("/"));
  const res = await client.readResponse();
  return { res, [Symbol.asyncDispose]: () => stack.disposeAsync() };
}
