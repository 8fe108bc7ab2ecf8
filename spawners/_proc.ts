/**
 * What `/proc` says about a process or process group, and signals to a
 * group. Used by the local driver to find its servers again from state
 * alone (a PID plus its start time identifies a process even after PID
 * reuse).
 *
 * @module
 */
import { SpawnError } from "./_spawn_error.ts";

/** The fields of `/proc/PID/stat` the local driver needs (proc(5)). */
export interface ProcStat {
  /** Field 3: R, S, D, Z (zombie), X (dead), … */
  state: string;
  /** Field 5: process group ID. */
  pgrp: number;
  /** Field 22: start time in clock ticks after boot. */
  starttime: number;
}

/** Whether a process in this state is finished (only its exit status remains). */
export function isDead(stat: ProcStat): boolean {
  return stat.state === "Z" || stat.state === "X";
}

/**
 * Parses `/proc/PID/stat`. The command name (field 2) is in parentheses and
 * may itself contain spaces and parentheses, so fields are counted after the
 * last `)`.
 */
export function parseProcStat(text: string): ProcStat | null {
  const close = text.lastIndexOf(")");
  if (close < 0) return null;
  const fields = text.slice(close + 2).split(" ");
  // fields[0] is field 3 of proc(5).
  const state = fields[0];
  const pgrp = Number(fields[2]);
  const starttime = Number(fields[19]);
  if (!state || !Number.isInteger(pgrp) || !Number.isInteger(starttime)) {
    return null;
  }
  return { state, pgrp, starttime };
}

/**
 * The stat of process `pid`, or null when there is no such process.
 *
 * @throws {SpawnError} when /proc cannot be read for another reason
 */
export async function readProcStat(pid: number): Promise<ProcStat | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(`/proc/${pid}/stat`);
  } catch (error) {
    // ESRCH when the process vanishes between open and read.
    if (
      error instanceof Deno.errors.NotFound ||
      /ESRCH|No such process|os error 3\)/.test(String(error))
    ) {
      return null;
    }
    throw new SpawnError(
      `Cannot read "/proc/${pid}/stat": ${(error as Error).message}`,
      { cause: error },
    );
  }
  return parseProcStat(text);
}

/**
 * Sends `signal` to every process of group `pgid`.
 *
 * @returns false when the group no longer exists
 * @throws {SpawnError} when the signal is refused (not root, for instance)
 */
export function signalGroup(pgid: number, signal: Deno.Signal): boolean {
  // -1 would mean "every process we may signal": never let it through.
  if (!Number.isInteger(pgid) || pgid <= 1) {
    throw new SpawnError(`Refusing to signal process group ${pgid}`);
  }
  try {
    Deno.kill(-pgid, signal);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw new SpawnError(
      `Cannot send ${signal} to process group ${pgid}: ${
        (error as Error).message
      }`,
      { cause: error },
    );
  }
}

/**
 * Whether group `pgid` still has a process that is not a zombie. A zombie
 * has exited; it only waits for its parent (after a hub restart: PID 1,
 * which may reap lazily) to collect its status.
 */
export async function groupAlive(pgid: number): Promise<boolean> {
  // Signal 0 checks existence; zombies count, so look closer if it succeeds.
  if (!signalGroup(pgid, 0 as unknown as Deno.Signal)) return false;
  const leader = await readProcStat(pgid);
  if (leader && leader.pgrp === pgid && !isDead(leader)) return true;
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const stat = await readProcStat(Number(entry.name));
    if (stat && stat.pgrp === pgid && !isDead(stat)) return true;
  }
  return false;
}
