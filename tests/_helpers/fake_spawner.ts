/**
 * A fake {@linkcode Spawner} for the server lifecycle tests: it never runs a
 * process, keeps its "processes" in memory and answers the hub's readiness
 * check itself. It offers:
 *
 * - behaviours, globally (`fake.behaviour = "slow"`) or per spawn id
 *   (`fake.behave("daemon-gpu", "fails")`; the id is `spawnId(unixName,
 *   server)`, e.g. "daemon" or "daemon-gpu"):
 *   - `"starts"`: ready at once (the default);
 *   - `"slow"`: running but not answering until `fake.release(id)`;
 *   - `"never"`: running, never answering (the hub's http_timeout fails it);
 *   - `"fails"`: `start` throws `SpawnError("boom")`;
 *   - `"dies"`: `start` succeeds, then the process is gone at once (poll
 *     says not running), after writing "fake server crashed" to its log;
 *   - `"port-taken"`: as `"dies"`, the log saying what Jupyter says when
 *     its port is taken (`… because port N is not available.`);
 *   - `"hangs"`: `start` itself does not return until `fake.release(id)`
 *     (the hub's start_timeout fails it); then the process runs;
 * - `fake.isReady(url)`: the readiness check to hand to `ServerManager`
 *   (true only for a live, answering fake process at that address);
 * - a record of what the hub asked: `fake.calls` (`{op, id}` for every
 *   start/stop/poll, in order), `fake.requests` (the full `SpawnRequest`s,
 *   env included, e.g. the server's API token), `fake.startsOf(id)`,
 *   `fake.stopsOf(id)`;
 * - `fake.kill(id)`: the process exits (poll → not running);
 *   `fake.running(id)`: whether it is alive; `fake.killAll()` for teardown;
 * - `fake.started(id)`: a promise resolving at the next (or a past) start of
 *   that id;
 * - `fake.onStop`: a hook run at the start of each `stop` (e.g. to check
 *   the proxy route is already gone);
 * - `memory(state)`: 1 MiB for a live process, null otherwise.
 * - `stopStray(id, user, marker)`: stops the live processes of `id` whose
 *   environment holds `marker` ("NAME=value"), like the local driver.
 *
 * State handed to the hub: `{fake: serial, id, ip, port}`; a state it does
 * not know polls as not running and stops harmlessly, like a real driver's
 * state of a process that is long gone.
 *
 * @module
 */
import {
  type PollResult,
  type Spawner,
  SpawnError,
  type SpawnerState,
  type SpawnRequest,
  type StartResult,
  type SystemUser,
} from "../../spawners/mod.ts";

/** How a fake server behaves. */
export type FakeBehaviour =
  | "starts"
  | "slow"
  | "never"
  | "fails"
  | "dies"
  | "port-taken"
  | "hangs";

/** One call the hub made. */
export interface FakeCall {
  op: "start" | "stop" | "poll" | "stopStray";
  /** Spawn id ("daemon", "daemon-gpu"); "?" for a state the fake never issued. */
  id: string;
}

interface FakeProcess {
  serial: number;
  id: string;
  url: string;
  alive: boolean;
  answering: boolean;
  behaviour: FakeBehaviour;
  env: Record<string, string>;
}

/** The fake spawner (see the module doc). */
export class FakeSpawner implements Spawner {
  readonly kind = "local" as const;
  /** Behaviour of ids without their own. */
  behaviour: FakeBehaviour;
  readonly behaviours = new Map<string, FakeBehaviour>();
  readonly calls: FakeCall[] = [];
  readonly requests: SpawnRequest[] = [];
  /** Runs at the start of each `stop`, before the process goes. */
  onStop: ((id: string) => void) | null = null;
  readonly #procs = new Map<number, FakeProcess>();
  readonly #waiters = new Map<string, Array<() => void>>();
  #serial = 0;

  constructor(behaviour: FakeBehaviour = "starts") {
    this.behaviour = behaviour;
  }

  /** Sets the behaviour of one spawn id. */
  behave(id: string, behaviour: FakeBehaviour): this {
    this.behaviours.set(id, behaviour);
    return this;
  }

  /** Number of `start` calls for `id`. */
  startsOf(id: string): number {
    return this.calls.filter((c) => c.op === "start" && c.id === id).length;
  }

  /** Number of `stop` calls for `id`. */
  stopsOf(id: string): number {
    return this.calls.filter((c) => c.op === "stop" && c.id === id).length;
  }

  /** The last request that started `id`. */
  lastRequest(id: string): SpawnRequest | undefined {
    return this.requests.findLast((r) => r.id === id);
  }

  /** Resolves once `id` has been started (at once if it already was). */
  started(id: string): Promise<void> {
    if (this.startsOf(id) > 0) return Promise.resolve();
    return new Promise((resolve) => {
      const list = this.#waiters.get(id) ?? [];
      list.push(resolve);
      this.#waiters.set(id, list);
    });
  }

  /** A "slow" (or "never") server of `id` starts answering; a "hangs" start returns. */
  release(id: string): void {
    for (const p of this.#live(id)) p.answering = true;
    for (const resolve of this.#hung.get(id) ?? []) resolve();
    this.#hung.delete(id);
  }

  #hung = new Map<string, Array<() => void>>();

  /** The process of `id` exits. */
  kill(id: string): void {
    for (const p of this.#live(id)) p.alive = false;
  }

  /** Every process exits (teardown: pending spawns then fail at once). */
  killAll(): void {
    for (const p of this.#procs.values()) p.alive = false;
  }

  /** Whether a process of `id` is alive. */
  running(id: string): boolean {
    return this.#live(id).length > 0;
  }

  /** The readiness check for `ServerManager` (consults only this fake). */
  readonly isReady = (url: string): Promise<boolean> => {
    for (const p of this.#procs.values()) {
      if (p.alive && p.answering && url.startsWith(p.url + "/")) {
        return Promise.resolve(true);
      }
    }
    return Promise.resolve(false);
  };

  start(request: SpawnRequest): Promise<StartResult> {
    this.calls.push({ op: "start", id: request.id });
    this.requests.push(request);
    const waiters = this.#waiters.get(request.id) ?? [];
    this.#waiters.delete(request.id);
    for (const w of waiters) w();
    const behaviour = this.behaviours.get(request.id) ?? this.behaviour;
    if (behaviour === "fails") return Promise.reject(new SpawnError("boom"));
    if (behaviour === "hangs") {
      return new Promise<void>((resolve) => {
        const list = this.#hung.get(request.id) ?? [];
        list.push(resolve);
        this.#hung.set(request.id, list);
      }).then(() => this.#launch(request, "starts"));
    }
    return Promise.resolve(this.#launch(request, behaviour));
  }

  /** A fake process for `request`, behaving as `behaviour`. */
  #launch(request: SpawnRequest, behaviour: FakeBehaviour): StartResult {
    const serial = ++this.#serial;
    const url = `http://${request.ip}:${request.port}`;
    this.#procs.set(serial, {
      serial,
      id: request.id,
      url,
      alive: behaviour !== "dies" && behaviour !== "port-taken",
      answering: behaviour === "starts",
      behaviour,
      env: request.env,
    });
    const last = behaviour === "dies"
      ? "fake server crashed\n"
      : behaviour === "port-taken"
      ? `[C SingleUserNotebookApp] ERROR: the notebook server could not be started because port ${request.port} is not available.\n`
      : null;
    if (last !== null && request.logFile) {
      Deno.writeTextFileSync(request.logFile, last, { append: true });
    }
    return {
      url,
      state: {
        fake: serial,
        id: request.id,
        ip: request.ip,
        port: request.port,
      },
    };
  }

  poll(state: SpawnerState): Promise<PollResult> {
    const p = this.#of(state);
    this.calls.push({ op: "poll", id: p?.id ?? "?" });
    return Promise.resolve(
      p?.alive ? { running: true } : { running: false, exitCode: null },
    );
  }

  stop(state: SpawnerState): Promise<void> {
    const p = this.#of(state);
    const id = p?.id ?? "?";
    this.onStop?.(id);
    this.calls.push({ op: "stop", id });
    if (p) p.alive = false;
    return Promise.resolve();
  }

  stopStray(id: string, _user: SystemUser, marker: string): Promise<number> {
    this.calls.push({ op: "stopStray", id });
    const eq = marker.indexOf("=");
    const [name, value] = [marker.slice(0, eq), marker.slice(eq + 1)];
    let n = 0;
    for (const p of this.#live(id)) {
      if (p.env[name] === value) {
        p.alive = false;
        n++;
      }
    }
    return Promise.resolve(n);
  }

  /** A live fake process "uses" 1 MiB; anything else is unknown. */
  memory(state: SpawnerState): Promise<number | null> {
    return Promise.resolve(this.#of(state)?.alive ? 1024 * 1024 : null);
  }

  #of(state: SpawnerState): FakeProcess | undefined {
    return typeof state.fake === "number"
      ? this.#procs.get(state.fake)
      : undefined;
  }

  #live(id: string): FakeProcess[] {
    return [...this.#procs.values()].filter((p) => p.id === id && p.alive);
  }
}
