/**
 * The `systemd` driver: each server is a transient service `onehub-<id>`
 * started with `systemd-run`, so it gets its own cgroup (stopping it reaches
 * every process, kernels and terminals included) and real resource limits
 * (`MemoryMax=`, `CPUQuota=`, `TasksMax=`). TLJH does the same through
 * systemdspawner. State is `{ unit, ip, port }`.
 *
 * The environment goes through a root-only `EnvironmentFile=` (as
 * systemdspawner does), not `--setenv`: a unit's `Environment=` can be read
 * by every local user with `systemctl show`, and the server's API token is
 * in it.
 *
 * Needs systemd as PID 1; the real run is tested on a systemd host only
 * (the booted testbed), here with fake `systemd-run`/`systemctl` scripts.
 *
 * @module
 */
import { closeSync, constants, fchmodSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import { assertTrustedDirectory, prepareLogFile } from "./_log_file.ts";
import { checkRequest, serverUrl } from "./_request.ts";
import { unitMemory } from "./_memory.ts";
import { run } from "./_run.ts";
import { SpawnError } from "./_spawn_error.ts";
import type {
  PollResult,
  Spawner,
  SpawnerOptions,
  SpawnerState,
  SpawnLimits,
  SpawnRequest,
  StartResult,
  StopOptions,
} from "./_types.ts";
import { waitUntil } from "./_wait.ts";

/** Options of {@linkcode createSystemdSpawner}; the extra two are for tests. */
export interface SystemdSpawnerOptions extends SpawnerOptions {
  /** Exists exactly when systemd is PID 1 (sd_booted(3)). @default {"/run/systemd/system"} */
  systemdRuntimeDir?: string;
  /** Root-only directory for the servers' environment files. @default {"/run/onehub"} */
  envFileDir?: string;
}

/** Time between SIGTERM and SIGKILL when the caller does not say. */
const DEFAULT_STOP_TIMEOUT_MS = 5000;

/** How long to wait for the unit to go away after SIGKILL. */
const KILL_WAIT_MS = 5000;

/** Environment variable names systemd accepts. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Unit names this driver creates (after escaping). */
const UNIT = /^onehub-[A-Za-z0-9:_.\\-]+\.service$/;

/**
 * The unit name (without `.service`) of server `id`. `@` would make it a
 * template instance, so it is escaped the way `systemd-escape` does.
 *
 * @example
 * ```ts
 * unitBase("a@b.c"); // "onehub-a\\x40b.c"
 * ```
 */
export function unitBase(id: string): string {
  return `onehub-${id.replaceAll("@", "\\x40")}`;
}

/**
 * One value quoted for an environment file: double quotes, with a backslash
 * before exactly the characters systemd unescapes there (`"`, `\`, `` ` ``,
 * `$`). Older systemd versions unescape any character there and treat `\`
 * inside single quotes as an escape too, so this is the one form every
 * version reads back unchanged (src/basic/env-file.c); newlines stay as
 * they are.
 */
function quoteEnvValue(value: string): string {
  return `"${value.replace(/["\\`$]/g, "\\$&")}"`;
}

/**
 * The text of an `EnvironmentFile=`: one `KEY="value"` line per variable,
 * sorted, read by systemd without any expansion.
 *
 * @throws {SpawnError} for a name systemd would reject
 */
export function environmentFileText(env: Record<string, string>): string {
  const lines: string[] = [];
  for (const key of Object.keys(env).sort()) {
    if (!ENV_NAME.test(key)) {
      throw new SpawnError(
        `Cannot pass environment variable "${key}" to systemd: not a valid name`,
      );
    }
    lines.push(`${key}=${quoteEnvValue(env[key]!)}`);
  }
  return lines.join("\n") + "\n";
}

/** `--property=` arguments for the limits, with accounting switched on. */
export function limitProperties(limits: SpawnLimits = {}): string[] {
  const out: string[] = [];
  const { memoryBytes, cpu, tasks } = limits;
  const positiveInt = (v: number) => Number.isInteger(v) && v > 0;
  if (memoryBytes !== undefined) {
    if (!positiveInt(memoryBytes)) {
      throw new SpawnError(
        `Cannot set memory limit ${memoryBytes}: not a positive number of bytes`,
      );
    }
    out.push(
      "--property=MemoryAccounting=yes",
      `--property=MemoryMax=${memoryBytes}`,
    );
  }
  if (cpu !== undefined) {
    if (!(Number.isFinite(cpu) && cpu > 0)) {
      throw new SpawnError(
        `Cannot set CPU limit ${cpu}: not a positive number of cores`,
      );
    }
    const percent = Math.max(1, Math.round(cpu * 100));
    out.push("--property=CPUAccounting=yes", `--property=CPUQuota=${percent}%`);
  }
  if (tasks !== undefined) {
    if (!positiveInt(tasks)) {
      throw new SpawnError(
        `Cannot set task limit ${tasks}: not a positive integer`,
      );
    }
    out.push("--property=TasksAccounting=yes", `--property=TasksMax=${tasks}`);
  }
  return out;
}

/**
 * The kernel's weight of each niceness 0..19 (`sched_prio_to_weight`);
 * niceness 0 weighs 1024, as `CPUWeight=100`, systemd's default.
 */
const NICE_WEIGHTS = [
  1024,
  820,
  655,
  526,
  423,
  335,
  272,
  215,
  172,
  137,
  110,
  87,
  70,
  56,
  45,
  36,
  29,
  23,
  18,
  15,
];

/**
 * The `CPUWeight=` that weighs a unit as niceness `nice` weighs a thread
 * (10 → 11 of the default 100): a unit has its own cgroup, where niceness
 * does not reach across units but the cgroup's weight does.
 */
export function cpuWeightOf(nice: number): number {
  const index = Math.min(19, Math.max(0, Math.trunc(nice)));
  return Math.max(1, Math.round(NICE_WEIGHTS[index]! * 100 / 1024));
}

/** `CPUWeight=` of a unit that answered (see {@linkcode cpuWeightOf}). */
const RUNNING_WEIGHT = 100;

/**
 * The complete `systemd-run` command for `request` (pure, for tests).
 * `--service-type=exec` makes systemd-run fail when the program cannot be
 * executed instead of reporting success; `KillMode=mixed` sends SIGTERM to
 * the server alone, then SIGKILL to whatever is left in its cgroup.
 */
export function systemdRunArgv(
  request: SpawnRequest,
  paths: { systemdRun: string; envFile: string },
): string[] {
  const { id, user, cwd, logFile, limits, argv } = request;
  const output = logFile === undefined ? [] : [
    `--property=StandardOutput=append:${logFile}`,
    `--property=StandardError=append:${logFile}`,
  ];
  return [
    paths.systemdRun,
    "--unit",
    unitBase(id),
    "--uid",
    String(user.uid),
    "--gid",
    String(user.gid),
    "--working-directory",
    cwd,
    "--collect",
    "--service-type=exec",
    "--property=KillMode=mixed",
    ...limitProperties(limits),
    ...(request.startNice
      ? [`--property=CPUWeight=${cpuWeightOf(request.startNice)}`]
      : []),
    `--property=EnvironmentFile=${paths.envFile}`,
    ...output,
    "--",
    ...argv,
  ];
}

/** Writes `text` to `path` (mode 0600, in a 0700 directory), never through a link. */
async function writePrivateFile(path: string, dir: string, text: string) {
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  const info = await Deno.lstat(dir);
  if (!info.isDirectory || info.uid !== Deno.uid()) {
    throw new SpawnError(
      `Cannot write environment files to "${dir}": not a directory owned by the hub's user`,
    );
  }
  await Deno.chmod(dir, 0o700);
  const { O_WRONLY, O_CREAT, O_TRUNC, O_NOFOLLOW } = constants;
  const fd = openSync(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0o600);
  try {
    fchmodSync(fd, 0o600);
    const bytes = new TextEncoder().encode(text);
    let written = 0;
    while (written < bytes.length) {
      written += writeSync(fd, bytes, written, bytes.length - written);
    }
  } finally {
    closeSync(fd);
  }
}

/** The unit of a saved state, or null when there is none. */
function parseState(state: SpawnerState): string | null {
  if (state.unit === undefined || state.unit === null) return null;
  if (typeof state.unit !== "string" || !UNIT.test(state.unit)) {
    throw new SpawnError(
      `Cannot use the saved state of a systemd server: ${
        JSON.stringify(state)
      } has no valid unit`,
    );
  }
  return state.unit;
}

/** Parses `systemctl show` output (`Key=value` lines). */
export function parseShow(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

/** What `systemctl show` says about a unit, as a poll result. */
export function pollResultOf(props: Record<string, string>): PollResult {
  if (props.LoadState === "not-found") {
    return { running: false, exitCode: null };
  }
  const active = props.ActiveState ?? "";
  if (active === "inactive" || active === "failed") {
    const status = props.ExecMainStatus ?? "";
    return {
      running: false,
      exitCode: /^\d+$/.test(status) ? Number(status) : null,
    };
  }
  if (active === "") {
    throw new SpawnError(
      `Cannot read the state of a systemd unit: systemctl printed ${
        JSON.stringify(props)
      }`,
    );
  }
  return { running: true };
}

/**
 * The systemd driver.
 *
 * @example
 * ```ts
 * import type { SpawnRequest } from "./mod.ts";
 * // Defined, not run here: it starts a transient unit.
 * async function start(request: SpawnRequest) {
 *   const spawner = createSystemdSpawner();
 *   const { url, state } = await spawner.start(request); // state: { unit, ip, port }
 *   return { url, state };
 * }
 * ```
 */
export function createSystemdSpawner(
  options: SystemdSpawnerOptions = {},
): Spawner {
  return new SystemdSpawner(options);
}

/** The driver; everything it needs later is in the state it returns. */
class SystemdSpawner implements Spawner {
  readonly kind = "systemd" as const;
  readonly #systemdRun: string;
  readonly #systemctl: string;
  readonly #runtimeDir: string;
  readonly #envDir: string;
  readonly #now: () => number;

  constructor(options: SystemdSpawnerOptions) {
    this.#systemdRun = options.systemdRunPath ?? "systemd-run";
    this.#systemctl = options.systemctlPath ?? "systemctl";
    this.#runtimeDir = options.systemdRuntimeDir ?? "/run/systemd/system";
    this.#envDir = options.envFileDir ?? "/run/onehub";
    this.#now = options.now ?? Date.now;
  }

  #envFileOf(base: string): string {
    return join(this.#envDir, `${base}.env`);
  }

  async poll(state: SpawnerState): Promise<PollResult> {
    const unit = parseState(state);
    if (unit === null) return { running: false, exitCode: null };
    const { stdout } = await run([
      this.#systemctl,
      "show",
      "-p",
      "ActiveState",
      "-p",
      "SubState",
      "-p",
      "ExecMainStatus",
      "-p",
      "LoadState",
      unit,
    ]);
    return pollResultOf(parseShow(stdout));
  }

  async start(request: SpawnRequest): Promise<StartResult> {
    try {
      await Deno.stat(this.#runtimeDir);
    } catch {
      throw new SpawnError(
        'systemd is not running as PID 1 on this machine: set spawner to "local"',
      );
    }
    checkRequest(request);
    const base = unitBase(request.id);
    const envFile = this.#envFileOf(base);
    const argv = systemdRunArgv(request, {
      systemdRun: this.#systemdRun,
      envFile,
    });
    const envText = environmentFileText(request.env);
    if (request.logFile !== undefined) {
      await assertTrustedDirectory(request.logFile);
      prepareLogFile(request.logFile, request.user);
    }
    await writePrivateFile(envFile, this.#envDir, envText);
    try {
      await run(argv);
    } catch (error) {
      await Deno.remove(envFile).catch(() => {});
      throw new SpawnError(
        `Cannot start server "${request.id}": ${(error as SpawnError).reason}`,
        { cause: error },
      );
    }
    return {
      url: serverUrl(request.ip, request.port),
      state: { unit: `${base}.service`, ip: request.ip, port: request.port },
    };
  }

  async stop(
    state: SpawnerState,
    stopOptions: StopOptions = {},
  ): Promise<void> {
    const unit = parseState(state);
    if (unit === null) return;
    const timeoutMs = stopOptions.timeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
    const now = this.#now;
    const stopped = () => this.poll(state).then((r) => !r.running);
    try {
      if (await stopped()) return;
      // --no-block: systemd would wait TimeoutStopSec (90 s) before SIGKILL;
      // the deadline here is the caller's. Exit 5: unit not loaded (gone).
      await run([this.#systemctl, "stop", "--no-block", unit], {
        okCodes: [0, 5],
      });
      if (await waitUntil(stopped, { deadline: now() + timeoutMs, now })) {
        return;
      }
      // Fails when the unit stopped meanwhile; the wait below decides.
      await run([this.#systemctl, "kill", "--signal=SIGKILL", unit]).catch(
        () => {},
      );
      if (await waitUntil(stopped, { deadline: now() + KILL_WAIT_MS, now })) {
        return;
      }
      throw new SpawnError(
        `Cannot stop ${unit}: still running ${KILL_WAIT_MS} ms after SIGKILL`,
      );
    } finally {
      await Deno.remove(this.#envFileOf(unit.replace(/\.service$/, ""))).catch(
        () => {},
      );
    }
  }

  /** The server answered: its unit weighs as much as any running one (`CPUWeight=100`). */
  async answered(state: SpawnerState): Promise<void> {
    const unit = parseState(state);
    if (unit === null) return;
    await run([
      this.#systemctl,
      "set-property",
      "--runtime",
      unit,
      `CPUWeight=${RUNNING_WEIGHT}`,
    ]);
  }

  async stopStray(id: string): Promise<number> {
    // The unit's name is known from the id alone.
    const state = { unit: `${unitBase(id)}.service`, ip: "127.0.0.1", port: 1 };
    if (!(await this.poll(state)).running) return 0;
    await this.stop(state);
    return 1;
  }

  memory(state: SpawnerState): Promise<number | null> {
    return typeof state.unit === "string"
      ? unitMemory(state.unit)
      : Promise.resolve(null);
  }
}
