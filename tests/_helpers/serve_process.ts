/**
 * Runs the real `main.ts serve` in a subprocess on 127.0.0.1 port 0 and
 * waits for its "listening" log line: `await using hub = await startServe(args)`
 * gives `hub.url` ("http://127.0.0.1:PORT/") and stops it with SIGTERM on
 * dispose (asserting a clean exit is the caller's choice via `hub.stop()`).
 *
 * @module
 */
import { repoPath } from "./paths.ts";

/** A running hub process. */
export interface ServeProcess extends AsyncDisposable {
  url: string;
  pid: number;
  /** Everything it logged so far. */
  log(): string;
  /** SIGTERM, then the exit status. */
  stop(): Promise<number>;
}

/** Starts `deno run -A main.ts serve ...args --ip 127.0.0.1 --port 0`. */
export async function startServe(
  args: string[],
  options: { timeoutMs?: number } = {},
): Promise<ServeProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      repoPath("main.ts"),
      "serve",
      "--ip",
      "127.0.0.1",
      "--port",
      "0",
      "--hub-port",
      "0",
      ...args,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let text = "";
  const decoder = new TextDecoder();
  let resolveUrl: (url: string) => void = () => {};
  const urlPromise = new Promise<string>((r) => (resolveUrl = r));
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) {
      text += decoder.decode(chunk, { stream: true });
      const m = /listening url=(http:\/\/127\.0\.0\.1:\d+\/\S*)/.exec(text);
      if (m) resolveUrl(m[1]!);
    }
  };
  const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`hub did not start:\n${text}`)),
      options.timeoutMs ?? 20_000,
    );
  });
  const exited = child.status.then((s) => {
    throw new Error(`hub exited with ${s.code} before listening:\n${text}`);
  });
  let url: string;
  try {
    url = await Promise.race([urlPromise, timeout, exited]);
  } catch (error) {
    clearTimeout(timer);
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    await child.status;
    await pumps;
    throw error;
  }
  clearTimeout(timer);
  exited.catch(() => {});
  let stopped: Promise<number> | null = null;
  const stop = () => {
    stopped ??= (async () => {
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
      const status = await child.status;
      await pumps;
      return status.code;
    })();
    return stopped;
  };
  return {
    url,
    pid: child.pid,
    log: () => text,
    stop,
    async [Symbol.asyncDispose]() {
      await stop();
    },
  };
}

/** Runs `main.ts` with args to completion. */
export async function runMain(
  args: string[],
  env: Record<string, string> = {},
) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", repoPath("main.ts"), ...args],
    stdin: "null",
    env,
  }).output();
  const decoder = new TextDecoder();
  return {
    code: out.code,
    stdout: decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr),
  };
}
