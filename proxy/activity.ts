/**
 * Last activity per route, in memory. Touched on request and response body
 * data of successful exchanges and on WebSocket traffic; pulled by the hub
 * (CHP's `inactive_since` idea), never pushed to the database from here.
 *
 * @module
 */

/** Per-route activity times (epoch milliseconds). */
export class Activity {
  #last = new Map<string, number>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Records activity on `prefix` now. */
  touch(prefix: string): void {
    this.#last.set(prefix, this.#now());
  }

  /** The last activity time of `prefix`, if any. */
  get(prefix: string): number | undefined {
    return this.#last.get(prefix);
  }

  /** Forgets a removed route. */
  delete(prefix: string): void {
    this.#last.delete(prefix);
  }

  /** Every route's last activity. */
  entries(): Array<[string, number]> {
    return [...this.#last];
  }
}
