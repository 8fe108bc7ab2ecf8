/**
 * Runs the real `main.ts` in a subprocess and waits for a log line:
 * - `startMain(args, { ready, env })`: any subcommand; resolves with the
 *   regular-expression match of `ready` in its output.
 * - `startServe(args)`: `serve` on 127.0.0.1 with ports 0; `hub.url` is the
 *   public URL from its "listening url=" line.
 * - `runMain(args, env)`: runs a command to completion; `runOnehub(args)`
 *   the same for a command that must succeed (its trimmed output).
 * - `startPamServe(dataDir, config)`: `serve` with PAM login on `dataDir`
 *   and a config file written there.
 * - `writeHubConfig(dir, lines)`: writes `<dir>/config.yaml` with `data_dir`
 *   set to `dir`.
 * `await using` stops a process with SIGTERM (use `stop()` for its status).
 *
 * @module
 */
import assert from "node:assert/strict";
import { repoPath } from "./paths.ts";

/** A running `main.ts` process. */
export interface MainProcess extends AsyncDisposable {
  /** The match of the `ready` pattern. */
  match: RegExpExecArray;
  pid: number;
  /** Everything it logged so far. */
  log(): string;
  /** SIGTERM, then the exit status. */
  stop(): Promise<number>;
  /** The exit status of a process that stops by itself (no signal sent); rejects after `timeoutMs`. */
  exited(timeoutMs: number): Promise<number>;
}

/** A running hub process. */
export interface ServeProcess extends MainProcess {
  url: string;
}

/** Starts `deno run -A main.ts ...args` and waits until its output matches `ready`. */
export async function startMain(
  args: string[],
  options: { ready: RegExp; env?: Record<string, string>; timeoutMs?: number },
): Promise<MainProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", repoPath("main.ts"), ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    ...(options.env ? { env: options.env } : {}),
  }).spawn();
  let text = "";
  const decoder = new TextDecoder();
  const ready = Promise.withResolvers<RegExpExecArray>();
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) {
      text += decoder.decode(chunk, { stream: true });
      const m = options.ready.exec(text);
      if (m) ready.resolve(m);
    }
  };
  const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${args[0]} did not start:\n${text}`)),
      options.timeoutMs ?? 20_000,
    );
  });
  const exited = child.status.then((s) => {
    throw new Error(
      `${args[0]} exited with ${s.code} before it was ready:\n${text}`,
    );
  });
  exited.catch(() => {});
  let match: RegExpExecArray;
  try {
    match = await Promise.race([ready.promise, timeout, exited]);
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
  const exitedWithin = async (timeoutMs: number) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(new Error(`${args[0]} did not exit within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      const status = await Promise.race([child.status, late]);
      await pumps;
      return status.code;
    } finally {
      clearTimeout(timer);
    }
  };
  return {
    match,
    pid: child.pid,
    log: () => text,
    stop,
    exited: exitedWithin,
    [Symbol.asyncDispose]: async () => void await stop(),
  };
}

/** Starts `serve` on 127.0.0.1 with a free public port and a free hub port. */
export async function startServe(
  args: string[],
  options: { timeoutMs?: number } = {},
): Promise<ServeProcess> {
  const proc = await startMain([
    "serve",
    "--ip",
    "127.0.0.1",
    "--port",
    "0",
    "--hub-port",
    "0",
    ...args,
  ], {
    ready: /listening url=(https?:\/\/[^\s]+\/)/,
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
  });
  return { ...proc, url: proc.match[1]! };
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

/** Runs `onehub …` (`main.ts`) to completion, asserts it exits 0 (else throws with its stderr); its trimmed output. */
export async function runOnehub(args: string[]): Promise<string> {
  const out = await runMain(args);
  assert.equal(out.code, 0, out.stderr);
  return out.stdout.trim();
}

/**
 * Writes `config` to `<dataDir>/config.yaml` and starts `serve --auth pam
 * --data-dir <dataDir> --config <that file>`.
 */
export async function startPamServe(
  dataDir: string,
  config: string,
): Promise<ServeProcess> {
  await Deno.writeTextFile(`${dataDir}/config.yaml`, config);
  return await startServe([
    "--auth",
    "pam",
    "--data-dir",
    dataDir,
    "--config",
    `${dataDir}/config.yaml`,
  ]);
}

/**
 * Writes `<dir>/config.yaml`: `data_dir: <dir>`, then `lines`, joined with
 * newlines (end `lines` with "" for a final newline); returns its path.
 */
export async function writeHubConfig(
  dir: string,
  lines: string[],
): Promise<string> {
  const config = `${dir}/config.yaml`;
  await Deno.writeTextFile(config, [`data_dir: ${dir}`, ...lines].join("\n"));
  return config;
}
