/**
 * Services from the config file (`services.list`), as JupyterHub's
 * `c.JupyterHub.services` entries with the same key names: checked here,
 * with errors that name the service, the key and the accepted form.
 *
 * ```yaml
 * services:
 *   list:
 *     - name: announcements            # /services/announcements/
 *       url: http://127.0.0.1:10101     # where it listens (routed by the proxy)
 *       command: [/usr/bin/python3, /opt/announce.py]   # managed: onehub runs it
 *       allow_all_users: true           # every user may log in to it (OAuth)
 *     - name: grader                    # external: runs elsewhere, uses the API
 *       api_token: "…32+ characters…"
 *       scopes: [list:users, read:users]
 * ```
 *
 * Pure: no I/O.
 *
 * @module
 */
import { ConfigError, quote } from "../errors.ts";
import { ScopeError, validateScopes } from "../rbac/scopes.ts";

/** One configured service. */
export interface ServiceSpec {
  name: string;
  /** Where it listens ("" = no web endpoint); routed at `{base_url}services/<name>/`. */
  url: string;
  /** Managed services: the command onehub runs ([] = external). */
  command: string[];
  /** The service's API token ("" = none for external; generated for managed). */
  apiToken: string;
  /** The admin role. */
  admin: boolean;
  /** Further scopes the service holds (onehub's short form of a role for it). */
  scopes: string[];
  /** Every user may log in to it through OAuth (`access:services!service=<name>` for the user role). */
  allowAllUsers: boolean;
  /** Skip the consent page (JupyterHub's oauth_no_confirm). */
  oauthNoConfirm: boolean;
  /** Scopes the service may ask for on behalf of a user. */
  oauthClientAllowedScopes: string[];
  /** The OAuth client id. @default {"service-<name>"} */
  oauthClientId: string;
  /** The OAuth redirect URI ("" = `{base_url}services/<name>/oauth_callback`). */
  oauthRedirectUri: string;
  /** Extra environment for a managed service. */
  environment: Record<string, string>;
  /** The Linux user a managed service runs as ("" = the hub's own user). */
  user: string;
  /** Its working directory ("" = the user's home, or / for the hub's user). */
  cwd: string;
  /** Listed on users' home pages (JupyterHub's `display`). */
  display: boolean;
  /** Free-form information shown by the API. */
  info: Record<string, unknown>;
}

/** Service names: as JupyterHub's (letters, digits, `-`, `_`, `.`), at most 64. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const KEYS = [
  "name",
  "url",
  "command",
  "api_token",
  "admin",
  "scopes",
  "allow_all_users",
  "oauth_no_confirm",
  "oauth_client_allowed_scopes",
  "oauth_client_id",
  "oauth_redirect_uri",
  "environment",
  "user",
  "cwd",
  "display",
  "info",
] as const;

function fail(where: string, problem: string): never {
  throw new ConfigError(
    `Invalid service in "services.list" ${where}: ${problem}`,
  );
}

/** Typed reads of one entry's keys, each failing with the key named. */
function reader(entry: Record<string, unknown>, where: () => string) {
  const bad = (key: string, expected: string): never =>
    fail(where(), `"${key}" is ${quote(entry[key])}; expected ${expected}`);
  return {
    string(key: string): string {
      const v = entry[key] ?? "";
      return typeof v === "string" ? v : bad(key, "a string");
    },
    bool(key: string, fallback: boolean): boolean {
      const v = entry[key] ?? fallback;
      return typeof v === "boolean" ? v : bad(key, "true or false");
    },
    strings(key: string): string[] {
      const v = entry[key] ?? [];
      return Array.isArray(v) && v.every((s) => typeof s === "string")
        ? [...v]
        : bad(key, "a list of strings");
    },
    map(key: string): Record<string, unknown> {
      const v = entry[key] ?? {};
      return v !== null && typeof v === "object" && !Array.isArray(v)
        ? { ...(v as Record<string, unknown>) }
        : bad(key, "a mapping");
    },
  };
}

function checkUrl(url: string, where: string): void {
  if (url === "") return;
  let parsed: URL | null = null;
  try {
    parsed = new URL(url);
  } catch { /* below */ }
  if (
    !parsed || !/^https?:$/.test(parsed.protocol) || parsed.search ||
    parsed.username
  ) {
    fail(
      where,
      `"url" is ${
        quote(url)
      }; expected where the service listens, such as "http://127.0.0.1:10101"`,
    );
  }
}

/** An entry's `environment`: every entry `NAME: "text"`. */
function checkEnvironment(
  environment: Record<string, unknown>,
  where: string,
): Record<string, string> {
  for (const [k, v] of Object.entries(environment)) {
    if (typeof v !== "string" || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) {
      fail(where, `"environment" entry ${quote(k)} must be NAME: "text"`);
    }
  }
  return environment as Record<string, string>;
}

/** An entry's scope lists: scopes JupyterHub knows. */
function checkScopes(read: ReturnType<typeof reader>, where: string): void {
  for (const key of ["scopes", "oauth_client_allowed_scopes"]) {
    try {
      validateScopes(read.strings(key));
    } catch (error) {
      if (!(error instanceof ScopeError)) throw error;
      fail(where, `"${key}": ${error.message}`);
    }
  }
}

/** Checks one entry; `index` names it in errors until its name is known. */
function parseOne(raw: unknown, index: number): ServiceSpec {
  let name = "";
  const where = () => name ? `"${name}"` : `#${index + 1}`;
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    fail(where(), `expected a mapping with at least "name", got ${quote(raw)}`);
  }
  const entry = raw as Record<string, unknown>;
  const unknown = Object.keys(entry).find((k) => !KEYS.includes(k as never));
  const read = reader(entry, where);
  const given = read.string("name");
  if (!NAME.test(given)) {
    fail(
      where(),
      `"name" is ${
        entry.name === undefined ? "missing" : quote(entry.name)
      }; expected letters, digits, ".", "_" or "-" (at most 64)`,
    );
  }
  name = given;
  if (unknown) {
    fail(where(), `unknown key "${unknown}"; the keys are ${KEYS.join(", ")}`);
  }
  const url = read.string("url");
  checkUrl(url, where());
  const apiToken = read.string("api_token");
  if (apiToken !== "" && apiToken.length < 16) {
    fail(
      where(),
      `"api_token" is too short; use at least 16 random characters (e.g. openssl rand -hex 32)`,
    );
  }
  const environment = checkEnvironment(read.map("environment"), where());
  checkScopes(read, where());
  const user = read.string("user");
  if (user !== "" && !/^[a-z_][a-z0-9_.-]{0,31}\$?$/.test(user)) {
    fail(where(), `"user" is ${quote(user)}; expected a Linux user name`);
  }
  return {
    name,
    url: url.replace(/\/+$/, ""),
    command: read.strings("command"),
    apiToken,
    admin: read.bool("admin", false),
    scopes: read.strings("scopes"),
    allowAllUsers: read.bool("allow_all_users", false),
    oauthNoConfirm: read.bool("oauth_no_confirm", false),
    oauthClientAllowedScopes: read.strings("oauth_client_allowed_scopes"),
    oauthClientId: read.string("oauth_client_id") || `service-${name}`,
    oauthRedirectUri: read.string("oauth_redirect_uri"),
    environment,
    user,
    cwd: read.string("cwd"),
    display: read.bool("display", true),
    info: read.map("info"),
  };
}

/**
 * Checks and resolves `services.list`.
 *
 * @throws {ConfigError} naming the service, the key and the accepted form.
 */
export function parseServices(raw: readonly unknown[]): ServiceSpec[] {
  const specs = raw.map(parseOne);
  const seen = new Set<string>();
  for (const s of specs) {
    if (seen.has(s.name)) fail(`"${s.name}"`, "the name is used twice");
    if (s.name === "cull-idle") {
      fail(
        `"${s.name}"`,
        "the name is taken by the built-in idle culler (services.cull.*)",
      );
    }
    seen.add(s.name);
  }
  return specs;
}

/** The file form of resolved services (for `onehub config show`). */
export function servicesToRaw(
  specs: readonly ServiceSpec[],
): Record<string, unknown>[] {
  return specs.map((s) => ({
    name: s.name,
    ...(s.url ? { url: s.url } : {}),
    ...(s.command.length ? { command: s.command } : {}),
    ...(s.apiToken ? { "api_token": s.apiToken } : {}),
    ...(s.admin ? { admin: true } : {}),
    ...(s.scopes.length ? { scopes: s.scopes } : {}),
    ...(s.allowAllUsers ? { "allow_all_users": true } : {}),
    ...(s.oauthNoConfirm ? { "oauth_no_confirm": true } : {}),
    ...(s.oauthClientAllowedScopes.length
      ? { "oauth_client_allowed_scopes": s.oauthClientAllowedScopes }
      : {}),
    ...(s.oauthClientId !== `service-${s.name}`
      ? { "oauth_client_id": s.oauthClientId }
      : {}),
    ...(s.oauthRedirectUri ? { "oauth_redirect_uri": s.oauthRedirectUri } : {}),
    ...(Object.keys(s.environment).length
      ? { environment: s.environment }
      : {}),
    ...(s.user ? { user: s.user } : {}),
    ...(s.cwd ? { cwd: s.cwd } : {}),
    ...(!s.display ? { display: false } : {}),
    ...(Object.keys(s.info).length ? { info: s.info } : {}),
  }));
}
