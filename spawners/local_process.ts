/**
 * The `local` driver: the server is a process of this machine started as
 * the target user through `setpriv --reuid --regid --init-groups` (which
 * exec's in place, so the child PID is the server PID), in its own session
 * (`detached`), with exactly the environment the hub built (`clearEnv`).
 *
 * The hub keeps no pipe to it: output goes to the log file, opened by a
 * fixed bash wrapper (as root, before setpriv; see wrapperScript), so a hub restart cannot kill
 * the server through a broken pipe. State is `{ pid, pgid, starttime, ip,
 * port }`; the start time (field 22 of `/proc/PID/stat`) tells a reused PID
 * from the server. Measured here: setpriv exec's in place, and a detached child outlives the hub.
 *
 * Limits (`SpawnRequest.limits`) are not enforced by this driver.
 *
 * @module
 */
import os from "node:os";
import { prepareLogFile, tailFile } from "./_log_file.ts";
import { processTreeRss } from "./_memory.ts";
import {
  groupAlive,
  isDead,
  type ProcStat,
  readProcStat,
  signalGroup,
} from "./_proc.ts";
import { checkRequest, serverUrl } from "./_request.ts";
import { SpawnError } from "./_spawn_error.ts";
import { setprivArgs } from "./system_user.ts";
import type {
  PollResult,
  Spawner,
  SpawnerOptions,
  SpawnerState,
  SpawnRequest,
  StartResult,
  StopOptions,
  SystemUser,
} from "./_types.ts";
import { waitUntil } from "./_wait.ts";

/** What the local driver stores. */
interface LocalState {
  pid: number;
  pgid: number;
  starttime: number;
}

/** Time between SIGTERM and SIGKILL when the caller does not say. */
const DEFAULT_STOP_TIMEOUT_MS = 5000;

/** How long to wait for the group to vanish after SIGKILL. */
const KILL_WAIT_MS = 5000;

/**
 * The wrapper between the hub and setpriv, run as root: it closes every
 * descriptor above 2 the hub's runtime left open without close-on-exec
 * (measured: a pipe and /dev/null of Deno's own), then appends stdout and
 * stderr to the log (`$0`, opened here so the hub's log directory can stay
 * closed to users, who write through the inherited descriptor) and execs.
 * bash (Essential on Debian and Ubuntu) because dash cannot name
 * descriptors above 9; `env -u` drops what the shell itself exports
 * (`_`, `SHLVL`, and `PWD` unless the hub asked for it), so the server
 * gets exactly the hub's environment.
 */
export function wrapperScript(
  options: { keepPwd: boolean; log: boolean; autogroupNice?: number },
): string {
  const drop = ["_", "SHLVL", ...(options.keepPwd ? [] : ["PWD"])]
    .map((name) => `-u ${name}`).join(" ");
  const nice = options.autogroupNice;
  return [
    // The new session's autogroup (see hub/priority.ts); no file, no matter.
    ...(Number.isInteger(nice) && nice !== 0
      ? [`{ echo ${nice} > /proc/$$/autogroup; } 2>/dev/null`]
      : []),
    'for fd in /proc/$$/fd/*; do n=${fd##*/}; if [ "$n" -gt 2 ]; then { exec {n}>&-; } 2>/dev/null; fi; done',
    `exec /usr/bin/env ${drop} "$@"${options.log ? ' >>"$0" 2>&1' : ""}`,
  ].join("; ");
}

/** The shell that runs {@linkcode wrapperScript}. */
export const WRAPPER_SHELL = "/bin/bash";

/**
 * The state `start` returned, or null when there is none (never started).
 *
 * @throws {SpawnError} when the state is not one this driver wrote
 */
function parseState(state: SpawnerState): LocalState | null {
  if (state.pid === undefined || state.pid === null) return null;
  const { pid, pgid, starttime } = state;
  const isPid = (v: unknown): v is number =>
    typeof v === "number" && Number.isInteger(v) && v > 1;
  if (!isPid(pid) || !isPid(pgid) || typeof starttime !== "number") {
    throw new SpawnError(
      `Cannot use the saved state of a local server: ${
        JSON.stringify(state)
      } lacks a pid, pgid or starttime`,
    );
  }
  return { pid, pgid, starttime };
}

/** Whether `stat` describes the process `saved` refers to, still running. */
function isServer(stat: ProcStat | null, saved: LocalState): boolean {
  return stat !== null && !isDead(stat) && stat.starttime === saved.starttime;
}

async function start(
  setpriv: string,
  request: SpawnRequest,
): Promise<StartResult> {
  checkRequest(request);
  const { id, logFile, ip, port } = request;
  await checkWorkingDirectory(request);
  if (logFile !== undefined) prepareLogFile(logFile, request.user);
  const child = spawnDetached(request, wrapperArgs(setpriv, request));
  // Reap it if it exits while this hub runs, but keep no reference and do
  // not let it hold the hub's event loop open.
  child.status.catch(() => {});
  child.unref();
  const stat = await readProcStat(child.pid);
  if (stat === null || isDead(stat)) {
    const tail = logFile ? await tailFile(logFile).catch(() => "") : "";
    throw new SpawnError(
      `Server "${id}" exited at once${tail ? `: ${tail}` : ""}`,
    );
  }
  return {
    url: serverUrl(ip, port),
    state: {
      pid: child.pid,
      pgid: stat.pgrp,
      starttime: stat.starttime,
      ip,
      port,
    },
  };
}

/** @throws {SpawnError} when the server's working directory is missing */
async function checkWorkingDirectory(request: SpawnRequest): Promise<void> {
  const cwdInfo = await Deno.stat(request.cwd).catch(() => null);
  if (!cwdInfo?.isDirectory) {
    throw new SpawnError(
      `Cannot start server "${request.id}": the working directory "${request.cwd}" does not exist`,
    );
  }
}

/**
 * The exec chain's arguments: bash as root (close stray descriptors, open
 * the log) → env → (nice, with `startNice`) → setpriv → the program; one
 * pid throughout.
 */
function wrapperArgs(setpriv: string, request: SpawnRequest): string[] {
  const { env, logFile } = request;
  const startNice = request.startNice ?? 0;
  // nice(1) is relative: from the hub's own niceness (hub.nice, often
  // below 0) to the absolute start niceness, so no server keeps the hub's.
  const step = startNice - os.getPriority();
  return [
    "-c",
    wrapperScript({
      keepPwd: "PWD" in env,
      log: logFile !== undefined,
      autogroupNice: startNice,
    }),
    logFile ?? "onehub-server",
    ...(step !== 0 ? ["nice", "-n", String(step)] : []),
    setpriv,
    ...setprivArgs(request.user),
    ...request.argv,
  ];
}

/**
 * Back to niceness 0, the whole process group and its session's autogroup
 * (root may lower them; a user could not). The server leads its session,
 * so its pid names the autogroup.
 */
async function answered(state: SpawnerState): Promise<void> {
  const pgid = (state as Partial<LocalState>).pgid;
  if (typeof pgid !== "number" || pgid <= 1) return;
  await new Deno.Command("renice", {
    args: ["-n", "0", "-g", String(pgid)],
    stdout: "null",
    stderr: "null",
  }).output();
  await Deno.writeTextFile(`/proc/${pgid}/autogroup`, "0").catch(() => {});
}

/**
 * Starts the wrapper in its own session and process group (it survives
 * the hub), with exactly the request's environment and no stdio.
 *
 * @throws {SpawnError} when it cannot be started
 */
function spawnDetached(
  request: SpawnRequest,
  args: string[],
): Deno.ChildProcess {
  try {
    return new Deno.Command(WRAPPER_SHELL, {
      args,
      detached: true, // setsid(): own session and group, survives the hub
      clearEnv: true,
      env: request.env,
      cwd: request.cwd,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
  } catch (error) {
    throw new SpawnError(
      `Cannot start server "${request.id}": ${(error as Error).message}`,
      { cause: error },
    );
  }
}

async function poll(state: SpawnerState): Promise<PollResult> {
  const saved = parseState(state);
  if (saved === null) return { running: false, exitCode: null };
  if (isServer(await readProcStat(saved.pid), saved)) return { running: true };
  return { running: false, exitCode: null };
}

async function stop(
  state: SpawnerState,
  timeoutMs: number,
  now: () => number,
): Promise<void> {
  const saved = parseState(state);
  if (saved === null) return;
  const leader = await readProcStat(saved.pid);
  // The PID now belongs to another process: ours is long gone (a group
  // outlives its leader only while its PID stays reserved).
  if (leader !== null && leader.starttime !== saved.starttime) return;
  const gone = () => groupAlive(saved.pgid).then((alive) => !alive);
  if (!signalGroup(saved.pgid, "SIGTERM")) return;
  if (await waitUntil(gone, { deadline: now() + timeoutMs, now })) return;
  if (!signalGroup(saved.pgid, "SIGKILL")) return;
  if (await waitUntil(gone, { deadline: now() + KILL_WAIT_MS, now })) return;
  throw new SpawnError(
    `Cannot stop process group ${saved.pgid}: still running ${KILL_WAIT_MS} ms after SIGKILL`,
  );
}

/** Processes of `uid` whose environment contains `marker` ("NAME=value"). */
async function findByEnvironment(
  uid: number,
  marker: string,
): Promise<number[]> {
  const found: number[] = [];
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const status = await Deno.readTextFile(`/proc/${entry.name}/status`);
      const realUid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
      if (realUid !== uid) continue;
      const environ = await Deno.readFile(`/proc/${entry.name}/environ`);
      if (new TextDecoder().decode(environ).split("\0").includes(marker)) {
        found.push(Number(entry.name));
      }
    } catch {
      // The process ended meanwhile, or is not readable: not ours to stop.
    }
  }
  return found;
}

async function stopStray(
  user: SystemUser,
  marker: string,
  now: () => number,
): Promise<number> {
  if (user.uid === 0) return 0;
  let stopped = 0;
  for (const pid of await findByEnvironment(user.uid, marker)) {
    const stat = await readProcStat(pid);
    if (!stat || isDead(stat)) continue;
    await stop(
      { pid, pgid: stat.pgrp, starttime: stat.starttime },
      DEFAULT_STOP_TIMEOUT_MS,
      now,
    );
    stopped++;
  }
  return stopped;
}

/**
 * The local-process driver.
 *
 * @example
 * ```ts
 * import type { SpawnRequest } from "./mod.ts";
 * // Defined, not run here: it starts a process as a Linux user.
 * async function startThenStop(request: SpawnRequest) {
 *   const spawner = createLocalProcessSpawner();
 *   const { url, state } = await spawner.start(request);
 *   // …after a hub restart, from the saved state alone:
 *   await createLocalProcessSpawner().stop(state, { timeoutMs: 5000 });
 *   return url;
 * }
 * ```
 */
export function createLocalProcessSpawner(
  options: SpawnerOptions = {},
): Spawner {
  const setpriv = options.setprivPath ?? "setpriv";
  const now = options.now ?? Date.now;
  return {
    kind: "local",
    start: (request) => start(setpriv, request),
    poll,
    stop: (state, stopOptions: StopOptions = {}) =>
      stop(state, stopOptions.timeoutMs ?? DEFAULT_STOP_TIMEOUT_MS, now),
    stopStray: (_id, user, marker) => stopStray(user, marker, now),
    memory: (state) =>
      typeof state.pid === "number" && Number.isInteger(state.pid)
        ? processTreeRss(state.pid)
        : Promise.resolve(null),
    answered,
  };
}
