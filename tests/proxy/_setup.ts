/**
 * Starts a proxy for a test: `await using p = startProxy(options)` builds
 * it with {@linkcode createProxy}, listens on 127.0.0.1 port 0 and, on
 * dispose, closes every listener and connection and waits until the
 * listener has finished. `await using p = await proxyToEcho(options)` adds
 * a fresh echo upstream behind it (`p.up`), routed at `/`; `echoed(client,
 * request)` sends one raw request and reads back what the echo saw.
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
import {
  type EchoUpstream,
  startEchoUpstream,
} from "../_helpers/echo_upstream.ts";

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

/** A running proxy with an echo upstream behind it. */
export interface ProxyToEcho extends RunningProxy {
  /** The echo upstream the route leads to. */
  up: EchoUpstream;
}

/**
 * Starts an echo upstream and a proxy whose route `route` (default `/`)
 * leads to it; on dispose stops the proxy, then the upstream.
 */
export async function proxyToEcho(
  options: ProxyOptions = {},
  route = "/",
): Promise<ProxyToEcho> {
  const up = await startEchoUpstream();
  const p = startProxy(options);
  p.proxy.addRoute(route, up.origin);
  return {
    ...p,
    up,
    async [Symbol.asyncDispose]() {
      await p[Symbol.asyncDispose]();
      await up[Symbol.asyncDispose]();
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

/** Writes one raw request and returns what the echo upstream saw (the response's JSON body). */
// deno-lint-ignore no-explicit-any
export async function echoed(client: RawClient, request: string): Promise<any> {
  await client.write(request);
  return json((await client.readResponse()).body);
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
