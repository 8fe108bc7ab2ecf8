/**
 * `serveLocal(handler)`: `Deno.serve` on 127.0.0.1 and a free port,
 * resolved once it listens, stopped (and awaited) by `await using` or
 * `close()`.
 *
 * @module
 */

/** A server on loopback. */
export interface LocalServer extends AsyncDisposable {
  port: number;
  /** `http://127.0.0.1:<port>` */
  origin: string;
  close(): Promise<void>;
}

/** Serves `handler` on 127.0.0.1 at a free port. */
export async function serveLocal(
  handler: Deno.ServeHandler,
): Promise<LocalServer> {
  const controller = new AbortController();
  const listening = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    signal: controller.signal,
    onListen: (addr) => listening.resolve(addr as Deno.NetAddr),
  }, handler);
  const { port } = await listening.promise;
  let closed: Promise<void> | null = null;
  const close = () => {
    closed ??= (async () => {
      controller.abort();
      await server.finished;
    })();
    return closed;
  };
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    close,
    [Symbol.asyncDispose]: close,
  };
}
