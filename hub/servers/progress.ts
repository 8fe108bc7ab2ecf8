/**
 * A spawn in flight and its progress stream: the events so far (the
 * progress API replays them to every reader), a wake-up for readers
 * waiting on the next one, and what the spawn needs to know about itself
 * (who asked, when, what it resolved to, whether a stop cancelled it).
 *
 * @module
 */
import type { ProgressEvent } from "./_types.ts";
import type { SpawnChoice } from "./profiles.ts";

/** What a reader of the stream gets: the events so far and a way to wait for more. */
export interface ProgressView {
  events: ProgressEvent[];
  finished: boolean;
  next(): Promise<void>;
}

/** What a spawn starts from. */
export interface PendingSpawnInit {
  /** The server's key, `user/server`. */
  key: string;
  /** Who asked (the event log's actor). */
  actor: string;
  /** The limits, URL and environment this start resolved to (profiles, group limits). */
  choice: SpawnChoice;
}

/** One spawn in flight, from the request to ready or failed. */
export class PendingSpawn {
  readonly key: string;
  readonly actor: string;
  readonly choice: SpawnChoice;
  /** Monotonic milliseconds (performance.now()) when it was asked for. */
  readonly requestedAt = performance.now();
  readonly events: ProgressEvent[] = [];
  /** Settles when the spawn is over, whichever way. */
  done: Promise<void> = Promise.resolve();
  finished = false;
  /** Set by a stop during the spawn: the spawn gives up at its next step. */
  cancelled = false;
  readonly #listeners = new Set<() => void>();

  constructor(init: PendingSpawnInit) {
    this.key = init.key;
    this.actor = init.actor;
    this.choice = init.choice;
  }

  /** Adds an event and wakes the readers. */
  emit(event: ProgressEvent): void {
    this.events.push(event);
    this.#wake();
  }

  /** Marks the spawn over and wakes the readers. */
  finish(): void {
    this.finished = true;
    this.#wake();
  }

  /** The stream as a reader sees it now. */
  view(): ProgressView {
    return {
      events: this.events,
      finished: this.finished,
      next: () => new Promise<void>((resolve) => this.#listeners.add(resolve)),
    };
  }

  #wake(): void {
    for (const listener of this.#listeners) listener();
    this.#listeners.clear();
  }
}
