/**
 * A bounded pool of long-lived PAM helpers. Each helper is this same
 * program running `pam-helper --serve` (hub/cli/pam_helper_command.ts): it
 * answers one JSON request line after another, one at a time, so a login
 * costs a line on a pipe instead of a runtime start (and ~38 MB) per
 * attempt.
 *
 * What a flood of logins can make the hub spend is fixed here:
 * - at most `concurrency` helpers run at once, started on demand and ended
 *   after `idleTimeoutMs` without work (a helper that dies or times out is
 *   killed and replaced by the next request);
 * - at most `queueSize` attempts wait for one; past that an attempt is
 *   answered `"busy"` at once (the login page turns it into 429 with
 *   Retry-After), never queued without bound;
 * - the queue is fair: an attempt from a client with fewer recent failures
 *   and fewer attempts already waiting goes first, and when the queue is
 *   full it takes the place of the worst one waiting, so one guessing
 *   address cannot keep everyone else out.
 *
 * @module
 */
import {
  interpretPamHelperOutput,
  PAM_DENIED,
  pamCredentialsProblem,
  pamHelperArgv,
  type PamHelperRequest,
  pamHelperRequest,
  type PamLogin,
  type PamResult,
  spawnPamHelper,
} from "./mod.ts";
import { truncate } from "../../observe/log.ts";

/** Options for {@linkcode PamPool}. */
export interface PamPoolOptions {
  /** PAM service name; `/etc/pam.d/<service>` must exist. */
  service: string;
  /** Kill a helper and answer `"timeout"` after this many milliseconds. */
  timeoutMs: number;
  /** Helpers running at once. */
  concurrency: number;
  /** Attempts waiting for a helper, at most. */
  queueSize: number;
  /** End a helper after this long without work. @default {600_000} */
  idleTimeoutMs?: number;
  /** The helper's argv, without `--serve`. @default {pamHelperArgv()} */
  helperArgv?: string[];
}

/**
 * One attempt: the credentials, the client's address (PAM_RHOST, and the
 * fairness key) and its recent failures.
 */
export interface PamAttempt extends PamLogin {
  /** The client's recent failures (fewer go first). @default {0} */
  penalty?: number;
}

/** What {@linkcode PamPool.authenticate} resolves to. */
export type PamPoolResult = PamResult | { ok: false; reason: "busy" };

interface Waiting {
  request: PamHelperRequest;
  key: string;
  rank: number;
  seq: number;
  resolve: (result: PamPoolResult) => void;
}

/** One running helper process. */
class Helper {
  readonly child: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #reader: ReadableStreamDefaultReader<string>;
  #buffer = "";
  #stderr = "";
  busy = false;
  dead = false;
  idleTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(argv: string[]) {
    const [command, ...args] = argv;
    this.child = spawnPamHelper(command!, [...args, "--serve"]);
    this.#writer = this.child.stdin.getWriter();
    this.#reader = this.child.stdout.pipeThrough(new TextDecoderStream())
      .getReader();
    this.#drainStderr();
    this.child.status.then(() => (this.dead = true));
  }

  async #drainStderr(): Promise<void> {
    try {
      for await (
        const text of this.child.stderr.pipeThrough(new TextDecoderStream())
      ) {
        this.#stderr = (this.#stderr + text).slice(-2000);
      }
    } catch {
      // The process was killed.
    }
  }

  /** Sends one request and reads one answer line. */
  async ask(request: PamHelperRequest): Promise<PamResult> {
    const bytes = new TextEncoder().encode(JSON.stringify(request) + "\n");
    try {
      await this.#writer.write(bytes);
    } catch {
      return this.#died();
    } finally {
      bytes.fill(0);
    }
    for (;;) {
      const newline = this.#buffer.indexOf("\n");
      if (newline >= 0) {
        const line = this.#buffer.slice(0, newline);
        this.#buffer = this.#buffer.slice(newline + 1);
        let output: unknown;
        try {
          output = JSON.parse(line);
        } catch {
          output = undefined;
        }
        return interpretPamHelperOutput(output, {
          exitCode: 0,
          stderr: this.#stderr,
        });
      }
      const { done, value } = await this.#reader.read().catch(() => ({
        done: true,
        value: undefined,
      }));
      if (done) return this.#died();
      this.#buffer += value;
      if (this.#buffer.length > 64 * 1024) return this.#died();
    }
  }

  async #died(): Promise<PamResult> {
    this.kill();
    const status = await this.child.status;
    return interpretPamHelperOutput(undefined, {
      exitCode: status.code,
      stderr: this.#stderr,
    });
  }

  kill(): void {
    this.dead = true;
    clearTimeout(this.idleTimer);
    try {
      this.child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }

  async close(): Promise<void> {
    this.kill();
    await this.child.status;
    await this.#reader.cancel().catch(() => {});
    await this.#writer.abort().catch(() => {});
  }
}

/**
 * Checks passwords through a bounded set of warm PAM helpers (see the
 * module doc). `close()` ends every helper.
 *
 * @example
 * ```ts
 * const pool = new PamPool({ service: "onehub", timeoutMs: 10_000, concurrency: 4, queueSize: 32 });
 * const result = await pool.authenticate({ username: "ada", password: "her password", remoteHost: "192.0.2.7" });
 * const status = !result.ok && result.reason === "busy" ? 429 : 200; // the login page's answer
 * ```
 */
export class PamPool {
  readonly #options: PamPoolOptions;
  readonly #argv: string[];
  readonly #helpers = new Set<Helper>();
  #queue: Waiting[] = [];
  readonly #pendingByKey = new Map<string, number>();
  #seq = 0;
  #closed = false;

  constructor(options: PamPoolOptions) {
    this.#options = options;
    this.#argv = options.helperArgv ?? pamHelperArgv();
  }

  /** Helpers running now. */
  get size(): number {
    return this.#helpers.size;
  }

  /** Attempts waiting now. */
  get waiting(): number {
    return this.#queue.length;
  }

  /** The process ids of the running helpers (for tests and diagnostics). */
  pids(): number[] {
    return [...this.#helpers].map((h) => h.child.pid);
  }

  /**
   * Checks a username and password. Resolves `"busy"` at once when the
   * queue is full (or later, when a fairer attempt takes its place).
   */
  authenticate(attempt: PamAttempt): Promise<PamPoolResult> {
    if (pamCredentialsProblem(attempt.username, attempt.password)) {
      return Promise.resolve(PAM_DENIED);
    }
    const request = pamHelperRequest(this.#options.service, attempt);
    const key = attempt.remoteHost ?? "";
    const { promise, resolve } = Promise.withResolvers<PamPoolResult>();
    const waiting: Waiting = {
      request,
      key,
      // Recent failures weigh most; then how many attempts the same client
      // already has in line; then arrival order.
      rank: (attempt.penalty ?? 0) * 1000 + (this.#pendingByKey.get(key) ?? 0),
      seq: this.#seq++,
      resolve,
    };
    if (this.#closed) {
      resolve({ ok: false, reason: "busy" });
      return promise;
    }
    this.#pendingByKey.set(key, (this.#pendingByKey.get(key) ?? 0) + 1);
    const settle = (result: PamPoolResult) => {
      const left = (this.#pendingByKey.get(key) ?? 1) - 1;
      if (left > 0) this.#pendingByKey.set(key, left);
      else this.#pendingByKey.delete(key);
      resolve(result);
    };
    waiting.resolve = settle;
    let idle: Helper | undefined;
    try {
      idle = this.#idleHelper();
    } catch (error) {
      settle(startFailure(this.#argv, error));
      return promise;
    }
    if (idle) {
      this.#run(idle, waiting);
      return promise;
    }
    if (this.#queue.length >= this.#options.queueSize) {
      const worst = this.#worst();
      if (!worst || !before(waiting, worst)) {
        settle({ ok: false, reason: "busy" });
        return promise;
      }
      this.#queue = this.#queue.filter((w) => w !== worst);
      worst.resolve({ ok: false, reason: "busy" });
    }
    this.#queue.push(waiting);
    return promise;
  }

  /** Ends every helper; waiting attempts are answered `"busy"`. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const w of this.#queue) w.resolve({ ok: false, reason: "busy" });
    this.#queue = [];
    await Promise.all([...this.#helpers].map((h) => h.close()));
    this.#helpers.clear();
  }

  #worst(): Waiting | undefined {
    let worst: Waiting | undefined;
    for (const w of this.#queue) if (!worst || before(worst, w)) worst = w;
    return worst;
  }

  #next(): Waiting | undefined {
    let best: Waiting | undefined;
    for (const w of this.#queue) if (!best || before(w, best)) best = w;
    if (best) this.#queue = this.#queue.filter((w) => w !== best);
    return best;
  }

  /** An idle helper, or a new one when fewer than `concurrency` run. */
  #idleHelper(): Helper | undefined {
    for (const h of this.#helpers) {
      if (h.dead) this.#remove(h);
      else if (!h.busy) return h;
    }
    if (this.#helpers.size >= this.#options.concurrency) return undefined;
    const helper = new Helper(this.#argv);
    this.#helpers.add(helper);
    return helper;
  }

  #remove(helper: Helper): void {
    this.#helpers.delete(helper);
    helper.close().catch(() => {});
  }

  async #run(helper: Helper, waiting: Waiting): Promise<void> {
    helper.busy = true;
    clearTimeout(helper.idleTimer);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<PamResult>((resolve) => {
      timer = setTimeout(() => {
        helper.kill();
        resolve({
          ok: false,
          reason: "timeout",
          message: `PAM did not answer within ${this.#options.timeoutMs} ms`,
        });
      }, this.#options.timeoutMs);
    });
    let result: PamResult;
    try {
      result = await Promise.race([helper.ask(waiting.request), timeout]);
    } catch (error) {
      result = {
        ok: false,
        reason: "unavailable",
        message: `PAM helper failed: ${truncate(String(error), 200)}`,
      };
    } finally {
      clearTimeout(timer);
    }
    waiting.request.password = "";
    helper.busy = false;
    if (helper.dead) this.#remove(helper);
    waiting.resolve(result);
    if (this.#closed) return;
    const next = this.#next();
    if (next) {
      try {
        const free = helper.dead ? this.#idleHelper() : helper;
        if (free) this.#run(free, next);
        else this.#queue.unshift(next);
      } catch (error) {
        next.resolve(startFailure(this.#argv, error));
      }
      return;
    }
    if (!helper.dead) {
      const idleTimer = setTimeout(() => {
        if (!helper.busy) this.#remove(helper);
      }, this.#options.idleTimeoutMs ?? 600_000);
      Deno.unrefTimer(idleTimer);
      helper.idleTimer = idleTimer;
    }
  }
}

function startFailure(argv: string[], error: unknown): PamResult {
  return {
    ok: false,
    reason: "unavailable",
    message: `Start the PAM helper "${argv[0]}": ${
      error instanceof Error ? error.message : String(error)
    }`,
  };
}

/** Whether `a` goes before `b` in the queue. */
function before(a: Waiting, b: Waiting): boolean {
  return a.rank !== b.rank ? a.rank < b.rank : a.seq < b.seq;
}
