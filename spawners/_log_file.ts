/**
 * Server log files. The hub runs as root and the file's directory may be
 * one the user can write to, so every open here refuses symbolic links
 * (`O_NOFOLLOW`) and non-regular files: a user must not be able to make the
 * hub write to, chown or show any other file.
 *
 * @module
 */
import {
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  fstatSync,
  openSync,
  readSync,
} from "node:fs";
import { dirname } from "node:path";
import { SpawnError } from "./_spawn_error.ts";
import type { SystemUser } from "./_types.ts";

/** The errno name of a node:fs error ("EEXIST", "ELOOP", …). */
function errno(error: unknown): string {
  return (error as { code?: string }).code ?? "";
}

/** A one-line explanation of a failed open. */
function why(error: unknown): string {
  return errno(error) === "ELOOP"
    ? "it is a symbolic link"
    : (error as Error).message;
}

/**
 * Makes `path` a regular file owned by `user` with mode 0600, creating it
 * when missing. An existing file that belongs to somebody else is refused
 * rather than taken over.
 *
 * @throws {SpawnError} when the file cannot be created or is not usable
 */
export function prepareLogFile(path: string, user: SystemUser): void {
  const { O_WRONLY, O_APPEND, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK } =
    constants;
  let fd: number;
  let created = true;
  try {
    // O_EXCL never follows a symbolic link, not even a dangling one.
    fd = openSync(
      path,
      O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW,
      0o600,
    );
  } catch (error) {
    if (errno(error) !== "EEXIST") {
      throw new SpawnError(
        `Cannot create log file "${path}": ${why(error)}`,
        { cause: error },
      );
    }
    created = false;
    try {
      fd = openSync(path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_NONBLOCK);
    } catch (error) {
      throw new SpawnError(
        `Refusing to use log file "${path}": ${why(error)}`,
        { cause: error },
      );
    }
  }
  try {
    const info = fstatSync(fd);
    if (!info.isFile()) {
      throw new SpawnError(
        `Refusing to use log file "${path}": not a regular file`,
      );
    }
    if (!created && info.uid !== user.uid) {
      throw new SpawnError(
        `Refusing to use log file "${path}": it belongs to uid ${info.uid}, not to "${user.name}"; remove it`,
      );
    }
    if (info.uid !== user.uid || info.gid !== user.gid) {
      fchownSync(fd, user.uid, user.gid);
    }
    fchmodSync(fd, 0o600);
  } catch (error) {
    if (error instanceof SpawnError) throw error;
    throw new SpawnError(
      `Cannot give log file "${path}" to "${user.name}": ${
        (error as Error).message
      }`,
      { cause: error },
    );
  } finally {
    closeSync(fd);
  }
}

/**
 * Checks that nobody but root (or the hub's own account) can change what
 * `path`'s directory contains, up to `/`. Needed where a privileged process
 * opens the log by name later (systemd's `StandardOutput=append:` follows
 * symbolic links): in a directory the user can write to, they could swap the
 * file for a link to `/etc/passwd` in between.
 *
 * @throws {SpawnError} naming the first directory that fails the check
 */
export async function assertTrustedDirectory(path: string): Promise<void> {
  const dir = dirname(path);
  let real: string;
  try {
    real = await Deno.realPath(dir);
  } catch (error) {
    throw new SpawnError(
      `Cannot use log directory "${dir}": ${(error as Error).message}`,
      { cause: error },
    );
  }
  const trusted = new Set([0, Deno.uid()]);
  for (let current = real;; current = dirname(current)) {
    const info = await Deno.stat(current);
    const mode = info.mode ?? 0;
    const groupWrite = (mode & 0o020) !== 0 && !trusted.has(info.gid ?? -1);
    const otherWrite = (mode & 0o002) !== 0;
    // A sticky ancestor (/tmp) is fine: others cannot rename what is in it.
    const sticky = (mode & 0o1000) !== 0 && current !== real;
    if (
      !trusted.has(info.uid ?? -1) || ((groupWrite || otherWrite) && !sticky)
    ) {
      throw new SpawnError(
        `Refusing to write logs under "${dir}": other users can change "${current}"; use a directory owned by root that only root can write`,
      );
    }
    if (current === "/") return;
  }
}

/** Default number of bytes {@linkcode tailFile} reads. */
const TAIL_BYTES = 4096;

/**
 * The last lines of a log, for an error message: at most `maxBytes` bytes,
 * starting at a line boundary when the file is longer, without the final
 * newline.
 *
 * @param maxBytes @default {4096}
 * @returns "" when the file does not exist
 * @throws {SpawnError} when `path` is a symbolic link or not a regular file
 */
export function tailFile(
  path: string,
  maxBytes: number = TAIL_BYTES,
): Promise<string> {
  const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK } = constants;
  let fd: number;
  try {
    fd = openSync(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (error) {
    if (errno(error) === "ENOENT") return Promise.resolve("");
    return Promise.reject(
      new SpawnError(`Cannot read log file "${path}": ${why(error)}`, {
        cause: error,
      }),
    );
  }
  try {
    const info = fstatSync(fd);
    if (!info.isFile()) {
      throw new SpawnError(
        `Cannot read log file "${path}": not a regular file`,
      );
    }
    const wanted = Math.min(info.size, Math.max(0, Math.floor(maxBytes)));
    // One byte more, before the window, says whether it starts a line.
    const start = Math.max(0, info.size - wanted - 1);
    const length = info.size - start;
    const buffer = new Uint8Array(length);
    let read = 0;
    while (read < length) {
      const n = readSync(fd, buffer, read, length - read, start + read);
      if (n <= 0) break;
      read += n;
    }
    let text = new TextDecoder().decode(buffer.subarray(0, read));
    if (start > 0) {
      // Drop the partial first line (and any split UTF-8 sequence with it).
      const newline = text.indexOf("\n");
      text = newline >= 0 ? text.slice(newline + 1) : text.slice(1);
    }
    return Promise.resolve(text.replace(/\n$/, ""));
  } catch (error) {
    return Promise.reject(
      error instanceof SpawnError ? error : new SpawnError(
        `Cannot read log file "${path}": ${(error as Error).message}`,
        { cause: error },
      ),
    );
  } finally {
    closeSync(fd);
  }
}
