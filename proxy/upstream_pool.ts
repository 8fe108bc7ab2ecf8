/**
 * Keep-alive connections to targets, reused for later requests. Idle
 * connections are closed after `idleTimeoutMs` (kept below the common
 * server keep-alive of 5 s so we rarely write into a connection the target
 * is closing), and at most `maxIdlePerTarget` are kept per target.
 *
 * @module
 */
import { BufferedConn } from "./http1.ts";

/** A connection to a target with its reader. */
export interface Upstream {
  reader: BufferedConn;
  target: string;
  /** True when it came from the pool (and may have been closed by the target meanwhile). */
  reused: boolean;
  idleSince: number;
}

/** Why a connection could not be made. */
export class UpstreamError extends Error {
  /** Refused (or closed early) by the target, or no connection in time. */
  readonly kind: "refused" | "timeout";

  constructor(
    message: string,
    options: { kind: "refused" | "timeout"; cause?: unknown },
  ) {
    super(message, "cause" in options ? { cause: options.cause } : undefined);
    this.kind = options.kind;
    this.name = "UpstreamError";
  }
}

/** Opens a TCP connection; must reject once `signal` aborts. */
export type Connector = (
  options: { hostname: string; port: number; signal: AbortSignal },
) => Promise<Deno.TcpConn>;

/** Options of {@linkcode UpstreamPool}. */
export interface UpstreamPoolOptions {
  /** @default {10000} */
  connectTimeoutMs?: number;
  /** How to open a connection (tests inject one that never completes). @default {Deno.connect} */
  connect?: Connector;
  /** @default {4000} */
  idleTimeoutMs?: number;
  /** @default {128} */
  maxIdlePerTarget?: number;
}

function parseTarget(target: string): { hostname: string; port: number } {
  const url = new URL(target);
  return {
    hostname: url.hostname.replace(/^\[|\]$/g, ""),
    port: Number(url.port || (url.protocol === "https:" ? 443 : 80)),
  };
}

/** A pool of idle upstream connections per target origin. */
export class UpstreamPool {
  #idle = new Map<string, Upstream[]>();
  #addresses = new Map<string, { hostname: string; port: number }>();
  readonly connectTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly maxIdlePerTarget: number;
  readonly #connect: Connector;
  #timer: ReturnType<typeof setInterval> | null = null;

  constructor(options: UpstreamPoolOptions = {}) {
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 4_000;
    this.maxIdlePerTarget = options.maxIdlePerTarget ?? 128;
    this.#connect = options.connect ?? ((o) => Deno.connect(o));
  }

  /** A pooled connection to `target`, or a new one. */
  get(target: string, now = Date.now()): Promise<Upstream> {
    const idle = this.#idle.get(target);
    while (idle && idle.length) {
      const up = idle.pop()!;
      if (now - up.idleSince < this.idleTimeoutMs) {
        up.reused = true;
        return Promise.resolve(up);
      }
      this.#close(up);
    }
    return this.connect(target);
  }

  /** Opens a new connection, mapping failures to {@linkcode UpstreamError}. */
  async connect(target: string): Promise<Upstream> {
    let address = this.#addresses.get(target);
    if (!address) {
      address = parseTarget(target);
      this.#addresses.set(target, address);
    }
    const signal = AbortSignal.timeout(this.connectTimeoutMs);
    try {
      const conn = await this.#connect({ ...address, signal });
      conn.setNoDelay(true);
      return {
        reader: new BufferedConn(conn),
        target,
        reused: false,
        idleSince: 0,
      };
    } catch (error) {
      if (signal.aborted) {
        throw new UpstreamError(
          `Connecting to ${target} timed out after ${this.connectTimeoutMs} ms`,
          {
            kind: "timeout",
            cause: error,
          },
        );
      }
      throw new UpstreamError(
        `Cannot connect to ${target}: ${(error as Error).message}`,
        { kind: "refused", cause: error },
      );
    }
  }

  /** Returns a connection whose last exchange ended cleanly. */
  release(up: Upstream, now = Date.now()): void {
    if (up.reader.buffered > 0) return this.#close(up); // unexpected extra bytes: not reusable
    let idle = this.#idle.get(up.target);
    if (!idle) {
      idle = [];
      this.#idle.set(up.target, idle);
    }
    if (idle.length >= this.maxIdlePerTarget) return this.#close(up);
    up.idleSince = now;
    idle.push(up);
    this.#timer ??= setInterval(() => this.sweep(), this.idleTimeoutMs);
    Deno.unrefTimer(this.#timer);
  }

  /** Closes a connection that must not be reused. */
  discard(up: Upstream): void {
    this.#close(up);
  }

  /** Closes idle connections older than the idle timeout. */
  sweep(now = Date.now()): void {
    let total = 0;
    for (const [target, idle] of this.#idle) {
      const keep = idle.filter((up) => {
        if (now - up.idleSince < this.idleTimeoutMs) return true;
        this.#close(up);
        return false;
      });
      if (keep.length) this.#idle.set(target, keep);
      else this.#idle.delete(target);
      total += keep.length;
    }
    if (total === 0 && this.#timer !== null) {
      clearInterval(this.#timer);
      this.#timer = null;
    }
  }

  /** Closes every idle connection to `target` (route removed). */
  forget(target: string): void {
    for (const up of this.#idle.get(target) ?? []) this.#close(up);
    this.#idle.delete(target);
  }

  /** Closes everything. */
  close(): void {
    for (const idle of this.#idle.values()) {
      for (const up of idle) this.#close(up);
    }
    this.#idle.clear();
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  #close(up: Upstream): void {
    try {
      up.reader.conn.close();
    } catch { /* already closed */ }
  }
}
