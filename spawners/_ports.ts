/**
 * Free-port selection: let the kernel pick (bind port 0), read, close.
 * Another process could take the port before the server binds it; the
 * readiness check then fails and the spawn is reported as failed.
 *
 * @module
 */
import { SpawnError } from "./_spawn_error.ts";

/**
 * A TCP port that was free on `ip` a moment ago.
 *
 * @param ip the address the server will bind @default {"127.0.0.1"}
 * @throws {SpawnError} when `ip` cannot be bound
 */
export function freePort(ip = "127.0.0.1"): Promise<number> {
  try {
    const listener = Deno.listen({ hostname: ip, port: 0, transport: "tcp" });
    const port = listener.addr.port;
    listener.close();
    return Promise.resolve(port);
  } catch (error) {
    return Promise.reject(
      new SpawnError(
        `Cannot find a free port on "${ip}": ${(error as Error).message}`,
        { cause: error },
      ),
    );
  }
}
