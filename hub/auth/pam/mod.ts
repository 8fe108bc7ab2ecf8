/**
 * PAM login, hub side. The hub never calls libpam itself: a blocking
 * `pam_authenticate` would freeze the event loop for PAM's failure delay
 * (about 2 s), and a crash inside a PAM module would take the hub down. So
 * each attempt re-executes this same program with the hidden `pam-helper`
 * subcommand (hub/auth/pam/helper.ts), writes one JSON request on its stdin
 * and reads one JSON line back, killing it after a timeout.
 *
 * This file also owns the wire contract between the two sides (the request
 * and answer types, input limits) and the check that the PAM service file
 * exists, so the helper imports from here and never the other way round.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { truncate } from "../../observe/log.ts";

/** Options for {@linkcode pamAuthenticate}. */
export interface PamOptions {
  /** PAM service name; `/etc/pam.d/<service>` must exist. */
  service: string;
  /** Kill the helper and answer `"timeout"` after this many milliseconds. */
  timeoutMs: number;
  /** The helper's argv. @default {pamHelperArgv()} */
  helperArgv?: string[];
}

/** Why a PAM login failed. */
export type PamFailureReason = "denied" | "account" | "unavailable" | "timeout";

/**
 * The outcome of {@linkcode pamAuthenticate}. `"denied"` always carries the
 * same generic message, so a wrong password and an unknown user look alike.
 * `"account"` carries PAM's own text (for example that the account has
 * expired); it is only reachable with the right password.
 */
export type PamResult =
  | { ok: true }
  | { ok: false; reason: PamFailureReason; message: string };

/** The JSON object the hub writes to the helper's stdin. */
export interface PamHelperRequest {
  service: string;
  username: string;
  password: string;
  /** The client's address, set as `PAM_RHOST`. */
  rhost?: string;
}

/** Where in the PAM conversation the helper stopped. */
export type PamHelperStage = "auth" | "account" | "setup";

/**
 * The one JSON line the helper prints. `code` is the PAM return code, or
 * -1 when the failure came before PAM (bad input, missing service file,
 * libpam not loadable).
 */
export type PamHelperOutput =
  | { ok: true }
  | { ok: false; stage: PamHelperStage; code: number; message: string };

/** The message for every `"denied"` result. */
export const PAM_DENIED_MESSAGE = "Invalid username or password";

/** The one denial: unknown user, wrong password and locked account look the same. */
export const PAM_DENIED = Object.freeze(
  {
    ok: false,
    reason: "denied",
    message: PAM_DENIED_MESSAGE,
  } as const,
);

/** Longest username the helper accepts. */
export const PAM_MAX_USERNAME_LENGTH = 256;
/** Longest password the helper accepts (pam_unix itself stops at 512). */
export const PAM_MAX_PASSWORD_LENGTH = 4096;
/** Longest `PAM_RHOST` the helper accepts. */
export const PAM_MAX_RHOST_LENGTH = 255;

/** Where Linux-PAM looks for service files. */
export const PAM_DIR = "/etc/pam.d";

/**
 * The content of `/etc/pam.d/onehub`, as the installer writes it. It uses
 * the distribution's common stacks, so password rules, lockouts and account
 * expiry behave as they do for `login`.
 */
export const PAM_SERVICE_FILE_TEXT =
  `# PAM service for onehub logins (written by the onehub installer).
# The hub checks the password (auth) and that the account may log in now
# (account: expiry, locked by expiry, password change required).
# It opens no session.
@include common-auth
@include common-account
`;

// PAM return codes the hub tells apart (Linux-PAM _pam_types.h).
const PAM_CODES_UNAVAILABLE = new Set([
  1, // PAM_OPEN_ERR
  2, // PAM_SYMBOL_ERR
  3, // PAM_SERVICE_ERR
  4, // PAM_SYSTEM_ERR
  5, // PAM_BUF_ERR
  9, // PAM_AUTHINFO_UNAVAIL: typically the hub is not root
  19, // PAM_CONV_ERR
  26, // PAM_ABORT
  28, // PAM_MODULE_UNKNOWN
  29, // PAM_BAD_ITEM
]);

const SERVICE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/;
// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Why `service` cannot name a PAM service file, or null. */
export function pamServiceProblem(service: string): string | null {
  return SERVICE_NAME.test(service)
    ? null
    : `Use a PAM service name of letters, digits, ".", "_" and "-": got ${
      JSON.stringify(truncate(service, 64))
    }`;
}

/**
 * Why the credentials cannot be passed to PAM, or null. Never mentions the
 * password's content.
 */
export function pamCredentialsProblem(
  username: string,
  password: string,
): string | null {
  if (username.length === 0) return "Username is empty";
  if (username.length > PAM_MAX_USERNAME_LENGTH) {
    return `Username is longer than ${PAM_MAX_USERNAME_LENGTH} characters`;
  }
  if (CONTROL.test(username)) return "Username contains control characters";
  if (password.length === 0) return "Password is empty";
  if (password.length > PAM_MAX_PASSWORD_LENGTH) {
    return `Password is longer than ${PAM_MAX_PASSWORD_LENGTH} characters`;
  }
  if (password.includes("\0")) return "Password contains a NUL character";
  return null;
}

/** Why `rhost` cannot be set as `PAM_RHOST`, or null. */
export function pamRhostProblem(rhost: string): string | null {
  if (rhost.length > PAM_MAX_RHOST_LENGTH || CONTROL.test(rhost)) {
    return `Remote host is not a host name or address: ${
      JSON.stringify(truncate(rhost, 64))
    }`;
  }
  return null;
}

/** Options for {@linkcode checkPamService}. */
export interface CheckPamServiceOptions {
  /** The PAM configuration folder. @default {"/etc/pam.d"} */
  dir?: string;
}

/**
 * Checks that the PAM service file exists. Without it Linux-PAM silently
 * falls back to `/etc/pam.d/other`, so a typo in the service name would
 * still authenticate through whatever `other` allows.
 *
 * @param service The PAM service name, e.g. `"onehub"`.
 * @returns An error message naming the file and the fix, or null when the
 * file is there.
 *
 * @example
 * ```ts
 * const problem = await checkPamService("onehub");
 * if (problem) console.error(problem); // the hub stops with it: ConfigError
 * ```
 */
export async function checkPamService(
  service: string,
  options: CheckPamServiceOptions = {},
): Promise<string | null> {
  const nameProblem = pamServiceProblem(service);
  if (nameProblem) return nameProblem;
  const path = `${options.dir ?? PAM_DIR}/${service}`;
  const fix = `run the onehub installer, or create it containing ` +
    `"@include common-auth" and "@include common-account" ` +
    `(PAM would otherwise fall back to "${PAM_DIR}/other")`;
  try {
    const info = await Deno.stat(path);
    if (info.isFile) return null;
    return `Replace "${path}" with a PAM service file: it is not a file; ${fix}`;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      return `Create the PAM service file "${path}": it does not exist; ${fix}`;
    }
    const detail = error instanceof Error ? error.message : String(error);
    return `Read the PAM service file "${path}": ${detail}`;
  }
}

/** Options for {@linkcode pamHelperArgv}, for tests. */
export interface PamHelperArgvOptions {
  /** @default {Deno.build.standalone} */
  standalone?: boolean;
  /** @default {Deno.execPath()} */
  execPath?: string;
}

/**
 * The argv that starts the PAM helper: this same program with the hidden
 * `pam-helper` subcommand. Under `deno run` it runs `main.ts` next to the
 * `hub/` folder (not `Deno.mainModule`, which is the test file under
 * `deno test`) with only the permissions PAM needs.
 */
export function pamHelperArgv(options: PamHelperArgvOptions = {}): string[] {
  const execPath = options.execPath ?? Deno.execPath();
  if (options.standalone ?? Deno.build.standalone) {
    return [execPath, "pam-helper"];
  }
  const main = fileURLToPath(new URL("../../../main.ts", import.meta.url));
  // No V8 code cache: Deno maps its cache file, ≈2 MiB more per helper.
  return [
    execPath,
    "run",
    "--no-code-cache",
    "--allow-ffi",
    "--allow-read",
    main,
    "pam-helper",
  ];
}

/**
 * Turns the helper's answer into a {@linkcode PamResult}. Pure.
 *
 * @param output The parsed JSON line, or undefined when there was none.
 * @param exit The helper's exit status, and its stderr, quoted (shortened)
 * when it failed without an answer.
 */
export function interpretPamHelperOutput(
  output: unknown,
  exit: { exitCode: number; stderr?: string },
): PamResult {
  const { exitCode, stderr = "" } = exit;
  const answer = asHelperOutput(output);
  if (!answer) {
    const detail = stderr.trim() ? `: ${truncate(stderr.trim(), 300)}` : "";
    return {
      ok: false,
      reason: "unavailable",
      message:
        `PAM helper exited with status ${exitCode} and no answer${detail}`,
    };
  }
  if (answer.ok) {
    return exitCode === 0 ? { ok: true } : {
      ok: false,
      reason: "unavailable",
      message: `PAM helper answered ok but exited with status ${exitCode}`,
    };
  }
  const message = truncate(answer.message, 300);
  if (answer.stage === "setup") {
    return { ok: false, reason: "unavailable", message };
  }
  if (PAM_CODES_UNAVAILABLE.has(answer.code)) {
    return {
      ok: false,
      reason: "unavailable",
      message:
        `PAM ${answer.stage} failed with code ${answer.code}: ${message}`,
    };
  }
  if (answer.stage === "auth") {
    return PAM_DENIED;
  }
  return { ok: false, reason: "account", message };
}

function asHelperOutput(value: unknown): PamHelperOutput | null {
  if (typeof value !== "object" || value === null) return null;
  const v = value as Record<string, unknown>;
  if (v.ok === true) return { ok: true };
  if (
    v.ok === false &&
    (v.stage === "auth" || v.stage === "account" || v.stage === "setup") &&
    typeof v.code === "number" && typeof v.message === "string"
  ) {
    return { ok: false, stage: v.stage, code: v.code, message: v.message };
  }
  return null;
}

/** The last non-empty line of `text` parsed as JSON, or undefined. */
function lastJsonLine(text: string): unknown {
  const line = text.split("\n").map((l) => l.trim()).filter(Boolean).at(-1);
  if (line === undefined) return undefined;
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

/** The helper's environment: PATH only (plus DENO_DIR under `deno run`). */
export function helperEnv(): Record<string, string> {
  const env: Record<string, string> = {
    PATH: Deno.env.get("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin",
  };
  // Under `deno run` the helper loads main.ts's module graph from the cache;
  // without the hub's DENO_DIR it would look in the default one.
  const denoDir = Deno.env.get("DENO_DIR");
  if (!Deno.build.standalone && denoDir) env.DENO_DIR = denoDir;
  return env;
}

/**
 * Checks a username and password through PAM in a helper subprocess. The
 * event loop stays free while PAM works, including during its failure delay.
 * The password only travels on the helper's stdin; it is never logged and
 * never on a command line.
 *
 * Empty passwords and unusable usernames are denied without starting the
 * helper (the answer does not depend on the account, so it reveals nothing).
 *
 * @param login The login name (already normalised), the password as typed
 * and the client's address.
 * @param options Service, timeout and helper argv.
 * @returns `{ ok: true }`, or why not: `"denied"` (generic message),
 * `"account"` (PAM's message: expired, password change required),
 * `"unavailable"` (PAM or the helper cannot work; the message says why) or
 * `"timeout"`.
 *
 * @example
 * ```ts
 * const result = await pamAuthenticate(
 *   { username: "ada", password: "her password", remoteHost: "192.0.2.7" },
 *   { service: "onehub", timeoutMs: 10_000 },
 * );
 * ```
 */
export async function pamAuthenticate(
  login: PamLogin,
  options: PamOptions,
): Promise<PamResult> {
  if (pamCredentialsProblem(login.username, login.password)) {
    return PAM_DENIED;
  }
  const request = pamHelperRequest(options.service, login);
  const child = startHelper(options.helperArgv ?? pamHelperArgv());
  if (!(child instanceof Deno.ChildProcess)) return child;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch {
      // It exited on its own in the meantime.
    }
  }, options.timeoutMs);
  try {
    await writeRequest(child, request);
    const { code, stdout, stderr } = await child.output();
    if (timedOut) {
      return {
        ok: false,
        reason: "timeout",
        message: `PAM did not answer within ${options.timeoutMs} ms`,
      };
    }
    const decoder = new TextDecoder();
    return interpretPamHelperOutput(lastJsonLine(decoder.decode(stdout)), {
      exitCode: code,
      stderr: decoder.decode(stderr),
    });
  } finally {
    clearTimeout(timer);
  }
}

/** A login to check: the credentials and, when known, the client's address. */
export interface PamLogin {
  username: string;
  password: string;
  /** Set as `PAM_RHOST` when it is a usable host name or address. */
  remoteHost?: string | undefined;
}

/** The request line a helper gets for a login under a PAM service. */
export function pamHelperRequest(
  service: string,
  login: PamLogin,
): PamHelperRequest {
  const { username, password, remoteHost: rhost } = login;
  const request: PamHelperRequest = { service, username, password };
  if (rhost && !pamRhostProblem(rhost)) request.rhost = rhost;
  return request;
}

/**
 * Starts a PAM helper with every stream piped, in `/`, with PATH as its
 * only environment ({@linkcode helperEnv}). Throws when it cannot start.
 */
export function spawnPamHelper(
  command: string,
  args: readonly string[],
): Deno.ChildProcess {
  return new Deno.Command(command, {
    args: [...args],
    clearEnv: true,
    env: helperEnv(),
    cwd: "/",
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** A one-shot helper started from `argv`, or why it could not start. */
function startHelper(argv: readonly string[]): Deno.ChildProcess | PamResult {
  const [command, ...args] = argv;
  if (command === undefined) {
    return {
      ok: false,
      reason: "unavailable",
      message: "Configure the PAM helper command: the argv is empty",
    };
  }
  try {
    return spawnPamHelper(command, args);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return {
      ok: false,
      reason: "unavailable",
      message: `Start the PAM helper "${command}": ${detail}`,
    };
  }
}

/** Writes the request and closes stdin; a helper that died early is fine. */
async function writeRequest(
  child: Deno.ChildProcess,
  request: PamHelperRequest,
): Promise<void> {
  const bytes = new TextEncoder().encode(JSON.stringify(request) + "\n");
  const writer = child.stdin.getWriter();
  try {
    await writer.write(bytes);
    await writer.close();
  } catch {
    // Broken pipe: the exit status and stderr tell what happened.
    await writer.abort().catch(() => {});
  } finally {
    bytes.fill(0);
  }
}
