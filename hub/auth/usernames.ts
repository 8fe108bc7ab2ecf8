/**
 * Username normalisation and validation, and JupyterHub 5's allow rules
 * (allowed_users / blocked_users / admin_users / allow_all /
 * allow_existing_users). Pure.
 *
 * @module
 */
import { HubError } from "../errors.ts";
import { truncate } from "../observe/log.ts";

/** Longest accepted username (Linux allows 32 for system users; OAuth names can be e-mail addresses). */
export const MAX_USERNAME_LENGTH = 128;

/** JupyterHub's base normalisation: lower-case (and trim nothing: spaces make a name invalid). */
export function normalizeUsername(name: string): string {
  return name.toLowerCase();
}

/**
 * Why `name` is not a valid username, or null when it is.
 *
 * Always invalid (as in JupyterHub): empty, containing `/`, leading or
 * trailing whitespace. Also refused here: control characters, `.` and `..`,
 * names over {@linkcode MAX_USERNAME_LENGTH}, and names not matching the
 * configured pattern.
 */
export function usernameProblem(name: string, pattern = ""): string | null {
  if (name.length === 0) return "it is empty";
  if (name.length > MAX_USERNAME_LENGTH) {
    return `it is longer than ${MAX_USERNAME_LENGTH} characters`;
  }
  if (name.includes("/")) return 'it contains "/"';
  if (name !== name.trim()) return "it starts or ends with whitespace";
  // deno-lint-ignore no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) {
    return "it contains control characters";
  }
  if (name === "." || name === "..") return 'it is "." or ".."';
  if (pattern && !new RegExp(pattern).test(name)) {
    return `it does not match the pattern ${JSON.stringify(pattern)}`;
  }
  return null;
}

/** Longest accepted server name. */
export const MAX_SERVER_NAME_LENGTH = 255;

/**
 * Why `name` is not a valid server name, or null when it is ("" is the
 * default server). The one rule for the API, the pages and the CLI: no
 * `/`, not `.` or `..` (browsers and proxies collapse such URL segments),
 * no control characters (NUL included), at most
 * {@linkcode MAX_SERVER_NAME_LENGTH} characters, no leading or trailing
 * whitespace.
 */
export function serverNameProblem(name: string): string | null {
  if (name.length > MAX_SERVER_NAME_LENGTH) {
    return `it is longer than ${MAX_SERVER_NAME_LENGTH} characters`;
  }
  if (name.includes("/")) return 'it contains "/"';
  if (name === "." || name === "..") return 'it is "." or ".."';
  // deno-lint-ignore no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) {
    return "it contains control characters";
  }
  if (name !== name.trim()) return "it starts or ends with whitespace";
  return null;
}

/**
 * `name` when it is a valid server name.
 *
 * @throws {HubError} 400 naming the rule it breaks.
 */
export function validServerName(name: string): string {
  const problem = serverNameProblem(name);
  if (problem) {
    throw new HubError(
      400,
      `Invalid server name ${JSON.stringify(truncate(name, 60))}: ${problem}`,
    );
  }
  return name;
}

/** The allow settings, as resolved from config. */
export interface AllowRules {
  allowed: readonly string[];
  blocked: readonly string[];
  admin: readonly string[];
  allowAll: boolean;
  allowExisting: boolean;
}

/**
 * JupyterHub 5's decision after a successful authentication: blocked users
 * never; then allow_all; then allowed_users (which absorbs admin_users); then
 * users already in the database when allow_existing is on.
 */
export function isAllowed(
  name: string,
  options: { rules: AllowRules; existsInDb: boolean },
): boolean {
  const { rules, existsInDb } = options;
  if (rules.blocked.includes(name)) return false;
  if (rules.allowAll) return true;
  if (rules.allowed.includes(name) || rules.admin.includes(name)) return true;
  return rules.allowExisting && existsInDb;
}

/**
 * The rules in force: as configured, except that dummy authentication with
 * no allowed list lets everyone in (JupyterHub 5's DummyAuthenticator
 * defaults `allow_all` to true then), so the trial hub is usable as is.
 */
export function effectiveAllowRules(
  authType: string,
  rules: AllowRules,
): AllowRules {
  if (authType === "dummy" && rules.allowed.length === 0) {
    return { ...rules, allowAll: true };
  }
  return rules;
}
