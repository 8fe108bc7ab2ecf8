/**
 * Runs the built-in proxy in its own process, for tests that must measure
 * it apart from the test runner (memory under backpressure):
 *
 *     deno run -A tests/_helpers/proxy_process.ts <prefix> <target> [<prefix> <target>...]
 *
 * It listens on 127.0.0.1 port 0, prints one line `{"port": N}` to stdout,
 * and stops when its stdin closes (so it cannot outlive the test that
 * spawned it with `stdin: "piped"`). See {@linkcode startProxyProcess}.
 *
 * @module
 */
import { createProxy } from "../../proxy/mod.ts";

/** A proxy running in a child process. */
export interface ProxyProcess extends AsyncDisposable {
  pid: number;
  port: number;
  /** Resident memory of the process now, in bytes (Linux /proc). */
  rss(): Promise<number>;
}

/** Spawns this script with the given routes and waits for its port. */
export async function startProxyProcess(
  routes: Record<string, string>,
): Promise<ProxyProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL(import.meta.url).pathname,
      ...Object.entries(routes).flat(),
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const stop = async () => {
    try {
      await child.stdin.close();
    } catch { /* closed already */ }
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    try {
      await child.status;
    } finally {
      clearTimeout(timer);
    }
  };
  let line = "";
  try {
    const reader = child.stdout.pipeThrough(new TextDecoderStream())
      .getReader();
    while (!line.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) {
        throw new Error(
          `The proxy process exited before printing its port: ${
            JSON.stringify(line)
          }`,
        );
      }
      line += value;
    }
    await reader.cancel();
  } catch (error) {
    await stop();
    throw error;
  }
  const { port } = JSON.parse(line.split("\n", 1)[0]!) as { port: number };
  return {
    pid: child.pid,
    port,
    async rss() {
      const status = await Deno.readTextFile(`/proc/${child.pid}/status`);
      const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status);
      if (!kb) throw new Error(`No VmRSS in /proc/${child.pid}/status`);
      return Number(kb[1]) * 1024;
    },
    [Symbol.asyncDispose]: stop,
  };
}

if (import.meta.main) {
  const proxy = createProxy();
  for (let i = 0; i + 1 < Deno.args.length; i += 2) {
    proxy.addRoute(Deno.args[i]!, Deno.args[i + 1]!);
  }
  const listener = proxy.listen({ hostname: "127.0.0.1", port: 0 });
  await Deno.stdout.write(
    new TextEncoder().encode(JSON.stringify({ port: listener.port }) + "\n"),
  );
  // Until the parent closes our stdin.
  for await (const _ of Deno.stdin.readable) { /* ignore input */ }
  proxy.close();
  await listener.finished;
}
