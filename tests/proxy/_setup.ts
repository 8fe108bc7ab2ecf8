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
} from "../../proxy/mod.ts";

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
