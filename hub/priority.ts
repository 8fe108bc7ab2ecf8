/**
 * The hub's own CPU priority (`hub.nice`): while a class starts, a hundred
 * Python servers want both cores, and the hub must still answer the login
 * form, the progress streams, the admin page and the API.
 *
 * Linux weighs CPU time in two places, and the hub sets both:
 * - each thread's niceness (`setpriority`), which decides inside one task
 *   group (one cgroup with the CPU controller, e.g. `onehub.service` with
 *   the local spawner's servers as its children);
 * - the session's autogroup (`/proc/self/autogroup`), which decides between
 *   sessions when no CPU cgroup does (Debian's default kernel, a hub started
 *   from a terminal or by a systemd without the CPU controller on): each
 *   server leads its own session, so there niceness alone does nothing
 *   across servers. Measured here: two busy loops in a session at
 *   niceness 19 take the same CPU as two at 0 in another session; with the
 *   autogroup at 19 they take 1.3 % against 98 %.
 *
 * The autogroup is written only when the hub leads its session (systemd
 * services and `sudo` with `use_pty` do), so a hub run inside someone's
 * shell session does not raise that whole session. The servers never keep
 * the hub's priority: the local spawner gives each its absolute
 * `spawner.start_nice`, then 0.
 *
 * @module
 */
import os from "node:os";

/** What {@linkcode setHubPriority} did, for the log. */
export interface PriorityResult {
  /** The niceness every hub thread now has, or null when unchanged. */
  nice: number | null;
  /** True when the session's autogroup was set too. */
  autogroup: boolean;
  /** Why nothing (or only part) was done, when so. */
  skipped?: string;
}

/** Field `n` (1-based, as proc(5)) of `/proc/<pid>/stat`. */
function statField(stat: string, n: number): string | undefined {
  // The command name (field 2) may hold spaces and parentheses.
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return rest[n - 3];
}

/** True when this process leads its session (its sid is its pid). */
export function leadsSession(): boolean {
  try {
    const stat = Deno.readTextFileSync("/proc/self/stat");
    return statField(stat, 6) === String(Deno.pid);
  } catch {
    return false;
  }
}

/** Sets the niceness of every thread of this process (setpriority is per thread on Linux). */
function niceAllThreads(nice: number): void {
  for (const entry of Deno.readDirSync("/proc/self/task")) {
    const tid = Number(entry.name);
    // A thread that ended between the listing and here is fine to miss.
    try {
      os.setPriority(tid, nice);
    } catch (e) {
      if (tid === Deno.pid) throw e;
    }
  }
}

/**
 * Gives the hub niceness `nice` (every thread) and, when it leads its
 * session, the same autogroup niceness. Only root may go below 0; a hub
 * not running as root changes nothing and says why.
 */
export function setHubPriority(nice: number): PriorityResult {
  if (Deno.build.os !== "linux") {
    return { nice: null, autogroup: false, skipped: "not Linux" };
  }
  if (nice < 0 && Deno.uid() !== 0) {
    return { nice: null, autogroup: false, skipped: "not running as root" };
  }
  niceAllThreads(nice);
  if (!leadsSession()) {
    return {
      nice,
      autogroup: false,
      skipped: "the hub does not lead its session",
    };
  }
  try {
    Deno.writeTextFileSync("/proc/self/autogroup", String(nice));
    return { nice, autogroup: true };
  } catch {
    // No autogroup in this kernel (or it is off): niceness is what counts.
    return { nice, autogroup: false, skipped: "no autogroup here" };
  }
}
