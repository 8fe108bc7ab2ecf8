/**
 * What an export to or an import from JupyterHub did, in one shape both
 * share, and its text for the terminal: the changes (planned, made,
 * failed), what was already there, what was skipped and why, and notes
 * (the load_roles snippet, the tokens to re-issue).
 *
 * Pure: no I/O.
 *
 * @module
 */

/** One change: a line such as `create user alice (admin)`. */
export interface Change {
  kind: "create" | "update";
  text: string;
}

/** A change both directions make the same way: to users, and to groups that already exist. */
export type CommonAction =
  | { op: "create-user"; name: string; admin: boolean }
  | { op: "grant-admin"; name: string }
  | { op: "add-members"; group: string; users: string[] }
  | {
    op: "set-properties";
    group: string;
    /** The merged properties (the source's keys win). */
    properties: Record<string, unknown>;
  };

/** The report line of a {@linkcode CommonAction}. */
export function commonChange(action: CommonAction): Change {
  switch (action.op) {
    case "create-user":
      return {
        kind: "create",
        text: `create user ${action.name}${action.admin ? " (admin)" : ""}`,
      };
    case "grant-admin":
      return { kind: "update", text: `make ${action.name} an admin` };
    case "add-members":
      return {
        kind: "update",
        text: `add ${action.users.join(", ")} to group ${action.group}`,
      };
    case "set-properties":
      return {
        kind: "update",
        text: `set properties of group ${action.group} to ${
          JSON.stringify(action.properties)
        }`,
      };
  }
}

/** Something left out, with why and what to do instead. */
export interface Skip {
  what: string;
  why: string;
}

/** What a run did (or, in a dry run, would do). */
export interface SyncReport {
  /** The changes planned, in order. */
  planned: Change[];
  /** The changes made (empty in a dry run). */
  done: Change[];
  /** Changes the other side refused, with its words. */
  failed: Skip[];
  /** What was already there, counted: `3 users`, `1 group`. */
  unchanged: string[];
  skipped: Skip[];
  /** Longer notes printed last, each a paragraph. */
  notes: string[];
}

/** `n thing(s)`. */
export function count(n: number, thing: string): string {
  return `${n} ${thing}${n === 1 ? "" : "s"}`;
}

function tally(changes: readonly Change[], kind: Change["kind"]): number {
  return changes.filter((c) => c.kind === kind).length;
}

/** The report's summary line: created, updated, unchanged, skipped, failed. */
function summary(report: SyncReport, dryRun: boolean): string {
  const changes = dryRun ? report.planned : report.done;
  const verb = dryRun ? "would create" : "created";
  const parts = [
    `${verb} ${tally(changes, "create")}`,
    `${dryRun ? "would update" : "updated"} ${tally(changes, "update")}`,
    `unchanged ${report.unchanged.join(", ") || "nothing"}`,
    `skipped ${report.skipped.length}`,
  ];
  if (!dryRun) parts.push(`failed ${report.failed.length}`);
  return `Summary: ${parts.join("; ")}`;
}

/** Options of {@linkcode formatReport}. */
export interface FormatOptions {
  /** A dry run: the plan is listed, nothing was done. */
  dryRun: boolean;
  /** The other hub, for messages: "JupyterHub", "onehub". */
  other: string;
  /** The changes made were printed as they happened: do not list them again. */
  streamed?: boolean;
}

/** A change as a list line: `+` creates, `~` updates. */
export function changeLine(change: Change): string {
  return `  ${change.kind === "create" ? "+" : "~"} ${change.text}`;
}

/**
 * The report as text: the plan (dry run) or the changes made, a summary
 * line, then what was skipped or failed and the notes.
 *
 * @example
 * ```ts
 * import { formatReport } from "./report.ts";
 *
 * formatReport({
 *   planned: [], done: [], failed: [], unchanged: ["2 users"],
 *   skipped: [], notes: [],
 * }, { dryRun: false, other: "JupyterHub" });
 * // "Nothing to change: JupyterHub already has all of it (2 users).\nSummary: …"
 * ```
 */
export function formatReport(
  report: SyncReport,
  options: FormatOptions,
): string {
  const lines: string[] = [];
  const mark = changeLine;
  if (report.planned.length === 0) {
    lines.push(
      `Nothing to change: ${options.other} already has all of it (${
        report.unchanged.join(", ") || "nothing to move"
      }).`,
    );
  } else if (options.dryRun) {
    lines.push("Plan (dry run: nothing was changed):");
    lines.push(...report.planned.map(mark));
  } else if (!options.streamed) {
    lines.push("Changed:");
    lines.push(...report.done.map(mark));
  }
  lines.push(summary(report, options.dryRun));
  if (report.failed.length) {
    lines.push(`Failed (${options.other} refused):`);
    lines.push(...report.failed.map((f) => `  ! ${f.what}: ${f.why}`));
  }
  if (report.skipped.length) {
    lines.push("Skipped:");
    lines.push(...report.skipped.map((s) => `  - ${s.what}: ${s.why}`));
  }
  for (const note of report.notes) lines.push("", note);
  return lines.join("\n");
}
