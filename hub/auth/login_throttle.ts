/**
 * Throttling of failed logins, per client address and per username, with
 * exponential back-off. JupyterHub has nothing of the kind; password
 * guessing against a hub on the internet is what it stops.
 *
 * The rules:
 * - every address may fail `addressFailures` times within `windowMs`; each
 *   failure after that blocks the address for `baseDelayMs`, doubled per
 *   further failure, up to `maxDelayMs`. A blocked address gets 429 for any
 *   username and never reaches the authenticator, so blocked attempts are
 *   not counted as failures (they cost the attacker nothing new, and the
 *   username's count stays where one address's free failures left it);
 * - every username may fail `userFailures` times within `windowMs` (from
 *   any address); past that the name is blocked the same way, but only for
 *   addresses that have failed a login themselves within the window. A
 *   client with no recent failure still gets through, so the owner of the
 *   name logging in from elsewhere is not locked out by someone else's
 *   guessing, while a spread-out attack gets one try per fresh address;
 * - past `userHardLimit` failures within the window the name is blocked for
 *   every address, fresh ones included: however many addresses an attacker
 *   has (or makes up), a name gets at most that many guesses per window,
 *   plus one per expired block. The owner then waits too: the price of a
 *   hard cap, paid only under an attack on that name;
 * - a successful login clears the username's failures;
 * - failures older than `windowMs` are forgotten, and each table holds at
 *   most `maxEntries` keys (the oldest go first), so a flood of made-up
 *   names cannot grow memory without bound.
 *
 * Pure apart from the clock and the logger, both passed in. Each decision is
 * logged once, when a key becomes blocked, not per refused request.
 *
 * @module
 */
import type { Logger } from "../observe/log.ts";
import { truncate } from "../observe/log.ts";

/** Settings of {@linkcode LoginThrottle} (config `auth.throttle.*`). */
export interface ThrottleSettings {
  /** Off: every attempt is let through. */
  enabled: boolean;
  /** Free failures per address within the window. */
  addressFailures: number;
  /** Free failures per username within the window. */
  userFailures: number;
  /** Failures per username within the window after which every address is refused. */
  userHardLimit: number;
  /** First block after the free failures, in milliseconds. */
  baseDelayMs: number;
  /** Longest block, in milliseconds. */
  maxDelayMs: number;
  /** How long a failure is remembered, in milliseconds. */
  windowMs: number;
}

/** Options for {@linkcode LoginThrottle}. */
export interface LoginThrottleOptions extends ThrottleSettings {
  /** Keys kept per table. @default {10_000} */
  maxEntries?: number;
  /** @default {() => Date.now()} */
  now?: () => number;
  logger?: Logger;
}

/** The verdict of {@linkcode LoginThrottle.check}. */
export type ThrottleVerdict =
  | { ok: true }
  | { ok: false; by: "address" | "user"; retryAfterSeconds: number };

interface Entry {
  failures: number;
  lastFailure: number;
  blockedUntil: number;
}

/** A table of entries with a size cap (oldest updated first out). */
class Table {
  readonly #entries = new Map<string, Entry>();
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  get(key: string, now: number, windowMs: number): Entry | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (now - entry.lastFailure > windowMs && now >= entry.blockedUntil) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  put(key: string, entry: Entry): void {
    this.#entries.delete(key); // re-insert: Map order is update order
    this.#entries.set(key, entry);
    while (this.#entries.size > this.#max) {
      this.#entries.delete(this.#entries.keys().next().value!);
    }
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  get size(): number {
    return this.#entries.size;
  }
}

/** Counts failed logins and says when a client must wait (module doc). */
export class LoginThrottle {
  readonly #settings: ThrottleSettings;
  readonly #now: () => number;
  readonly #logger: Logger | undefined;
  readonly #addresses: Table;
  readonly #users: Table;

  constructor(options: LoginThrottleOptions) {
    this.#settings = options;
    this.#now = options.now ?? (() => Date.now());
    this.#logger = options.logger;
    this.#addresses = new Table(options.maxEntries ?? 10_000);
    this.#users = new Table(options.maxEntries ?? 10_000);
  }

  /** Keys held (addresses, usernames), for tests and diagnostics. */
  get sizes(): { addresses: number; users: number } {
    return { addresses: this.#addresses.size, users: this.#users.size };
  }

  /** Recent failures of an address: the PAM queue puts such clients last. */
  penalty(address: string): number {
    const s = this.#settings;
    return this.#addresses.get(address, this.#now(), s.windowMs)?.failures ??
      0;
  }

  /** Whether an attempt may go on to the authenticator. */
  check(address: string, username: string): ThrottleVerdict {
    const s = this.#settings;
    if (!s.enabled) return { ok: true };
    const now = this.#now();
    const byAddress = this.#addresses.get(address, now, s.windowMs);
    if (byAddress && byAddress.blockedUntil > now) {
      return {
        ok: false,
        by: "address",
        retryAfterSeconds: wait(byAddress, now),
      };
    }
    const byUser = this.#users.get(username, now, s.windowMs);
    if (
      byUser && byUser.blockedUntil > now &&
      (byAddress || byUser.failures >= s.userHardLimit)
    ) {
      return { ok: false, by: "user", retryAfterSeconds: wait(byUser, now) };
    }
    return { ok: true };
  }

  /** Records a failed attempt (wrong password, unknown user). */
  failure(address: string, username: string): void {
    const s = this.#settings;
    if (!s.enabled) return;
    const now = this.#now();
    this.#count(this.#addresses, address, s.addressFailures, now, {
      address,
    });
    this.#count(this.#users, username, s.userFailures, now, {
      user: truncate(username, 64),
    });
  }

  /** Records a successful login: the name's failures are forgotten. */
  success(_address: string, username: string): void {
    this.#users.delete(username);
  }

  #count(
    table: Table,
    key: string,
    free: number,
    now: number,
    what: Record<string, string>,
  ): void {
    const s = this.#settings;
    const entry = table.get(key, now, s.windowMs) ??
      { failures: 0, lastFailure: now, blockedUntil: 0 };
    entry.failures++;
    entry.lastFailure = now;
    if (entry.failures > free) {
      const wasBlocked = entry.blockedUntil > now;
      const doublings = Math.min(entry.failures - free - 1, 30);
      const delay = Math.min(s.maxDelayMs, s.baseDelayMs * 2 ** doublings);
      entry.blockedUntil = Math.max(entry.blockedUntil, now + delay);
      if (!wasBlocked) {
        this.#logger?.warn("login throttled", {
          ...what,
          failures: entry.failures,
          seconds: Math.ceil(delay / 1000),
        });
      }
    }
    table.put(key, entry);
  }
}

function wait(entry: Entry, now: number): number {
  return Math.max(1, Math.ceil((entry.blockedUntil - now) / 1000));
}
