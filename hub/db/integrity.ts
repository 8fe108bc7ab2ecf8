/**
 * The database file's health, checked before anything opens it for the
 * hub: a missing file is a new hub only when nothing says a hub ran here
 * before; a 0-byte, truncated, foreign or damaged file stops the hub with
 * one line naming the file, the problem and the newest backup, and nothing
 * is touched. Also: the files' modes (0600; the folder 0700) and the
 * backups (`<db>.<time>.bak`, written with `VACUUM INTO`, the newest few
 * kept).
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { basename, dirname, join } from "node:path";

/** SQLite's file header (https://sqlite.org/fileformat.html §1.3). */
const MAGIC = "SQLite format 3\0";

/** Backups kept by {@linkcode backupDatabase}. */
export const BACKUPS_KEPT = 3;

/** Options for {@linkcode databaseProblem}. */
export interface DatabaseCheckOptions {
  /**
   * A file whose presence says a hub already ran with this database (the
   * cookie secret): then a missing database is an error, not a new hub.
   */
  marker?: string;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/**
 * What is wrong with the database file, or null when it is usable (or
 * missing on a first start). Reads the file; writes nothing.
 */
export async function databaseProblem(
  path: string,
  options: DatabaseCheckOptions = {},
): Promise<string | null> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) {
      return `it cannot be read: ${(error as Error).message}`;
    }
    if (options.marker && await exists(options.marker)) {
      return `it is missing, but "${options.marker}" shows a hub ran here before`;
    }
    return null;
  }
  if (!info.isFile) return "it is not a regular file";
  if (info.size === 0) return "it is empty (0 bytes)";
  return headerProblem(await readHead(path), info.size) ??
    quickCheckProblem(path);
}

/** The file's first 100 bytes (fewer when it is shorter). */
async function readHead(path: string): Promise<Uint8Array> {
  const head = new Uint8Array(100);
  const file = await Deno.open(path, { read: true });
  let read = 0;
  try {
    while (read < head.length) {
      const n = await file.read(head.subarray(read));
      if (n === null) break;
      read += n;
    }
  } finally {
    file.close();
  }
  return head.subarray(0, read);
}

/** What SQLite's 100-byte header says is wrong with a file of `size` bytes. */
function headerProblem(head: Uint8Array, size: number): string | null {
  if (
    head.length < 100 ||
    new TextDecoder().decode(head.subarray(0, 16)) !== MAGIC
  ) {
    return "it is not a SQLite database (wrong file header)";
  }
  const raw = (head[16]! << 8) | head[17]!;
  const pageSize = raw === 1 ? 65536 : raw;
  if (pageSize < 512 || (pageSize & (pageSize - 1)) !== 0) {
    return `its header is damaged (page size ${raw})`;
  }
  if (size % pageSize !== 0) {
    return `it is truncated (${size} bytes is not a whole number of ${pageSize}-byte pages)`;
  }
  const pages = new DataView(head.buffer, head.byteOffset).getUint32(28);
  if (pages > 0 && size < pages * pageSize) {
    return `it is truncated (${size} bytes, the header says ${
      pages * pageSize
    })`;
  }
  return null;
}

/** What SQLite's own quick check finds, reading the file read-only. */
function quickCheckProblem(path: string): string | null {
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(path, { readOnly: true });
    const rows = db.prepare("PRAGMA quick_check(5)").all() as Array<
      Record<string, unknown>
    >;
    const said = rows.map((r) => String(Object.values(r)[0]));
    if (said.length !== 1 || said[0] !== "ok") {
      return `SQLite's integrity check failed: ${said.join("; ")}`;
    }
  } catch (error) {
    return `SQLite cannot read it: ${(error as Error).message}`;
  } finally {
    db?.close();
  }
  return null;
}

/** Backups of the database, newest first. */
export async function backupsOf(path: string): Promise<string[]> {
  const dir = dirname(path);
  const prefix = basename(path) + ".";
  const out: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (
        entry.isFile && entry.name.startsWith(prefix) &&
        entry.name.endsWith(".bak")
      ) out.push(join(dir, entry.name));
    }
  } catch {
    return [];
  }
  return out.sort().reverse();
}

/**
 * The one line printed when the database cannot be used: the file, the
 * problem, and the way back.
 */
export async function damagedMessage(
  path: string,
  problem: string,
): Promise<string> {
  const [newest] = await backupsOf(path);
  const way = newest
    ? `restore the newest backup with "onehub db restore ${newest}" (or copy it over the file)`
    : "restore it from your own backup (no onehub backup is beside it)";
  return `Refusing to start: the database "${path}" is unusable: ${problem}. ` +
    `Nothing was changed; ${way}, or move the file away to start an empty hub`;
}

/**
 * Gives the database and its WAL/SHM files mode 0600 (they hold token
 * hashes and user data) and creates an empty file that way when missing,
 * so SQLite's own files inherit the mode.
 */
export async function secureDatabaseFiles(path: string): Promise<void> {
  if (path === ":memory:") return;
  const file = await Deno.open(path, {
    create: true,
    write: true,
    mode: 0o600,
  });
  file.close();
  for (const p of [path, `${path}-wal`, `${path}-shm`, `${path}-journal`]) {
    await Deno.chmod(p, 0o600).catch((error) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    });
  }
}

/** How {@linkcode backupDatabase} reaches the open database, and when it runs. */
export interface BackupOptions {
  /** Executes one SQL statement on the open database. */
  run: (sql: string) => Promise<void>;
  /** The time in the backup's name. @default {new Date()} */
  now?: Date | undefined;
}

/**
 * Writes a consistent copy next to the database (`VACUUM INTO`, WAL pages
 * included), mode 0600, and deletes all but the newest
 * {@linkcode BACKUPS_KEPT}.
 *
 * @returns The backup's path.
 */
export async function backupDatabase(
  path: string,
  options: BackupOptions,
): Promise<string> {
  const { run, now = new Date() } = options;
  const stamp = now.toISOString().replace(/[:.]/g, "-");
  const backup = `${path}.${stamp}.bak`;
  await run(`VACUUM INTO '${backup.replaceAll("'", "''")}'`);
  await Deno.chmod(backup, 0o600);
  for (const old of (await backupsOf(path)).slice(BACKUPS_KEPT)) {
    await Deno.remove(old).catch(() => {});
  }
  return backup;
}
