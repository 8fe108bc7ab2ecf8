/**
 * The one way `spawners/` runs a helper program (getent, useradd,
 * systemd-run, systemctl, …): an argv array, never a shell string; the exit
 * status always checked; the output kept for the error message (STYLE.md
 * rule 11).
 *
 * @module
 */
import { SpawnError } from "./_spawn_error.ts";

/** What a finished command printed and returned. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options of {@linkcode run}. */
export interface RunOptions {
  /** Exit codes that are not failures. @default {[0]} */
  okCodes?: number[];
  /**
   * The complete environment of the command; when unset it inherits the
   * hub's. Set it for anything that runs as another user, who could read
   * the hub's secrets from `/proc/PID/environ`.
   */
  env?: Record<string, string>;
}

/** Longest stderr quoted in an error message, in characters. */
const MAX_QUOTED = 2000;

/** The command as one line for messages: `systemctl stop "a b"`. */
export function describeArgv(argv: string[]): string {
  return argv.map((a) => /^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))
    .join(" ");
}

/**
 * Runs `argv` (no shell) with stdin closed and waits for it.
 *
 * @returns the exit code and the decoded output
 * @throws {SpawnError} when the program cannot be started or exits with a
 *   code not in `okCodes`; the message names the command and quotes stderr
 *
 * @example
 * ```ts
 * const { code, stdout } = await run(["getent", "passwd", "alice"], { okCodes: [0, 2] });
 * ```
 */
export async function run(
  argv: string[],
  options: RunOptions = {},
): Promise<RunResult> {
  const [program, ...args] = argv;
  if (program === undefined) {
    throw new SpawnError("Cannot run an empty command");
  }
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command(program, {
      args,
      ...(options.env ? { clearEnv: true, env: options.env } : {}),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (error) {
    const why = error instanceof Deno.errors.NotFound
      ? "not found"
      : (error as Error).message;
    throw new SpawnError(`Cannot run \`${describeArgv(argv)}\`: ${why}`, {
      cause: error,
    });
  }
  const decoder = new TextDecoder();
  const result = {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
  if (!(options.okCodes ?? [0]).includes(result.code)) {
    const detail = (result.stderr.trim() || result.stdout.trim()).slice(
      -MAX_QUOTED,
    );
    throw new SpawnError(
      `Command \`${describeArgv(argv)}\` failed with exit code ${result.code}${
        detail ? `: ${detail}` : ""
      }`,
    );
  }
  return result;
}
