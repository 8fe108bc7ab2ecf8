/**
 * How much memory a running server uses now, from its stored state: a
 * local process tree by its resident sets (`VmRSS` in `/proc/<pid>/status`,
 * proc(5)), a systemd unit by its cgroup's `memory.current`; and how much
 * the machine has left for a new one (`MemAvailable` in `/proc/meminfo`).
 *
 * @module
 */

/** Reads a text file, or null when it cannot be read. */
export type ReadText = (path: string) => Promise<string | null>;

/** Reads a file; null on any error (the process or unit is gone, no permission…). */
export const readTextOrNull: ReadText = async (path) => {
  try {
    return await Deno.readTextFile(path);
  } catch {
    return null;
  }
};

/** The bytes of a `VmRSS:` line in a `/proc/<pid>/status` text, or null. */
export function parseVmRss(status: string): number | null {
  const m = /^VmRSS:\s+(\d+)\s+kB\s*$/m.exec(status);
  return m ? Number(m[1]) * 1024 : null;
}

/** The bytes of the `MemAvailable:` line in a `/proc/meminfo` text, or null. */
export function parseMemAvailable(meminfo: string): number | null {
  const m = /^MemAvailable:\s+(\d+)\s+kB\s*$/m.exec(meminfo);
  return m ? Number(m[1]) * 1024 : null;
}

/**
 * Memory the machine can give new processes without swapping, in bytes
 * (the kernel's estimate, `MemAvailable` in `/proc/meminfo`); null when it
 * cannot be read (no /proc, a kernel before 3.14).
 */
export async function machineMemAvailable(
  readText: ReadText = readTextOrNull,
): Promise<number | null> {
  return parseMemAvailable(await readText("/proc/meminfo") ?? "");
}

const MAX_PROCESSES = 256;

/** Resident memory of a process and its descendants, or null when it is gone. */
export async function processTreeRss(
  pid: number,
  readText: ReadText = readTextOrNull,
): Promise<number | null> {
  let total: number | null = null;
  const queue = [pid];
  const seen = new Set<number>();
  while (queue.length && seen.size < MAX_PROCESSES) {
    const p = queue.shift()!;
    if (seen.has(p)) continue;
    seen.add(p);
    const rss = parseVmRss(await readText(`/proc/${p}/status`) ?? "");
    if (rss === null) continue;
    total = (total ?? 0) + rss;
    // Needs CONFIG_PROC_CHILDREN (Debian has it); without it only the top process counts.
    const children = await readText(`/proc/${p}/task/${p}/children`) ?? "";
    for (const c of children.trim().split(/\s+/)) {
      if (/^\d+$/.test(c)) queue.push(Number(c));
    }
  }
  return total;
}

// A backslash too: the systemd driver escapes "@" in a user's name as "\x40"
// (unitBase), and the cgroup's folder has the escaped name. Never a "/".
const UNIT_NAME = /^[A-Za-z0-9@._:\\-]+\.(service|scope)$/;

/** A system unit's `memory.current` (cgroup v2), or null (odd name, v1, gone). */
export async function unitMemory(
  unit: string,
  readText: ReadText = readTextOrNull,
): Promise<number | null> {
  if (!UNIT_NAME.test(unit)) return null;
  const text = await readText(
    `/sys/fs/cgroup/system.slice/${unit}/memory.current`,
  );
  const n = Number(text?.trim());
  return text !== null && Number.isFinite(n) && n >= 0 ? n : null;
}
