/**
 * Checks on a `SpawnRequest` that every driver makes before starting
 * anything, and the URL the hub reaches a server at.
 *
 * @module
 */
import { isAbsolute } from "node:path";
import { SpawnError } from "./_spawn_error.ts";
import type { SpawnRequest } from "./_types.ts";

/** Allowed characters of `SpawnRequest.id`. */
const ID = /^[a-z0-9._@-]{1,200}$/;

/**
 * Throws a {@linkcode SpawnError} naming the first problem of `request`:
 * a bad id, root as the user, an empty command, a bad port or relative
 * paths.
 */
export function checkRequest(request: SpawnRequest): void {
  const { id, user, argv, port, cwd, logFile } = request;
  if (!ID.test(id)) {
    throw new SpawnError(
      `Cannot start server "${id}": its id may only contain a-z, 0-9, ".", "_", "@" and "-"`,
    );
  }
  if (user.uid === 0 || user.gid === 0) {
    throw new SpawnError(
      `Refusing to run a server as root: "${user.name}" has uid ${user.uid} and gid ${user.gid}`,
    );
  }
  if (!Number.isInteger(user.uid) || !Number.isInteger(user.gid)) {
    throw new SpawnError(
      `Cannot start server "${id}": bad uid or gid of "${user.name}"`,
    );
  }
  if (argv.length === 0 || argv[0] === "") {
    throw new SpawnError(`Cannot start server "${id}": the command is empty`);
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new SpawnError(`Cannot start server "${id}": bad port ${port}`);
  }
  if (!isAbsolute(cwd)) {
    throw new SpawnError(
      `Cannot start server "${id}": the working directory "${cwd}" is not an absolute path`,
    );
  }
  if (logFile !== undefined && !isAbsolute(logFile)) {
    throw new SpawnError(
      `Cannot start server "${id}": the log file "${logFile}" is not an absolute path`,
    );
  }
}

/**
 * The URL the hub and proxy use to reach a server listening on `ip:port`:
 * a wildcard address becomes loopback, IPv6 gets brackets.
 *
 * @example
 * ```ts
 * serverUrl("0.0.0.0", 47213); // "http://127.0.0.1:47213"
 * ```
 */
export function serverUrl(ip: string, port: number): string {
  let host = ip;
  if (ip === "" || ip === "0.0.0.0") host = "127.0.0.1";
  else if (ip === "::") host = "[::1]";
  else if (ip.includes(":")) host = `[${ip}]`;
  return `http://${host}:${port}`;
}
