/**
 * What the load scripts read of a process from /proc, and how they print:
 * `rssKiB(pid)`, `childrenOf(pid)` (one level), `out(line)` (stdout, no
 * console). Shared by login_flood.ts and class_start.ts.
 *
 * @module
 */

/** Writes one line to stdout. */
export const out = (line: string): void => {
  Deno.stdout.writeSync(new TextEncoder().encode(line + "\n"));
};

/** VmRSS of a process in KiB, 0 when it is gone. */
export function rssKiB(pid: number): number {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** Children of a process (one level), none when it is gone. */
export function childrenOf(pid: number): number[] {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/task/${pid}/children`).trim()
      .split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
