/**
 * Recognising SQLite constraint failures, so that a race between two
 * requests (both pass a "does it exist?" check, then both insert) becomes the
 * same 4xx the check would have given instead of a 500.
 *
 * @module
 */

/** SQLite extended result codes (https://www.sqlite.org/rescode.html). */
const CODES = {
  unique: 2067, // SQLITE_CONSTRAINT_UNIQUE
  foreignKey: 787, // SQLITE_CONSTRAINT_FOREIGNKEY
} as const;

/** Whether `error` is node:sqlite's report of a failed UNIQUE or FOREIGN KEY constraint. */
export function isConstraintError(
  error: unknown,
  kind: keyof typeof CODES,
): boolean {
  return error instanceof Error &&
    (error as { errcode?: unknown }).errcode === CODES[kind];
}
