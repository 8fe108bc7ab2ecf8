/**
 * The hub's configuration. One schema table, {@linkcode CONFIG_KEYS}, is
 * the single source of every key: its YAML path, kind, validation and error
 * text, default, `ONEHUB_*` env name, docs line, whether a reload applies
 * it, and the field of {@linkcode HubConfig} it resolves to. `HubConfig`'s
 * type, {@linkcode resolveConfig}, {@linkcode toRawConfig}, the env names and
 * `onehub config keys` are all derived from the table.
 *
 * {@linkcode resolveConfig} merges defaults < file < env < flags, validates
 * every value (naming the key, the value and the accepted form), runs the
 * keys' cross-checks and returns a fully resolved configuration.
 *
 * Pure: no file or env access here (see file.ts and cli/).
 *
 * @module
 */
import {
  customScopesProblem,
  defineCustomScopes,
  ScopeError,
  validateScopes,
} from "../rbac/scopes.ts";
import { ConfigError, quote } from "../errors.ts";
import {
  type GroupSpec,
  parseGroups,
  parseRoles,
  type RoleSpec,
} from "../rbac/access_spec.ts";
import {
  coreCount,
  type Limits,
  parseGroupLimits,
  parseProfiles,
  type Profile,
  sizeInBytes,
} from "../servers/profiles.ts";
import {
  parseServices,
  type ServiceSpec,
  servicesToRaw,
} from "../services/spec.ts";

/** The kinds of value a key may hold. */
export type KeyKind =
  | "string"
  | "int"
  | "bool"
  | "list"
  | "enum"
  | "url_path"
  | "records"
  | "mapping";

/** The validated value of a key of each kind, as the file holds it. */
type RawOf<K extends KeyKind> = K extends "int" ? number
  : K extends "bool" ? boolean
  : K extends "list" ? readonly string[]
  : K extends "records" ? readonly Record<string, unknown>[]
  : K extends "mapping" ? Readonly<Record<string, unknown>>
  : string;

/** Typed reads of the merged raw values, for cross-key checks and derived fields. */
export interface ConfigValues {
  string(key: string): string;
  int(key: string): number;
  bool(key: string): boolean;
  list(key: string): readonly string[];
}

interface SpecOf<K extends KeyKind> {
  /** The dotted YAML path. */
  key: string;
  /** The dotted path of the resolved value in {@linkcode HubConfig}. */
  field: string;
  kind: K;
  default: RawOf<K>;
  /** `live`: a reload applies it; `restart`: read once at start. */
  reload: "live" | "restart";
  /** One line for `onehub config keys` and the README. */
  doc: string;
  /** For "enum". */
  values?: readonly string[];
  /** For "int". */
  min?: number;
  max?: number;
  /** A cross-key or semantic check of the merged value: the error message, or null. */
  check?: (value: RawOf<K>, values: ConfigValues) => string | null;
  /** The resolved value (default: the validated raw value); may throw ConfigError. */
  resolve?: (value: RawOf<K>, values: ConfigValues) => unknown;
  /** The file form of a resolved value, when `resolve` changed its type. */
  toRaw?: (value: never) => RawOf<K>;
}

/** One row of the schema. */
export type KeySpec =
  | SpecOf<"string">
  | SpecOf<"int">
  | SpecOf<"bool">
  | SpecOf<"list">
  | SpecOf<"enum">
  | SpecOf<"url_path">
  | SpecOf<"records">
  | SpecOf<"mapping">;

/** A key's kind as people read it: `int 1..65535`, `enum a|b`, `url path`, `list`… */
export function kindText(k: KeySpec): string {
  return k.kind === "int"
    ? `int ${k.min}..${k.max}`
    : k.kind === "enum"
    ? `enum ${k.values!.join("|")}`
    : k.kind === "url_path"
    ? "url path"
    : k.kind;
}

/** `Invalid value for "key": value; expected …`, the one shape of value errors. */
function invalid(key: string, value: unknown, expected: string): string {
  return `Invalid value for "${key}": ${
    quote(value, 80)
  }; expected ${expected}`;
}

function normalizeDataDir(dir: string): string {
  return dir.replace(/\/+$/, "") || "/";
}

/** `""` or the origin of a URL the checks accepted. */
function originOf(value: string): string {
  try {
    return value === "" ? "" : new URL(value).origin;
  } catch {
    return ""; // its own key's check reports it
  }
}

function checkPublicUrl(value: string): string | null {
  if (value === "") return null;
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch { /* reported below */ }
  const ok = url && /^https?:$/.test(url.protocol) && url.pathname === "/" &&
    !url.username && !url.password && !/[?#]/.test(value);
  return ok ? null : invalid(
    "public_url",
    value,
    'an origin such as "https://hub.example.org"',
  );
}

/** An origin whose host can have subdomains, agreeing with public_url. */
function checkSubdomainHost(
  value: string,
  values: ConfigValues,
): string | null {
  if (value === "") return null;
  const shape = checkPublicUrl(value)?.replace(
    '"public_url"',
    '"subdomain_host"',
  );
  if (shape) return shape;
  const host = new URL(value).hostname;
  if (/^[0-9.]+$/.test(host) || host.startsWith("[")) {
    return invalid(
      "subdomain_host",
      value,
      "a host name, not an IP address: users get <name>.<host> (wildcard DNS)",
    );
  }
  const publicUrl = values.string("public_url");
  if (publicUrl && new URL(publicUrl).origin !== new URL(value).origin) {
    return `Invalid settings: "subdomain_host" (${value}) and "public_url" (${publicUrl}) name different origins; set only subdomain_host, or the same origin in both`;
  }
  return null;
}

/** JupyterHub's LocalProcessSpawner.env_keep default. */
export const ENV_KEEP_DEFAULT: readonly string[] = [
  "CONDA_DEFAULT_ENV",
  "CONDA_ROOT",
  "JUPYTERHUB_SINGLEUSER_APP",
  "LANG",
  "LC_ALL",
  "LD_LIBRARY_PATH",
  "PATH",
  "PYTHONPATH",
  "VIRTUAL_ENV",
];

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function checkEnvNames(key: string, names: readonly string[]): string | null {
  const bad = names.find((n) => !ENV_NAME.test(n));
  return bad === undefined ? null : invalid(
    key,
    bad,
    "environment variable names (letters, digits and _, not starting with a digit)",
  );
}

function checkEnvironment(
  key: string,
  value: Readonly<Record<string, unknown>>,
): string | null {
  const names = checkEnvNames(key, Object.keys(value));
  if (names) return names;
  const bad = Object.entries(value).find(([, v]) =>
    !["string", "number", "boolean"].includes(typeof v)
  );
  return bad === undefined ? null : invalid(
    `${key}.${bad[0]}`,
    bad[1],
    'text, e.g. "1" (a server\'s environment holds strings)',
  );
}

function envStrings(
  value: Readonly<Record<string, unknown>>,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, String(v)]),
  );
}

function checkScopeList(key: string, scopes: readonly string[]): string | null {
  try {
    validateScopes(scopes, { subject: `"${key}"` });
    return null;
  } catch (error) {
    if (!(error instanceof ScopeError)) throw error;
    return `Invalid value for "${key}": ${error.message}`;
  }
}

function checkPattern(value: string): string | null {
  if (value === "") return null;
  try {
    new RegExp(value);
    return null;
  } catch (error) {
    return invalid(
      "users.username_pattern",
      value,
      `a regular expression: ${(error as Error).message}`,
    );
  }
}

function checkHttps(enabled: boolean, values: ConfigValues): string | null {
  const hasFiles = values.string("https.tls.cert") &&
    values.string("https.tls.key");
  if (!enabled || hasFiles || values.list("https.letsencrypt.domains").length) {
    return null;
  }
  return 'Invalid HTTPS settings: "https.enabled" is true but "https.tls.cert" or "https.tls.key" is empty; ' +
    "set both to PEM files, set https.letsencrypt.domains, or set https.enabled to false";
}

const DNS_NAME =
  /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;

function checkDomains(domains: readonly string[]): string | null {
  const bad = domains.find((d) => !DNS_NAME.test(d));
  return bad === undefined
    ? null
    : `Invalid value in "https.letsencrypt.domains": ${
      quote(bad, 80)
    }; expected a DNS name such as "hub.example.org"`;
}

function checkProxyApiUrl(value: string): string | null {
  let url: URL | null = null;
  try {
    url = new URL(value);
  } catch { /* reported below */ }
  const ok = url && url.protocol === "http:" &&
    (url.pathname === "/" || url.pathname === "");
  return ok ? null : invalid(
    "proxy.api_url",
    value,
    'an http origin such as "http://127.0.0.1:8001"',
  );
}

function checkIssuer(value: string, values: ConfigValues): string | null {
  const on = values.bool("auth.oauth.enabled") ||
    values.string("auth.type") === "oauth";
  if (!on) return null;
  const preset = values.string("auth.oauth.preset");
  const github = preset === "github";
  const missing = [
    // gitlab and google have a default issuer.
    ...(preset === "generic" ? ["auth.oauth.issuer"] : []),
    "auth.oauth.client_id",
    "auth.oauth.client_secret",
  ].filter((k) => values.string(k) === "");
  if (missing.length) {
    return `OpenID Connect sign-in is on but ${missing.join(", ")} ${
      missing.length > 1 ? "are" : "is"
    } empty: set them to what the provider gave you when you registered onehub`;
  }
  if (github || value === "") return null;
  let url: URL | null = null;
  try {
    url = new URL(value);
  } catch { /* below */ }
  const loopback = url !== null &&
    ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
  if (
    !url ||
    !(url.protocol === "https:" || (url.protocol === "http:" && loopback))
  ) {
    return invalid(
      "auth.oauth.issuer",
      value,
      'an https URL such as "https://login.example.org/realms/school" (http only on loopback)',
    );
  }
  return null;
}

/** Whether sign-in with the `auth.oauth` provider is on (`auth.oauth.enabled`, or `auth.type: oauth`). */
export function oauthOn(config: HubConfig): boolean {
  return config.auth.oauth.enabled || config.auth.type === "oauth";
}

/** The lingering close's bounds (`http.lingering_*`) for the hub's port and the built-in proxy. */
export function lingerLimits(
  config: HubConfig,
): { maxBytes: number; totalMs: number; idleMs: number } {
  return {
    maxBytes: config.http.lingeringBytes,
    totalMs: config.http.lingeringTimeSeconds * 1000,
    idleMs: config.http.lingeringTimeoutSeconds * 1000,
  };
}

/** Whether `text` can be a git branch: ref-name characters, not starting with "-", no "..", "//", no trailing "/" or ".lock". */
export function isGitBranchName(text: string): boolean {
  return /^[A-Za-z0-9._][A-Za-z0-9._/-]*$/.test(text) && !text.includes("..") &&
    !text.includes("//") && !text.endsWith("/") && !text.endsWith(".lock");
}

/** Whether `text` is a git URL (`https://…`, `git://…`, `ssh://…`, `file://…`, `user@host:path`). */
export function isGitUrl(text: string): boolean {
  return /^(https?|git|ssh|file):\/\//.test(text) ||
    /^[\w.-]+@[\w.-]+:/.test(text);
}

/** Every configuration key. Dotted paths are the YAML nesting. */
export const CONFIG_KEYS = [
  {
    key: "http.ip",
    field: "http.ip",
    kind: "string",
    default: "127.0.0.1",
    reload: "restart",
    doc: "Address the public port binds to (0.0.0.0 for all)",
  },
  {
    key: "http.port",
    field: "http.port",
    kind: "int",
    default: 8000,
    min: 0,
    max: 65535,
    reload: "restart",
    doc: "Public port (0 picks a free one)",
  },
  {
    key: "http.max_form_size",
    field: "http.maxFormSize",
    kind: "int",
    default: 65536,
    min: 1024,
    max: 16777216,
    reload: "live",
    doc:
      "Largest HTML form body in bytes (login, spawn options, OAuth forms); larger ones get 413",
  },
  {
    key: "http.lingering_bytes",
    field: "http.lingeringBytes",
    kind: "int",
    default: 1073741824,
    min: 0,
    max: 17179869184,
    reload: "restart",
    doc:
      "Bytes of a request body the public port still reads and discards after an early answer (e.g. 413), so the client reads the answer; then the connection closes",
  },
  {
    key: "http.lingering_time",
    field: "http.lingeringTimeSeconds",
    kind: "int",
    default: 30,
    min: 0,
    max: 600,
    reload: "restart",
    doc:
      "Seconds in all a client may go on sending a body after an early answer (nginx lingering_time)",
  },
  {
    key: "http.lingering_timeout",
    field: "http.lingeringTimeoutSeconds",
    kind: "int",
    default: 5,
    min: 0,
    max: 600,
    reload: "restart",
    doc:
      "Seconds without a byte after which such a lingering connection closes (nginx lingering_timeout)",
  },
  {
    key: "base_url",
    field: "baseUrl",
    kind: "url_path",
    default: "/",
    reload: "restart",
    doc: "URL prefix of everything: the hub is at {base_url}hub/",
  },
  {
    key: "public_url",
    field: "publicUrl",
    kind: "string",
    default: "",
    reload: "restart",
    doc:
      "Public origin, e.g. https://hub.example.org (enables full_url fields and strict next checks)",
    check: checkPublicUrl,
    // As in JupyterHub, subdomain_host is the public origin when public_url is unset.
    resolve: (v, values) => originOf(v || values.string("subdomain_host")),
  },
  {
    key: "subdomain_host",
    field: "subdomainHost",
    kind: "string",
    default: "",
    reload: "restart",
    doc:
      "Give each user's server its own origin, <user>.<host>, e.g. https://hub.example.org (wildcard DNS; README: Per-user origins)",
    check: checkSubdomainHost,
    resolve: originOf,
  },
  {
    key: "data_dir",
    field: "dataDir",
    kind: "string",
    default: "/var/lib/onehub",
    reload: "restart",
    doc: "State directory (database, cookie secret)",
    resolve: normalizeDataDir,
  },
  {
    key: "db_path",
    field: "dbPath",
    kind: "string",
    default: "",
    reload: "restart",
    doc: "SQLite file; default {data_dir}/onehub.sqlite",
    resolve: (v, values) =>
      v || `${normalizeDataDir(values.string("data_dir"))}/onehub.sqlite`,
  },
  {
    key: "cookie_secret_file",
    field: "cookieSecretFile",
    kind: "string",
    default: "",
    reload: "restart",
    doc:
      "Cookie secret; default {data_dir}/cookie_secret (made 0600 when missing)",
    resolve: (v, values) =>
      v || `${normalizeDataDir(values.string("data_dir"))}/cookie_secret`,
  },
  {
    key: "auth.crypt_key_file",
    field: "auth.cryptKeyFile",
    kind: "string",
    default: "",
    reload: "restart",
    doc:
      "Key that seals users' auth state (provider tokens); default {data_dir}/auth_state_key (made 0600 when missing); JUPYTERHUB_CRYPT_KEY in the environment takes its place",
    resolve: (v, values) =>
      v || `${normalizeDataDir(values.string("data_dir"))}/auth_state_key`,
  },
  {
    key: "log.level",
    field: "logLevel",
    kind: "enum",
    default: "info",
    values: ["debug", "info", "warn", "error"],
    reload: "restart",
    doc: "Log level",
  },
  {
    key: "auth.type",
    field: "auth.type",
    kind: "enum",
    default: "pam",
    values: ["pam", "dummy", "oauth"],
    reload: "restart",
    doc:
      "Authenticator: pam (Linux accounts), dummy (trials), oauth (only the auth.oauth provider)",
  },
  {
    key: "auth.oauth.enabled",
    field: "auth.oauth.enabled",
    kind: "bool",
    default: false,
    reload: "restart",
    doc:
      'Offer "Sign in with …" (OpenID Connect) beside the password form (always on with auth.type oauth)',
  },
  {
    key: "auth.oauth.preset",
    field: "auth.oauth.preset",
    kind: "enum",
    default: "generic",
    values: ["generic", "github", "gitlab", "google"],
    reload: "restart",
    doc:
      "generic: any OpenID Connect provider (auth.oauth.issuer); github: GitHub or GitHub Enterprise, orgs and teams as groups; gitlab: GitLab's OpenID Connect (issuer default https://gitlab.com); google: Google's (issuer default https://accounts.google.com, username = email)",
  },
  {
    key: "auth.oauth.allowed_domains",
    field: "auth.oauth.allowedDomains",
    kind: "list",
    default: [],
    reload: "restart",
    doc:
      "Only these email domains may sign in (Google's hosted domain claim hd, else the email's domain); empty: any",
  },
  {
    key: "auth.oauth.github_url",
    field: "auth.oauth.githubUrl",
    kind: "string",
    default: "https://github.com",
    reload: "restart",
    doc: "GitHub's web address (GitHub Enterprise: https://github.example.org)",
  },
  {
    key: "auth.oauth.github_api_url",
    field: "auth.oauth.githubApiUrl",
    kind: "string",
    default: "https://api.github.com",
    reload: "restart",
    doc:
      "GitHub's API address (GitHub Enterprise: https://github.example.org/api/v3)",
  },
  {
    key: "auth.oauth.issuer",
    field: "auth.oauth.issuer",
    kind: "string",
    default: "",
    reload: "restart",
    doc:
      "The OpenID Connect issuer URL (discovery at <issuer>/.well-known/openid-configuration); https, or http on loopback",
    check: checkIssuer,
  },
  {
    key: "auth.oauth.client_id",
    field: "auth.oauth.clientId",
    kind: "string",
    default: "",
    reload: "restart",
    doc: "The client id registered with the provider",
  },
  {
    key: "auth.oauth.client_secret",
    field: "auth.oauth.clientSecret",
    kind: "string",
    default: "",
    reload: "restart",
    doc: "The client secret registered with the provider",
  },
  {
    key: "auth.oauth.scopes",
    field: "auth.oauth.scopes",
    kind: "list",
    default: ["openid", "profile", "email"],
    reload: "restart",
    doc: "Scopes asked of the provider (openid is required)",
    check: (v) =>
      v.includes("openid")
        ? null
        : 'Invalid value for "auth.oauth.scopes": it must include "openid"',
  },
  {
    key: "auth.oauth.username_claim",
    field: "auth.oauth.usernameClaim",
    kind: "string",
    default: "preferred_username",
    reload: "restart",
    doc: "The ID token claim that becomes the username (e.g. email, sub)",
  },
  {
    key: "auth.oauth.groups_claim",
    field: "auth.oauth.groupsClaim",
    kind: "string",
    default: "groups",
    reload: "restart",
    doc: "The ID token claim holding the user's groups",
  },
  {
    key: "auth.oauth.allowed_groups",
    field: "auth.oauth.allowedGroups",
    kind: "list",
    default: [],
    reload: "restart",
    doc:
      "Only members of these provider groups may sign in (empty: users.* rules apply)",
  },
  {
    key: "auth.oauth.admin_groups",
    field: "auth.oauth.adminGroups",
    kind: "list",
    default: [],
    reload: "restart",
    doc: "Members of these provider groups are admins",
  },
  {
    key: "auth.oauth.button_text",
    field: "auth.oauth.buttonText",
    kind: "string",
    default: "Sign in with your organisation",
    reload: "restart",
    doc: "The text of the sign-in button",
  },
  {
    key: "auth.oauth.timeout",
    field: "auth.oauth.timeoutSeconds",
    kind: "int",
    default: 10,
    min: 1,
    max: 120,
    reload: "restart",
    doc:
      "Seconds a call to the provider may take (then the sign-in answers 504)",
  },
  {
    key: "auth.oauth.logout_url",
    field: "auth.oauth.logoutUrl",
    kind: "string",
    default: "",
    reload: "restart",
    doc:
      "Where logout sends the browser after ending the hub's session, e.g. the provider's end-session URL (\"\": the login page)",
    check: (v) =>
      v === "" || /^https?:\/\/[^\s]+$/.test(v)
        ? null
        : `Invalid value for "auth.oauth.logout_url": ${
          JSON.stringify(v)
        }; expected a URL such as "https://login.example.org/logout"`,
  },
  {
    key: "auth.oauth.auto_login",
    field: "auth.oauth.autoLogin",
    kind: "bool",
    default: false,
    reload: "restart",
    doc: "Skip the login page: go straight to the provider",
  },
  {
    key: "auth.oauth.enable_auth_state",
    field: "auth.oauth.enableAuthState",
    kind: "bool",
    default: true,
    reload: "restart",
    doc:
      "Keep the provider's tokens as the user's auth state (sealed with auth.crypt_key_file), so they can be refreshed before a spawn and handed to the server",
  },
  {
    key: "auth.oauth.refresh_pre_spawn",
    field: "auth.oauth.refreshPreSpawn",
    kind: "bool",
    default: true,
    reload: "live",
    doc:
      "Before a spawn, check the stored sign-in with the provider (refreshing an expired token); a sign-in the provider ended must log in again",
  },
  {
    key: "auth.oauth.auth_refresh_age",
    field: "auth.oauth.authRefreshAgeSeconds",
    kind: "int",
    default: 300,
    min: 0,
    max: 86400 * 30,
    reload: "live",
    doc:
      "Seconds a checked sign-in counts as fresh (a spawn after that checks again; an expired token is always refreshed)",
  },
  {
    key: "auth.oauth.token_env",
    field: "auth.oauth.tokenEnv",
    kind: "string",
    default: "",
    reload: "live",
    doc:
      "Environment variable that hands the provider's access token to the user's server, e.g. GITHUB_TOKEN (\"\": not handed)",
    check: (v) =>
      v === "" || /^[A-Z_][A-Z0-9_]*$/.test(v) && !v.startsWith("JUPYTERHUB_")
        ? null
        : `Invalid value for "auth.oauth.token_env": ${
          JSON.stringify(v)
        }; expected an environment variable name such as GITHUB_TOKEN (capitals, digits, _; not JUPYTERHUB_*)`,
  },
  {
    key: "auth.pam.service",
    field: "auth.pam.service",
    kind: "string",
    default: "onehub",
    reload: "restart",
    doc: "PAM service name (/etc/pam.d/<service> must exist)",
  },
  {
    key: "auth.pam.timeout",
    field: "auth.pam.timeoutSeconds",
    kind: "int",
    default: 10,
    min: 1,
    max: 120,
    reload: "restart",
    doc: "Seconds before a PAM check is abandoned",
  },
  {
    key: "auth.pam.concurrency",
    field: "auth.pam.concurrency",
    kind: "int",
    default: 4,
    min: 1,
    max: 64,
    reload: "restart",
    doc:
      "PAM helper processes checking passwords at once (kept warm, ~40 MB each)",
  },
  {
    key: "auth.pam.queue_size",
    field: "auth.pam.queueSize",
    kind: "int",
    default: 32,
    min: 0,
    max: 10000,
    reload: "restart",
    doc:
      "Logins waiting for a PAM helper, at most; more get 429 with Retry-After",
  },
  {
    key: "auth.throttle.enabled",
    field: "auth.throttle.enabled",
    kind: "bool",
    default: true,
    reload: "restart",
    doc: "Throttle failed logins per client address and per username",
  },
  {
    key: "auth.throttle.address_failures",
    field: "auth.throttle.addressFailures",
    kind: "int",
    default: 10,
    min: 1,
    max: 100000,
    reload: "restart",
    doc:
      "Failed logins an address may make within auth.throttle.window before it must wait",
  },
  {
    key: "auth.throttle.user_failures",
    field: "auth.throttle.userFailures",
    kind: "int",
    default: 5,
    min: 1,
    max: 100000,
    reload: "restart",
    doc:
      "Failed logins for one username within auth.throttle.window before addresses that failed must wait",
  },
  {
    key: "auth.throttle.user_hard_limit",
    field: "auth.throttle.userHardLimit",
    kind: "int",
    default: 30,
    min: 1,
    max: 100000,
    reload: "restart",
    doc:
      "Failed logins for one username within auth.throttle.window after which every address must wait, fresh ones too (a hard cap on guesses per name)",
  },
  {
    key: "auth.throttle.base_delay",
    field: "auth.throttle.baseDelaySeconds",
    kind: "int",
    default: 2,
    min: 1,
    max: 3600,
    reload: "restart",
    doc:
      "Seconds of the first wait after the free failures; doubles with each further failure",
  },
  {
    key: "auth.throttle.max_delay",
    field: "auth.throttle.maxDelaySeconds",
    kind: "int",
    default: 900,
    min: 1,
    max: 86400,
    reload: "restart",
    doc: "Longest wait in seconds",
  },
  {
    key: "auth.throttle.window",
    field: "auth.throttle.windowSeconds",
    kind: "int",
    default: 900,
    min: 1,
    max: 86400,
    reload: "restart",
    doc: "Seconds a failed login is remembered",
  },
  {
    key: "auth.dummy.password",
    field: "auth.dummy.password",
    kind: "string",
    default: "",
    reload: "restart",
    doc: "Shared password for dummy auth; empty accepts any password",
  },
  {
    key: "auth.dummy.allow_public",
    field: "auth.dummy.allowPublic",
    kind: "bool",
    default: false,
    reload: "restart",
    doc:
      "Let dummy auth serve on a non-loopback address (unsafe: anyone can log in)",
  },
  {
    key: "users.allowed",
    field: "users.allowed",
    kind: "list",
    default: [],
    reload: "live",
    doc: "Users allowed to log in",
  },
  {
    key: "users.blocked",
    field: "users.blocked",
    kind: "list",
    default: [],
    reload: "live",
    doc: "Users never allowed to log in",
  },
  {
    key: "users.admin",
    field: "users.admin",
    kind: "list",
    default: [],
    reload: "live",
    doc: "Admin users (always allowed)",
  },
  {
    key: "users.allow_all",
    field: "users.allowAll",
    kind: "bool",
    default: false,
    reload: "live",
    doc:
      "Allow every user the authenticator accepts (dummy auth with no allowed list implies it)",
  },
  {
    key: "users.allow_existing",
    field: "users.allowExisting",
    kind: "bool",
    default: true,
    reload: "live",
    doc: "Allow users that exist in the hub database (added by an admin)",
  },
  {
    key: "users.username_pattern",
    field: "users.usernamePattern",
    kind: "string",
    default: "",
    reload: "live",
    doc: "Regular expression every username must match",
    check: checkPattern,
  },
  {
    key: "api.page_default_limit",
    field: "api.pageDefaultLimit",
    kind: "int",
    default: 50,
    min: 1,
    max: 10000,
    reload: "live",
    doc: "Default page size",
    check: (v, values) =>
      v > values.int("api.page_max_limit")
        ? invalid(
          "api.page_default_limit",
          v,
          `at most api.page_max_limit (${values.int("api.page_max_limit")})`,
        )
        : null,
  },
  {
    key: "api.page_max_limit",
    field: "api.pageMaxLimit",
    kind: "int",
    default: 200,
    min: 1,
    max: 10000,
    reload: "live",
    doc: "Largest page size",
  },
  {
    key: "api.max_body_size",
    field: "api.maxBodySize",
    kind: "int",
    default: 1048576,
    min: 1024,
    max: 1073741824,
    reload: "live",
    doc: "Largest request body in bytes",
  },
  {
    key: "session.max_age",
    field: "session.maxAgeSeconds",
    kind: "int",
    default: 1209600,
    min: 60,
    max: 31536000,
    reload: "live",
    doc: "Login cookie lifetime in seconds",
  },
  {
    key: "tokens.max_expires_in",
    field: "tokens.maxExpiresInSeconds",
    kind: "int",
    default: 0,
    min: 0,
    max: 315360000,
    reload: "live",
    doc: "Cap (and default) for API token lifetimes in seconds; 0 = no cap",
  },
  {
    key: "hub.ip",
    field: "hub.ip",
    kind: "string",
    default: "127.0.0.1",
    reload: "restart",
    doc:
      "Address of the hub's own listener (the proxy and single-user servers reach the hub there)",
  },
  {
    key: "hub.port",
    field: "hub.port",
    kind: "int",
    default: 8081,
    min: 0,
    max: 65535,
    reload: "restart",
    doc: "Port of the hub's own listener (0 picks a free one)",
  },
  {
    key: "proxy.mode",
    field: "proxy.mode",
    kind: "enum",
    default: "builtin",
    values: ["builtin", "external"],
    reload: "restart",
    doc:
      "builtin: the proxy runs inside onehub; external: a separate `onehub proxy` (or configurable-http-proxy) driven over its REST API",
  },
  {
    key: "proxy.api_url",
    field: "proxy.apiUrl",
    kind: "string",
    default: "http://127.0.0.1:8001",
    reload: "restart",
    doc: "REST API of the external proxy",
    check: checkProxyApiUrl,
    resolve: (v) => v.replace(/\/+$/, ""),
  },
  {
    key: "proxy.auth_token",
    field: "proxy.authToken",
    kind: "string",
    default: "",
    reload: "restart",
    doc:
      "Token for the external proxy's API (default: $CONFIGPROXY_AUTH_TOKEN)",
  },
  {
    key: "proxy.connect_timeout",
    field: "proxy.connectTimeoutSeconds",
    kind: "int",
    default: 10,
    min: 1,
    max: 300,
    reload: "restart",
    doc:
      "Seconds to wait for a server to accept a connection before answering 504",
  },
  {
    key: "proxy.trusted_proxies",
    field: "proxy.trustedProxies",
    kind: "list",
    default: [],
    reload: "restart",
    doc:
      "Addresses of proxies in front of onehub (e.g. nginx) whose X-Forwarded-* headers are kept",
  },
  {
    key: "proxy.activity_interval",
    field: "proxy.activityIntervalSeconds",
    kind: "int",
    default: 300,
    min: 5,
    max: 86400,
    reload: "restart",
    doc:
      "Seconds between pulls of the proxy's per-route activity into the database",
  },
  {
    key: "https.enabled",
    field: "https.enabled",
    kind: "bool",
    default: false,
    reload: "restart",
    doc: "Serve HTTPS on https.port with https.tls.cert and https.tls.key",
    check: checkHttps,
  },
  {
    key: "https.port",
    field: "https.port",
    kind: "int",
    default: 443,
    min: 0,
    max: 65535,
    reload: "restart",
    doc: "HTTPS port",
  },
  {
    key: "https.tls.cert",
    field: "https.cert",
    kind: "string",
    default: "",
    reload: "restart",
    doc: "PEM certificate chain file",
  },
  {
    key: "https.tls.key",
    field: "https.key",
    kind: "string",
    default: "",
    reload: "restart",
    doc: "PEM private key file",
  },
  {
    key: "https.letsencrypt.email",
    field: "https.letsencrypt.email",
    kind: "string",
    default: "",
    reload: "restart",
    doc:
      "Contact e-mail for Let's Encrypt (expiry notices); with domains, certificates are obtained and renewed by ACME http-01",
  },
  {
    key: "https.letsencrypt.domains",
    field: "https.letsencrypt.domains",
    kind: "list",
    default: [],
    reload: "restart",
    doc:
      "Domains to get a Let's Encrypt certificate for (they must reach this machine on port 80 = http.port); replaces https.tls.*",
    check: checkDomains,
  },
  {
    key: "https.letsencrypt.directory",
    field: "https.letsencrypt.directory",
    kind: "string",
    default: "https://acme-v02.api.letsencrypt.org/directory",
    reload: "restart",
    doc:
      "ACME directory URL (Let's Encrypt staging: https://acme-staging-v02.api.letsencrypt.org/directory)",
  },
  {
    key: "https.redirect_http",
    field: "https.redirectHttp",
    kind: "bool",
    default: true,
    reload: "restart",
    doc:
      "With HTTPS on, answer plain HTTP on http.port with a redirect to HTTPS",
  },
  {
    key: "https.hsts",
    field: "https.hsts",
    kind: "bool",
    default: false,
    reload: "restart",
    doc:
      "Send Strict-Transport-Security on HTTPS responses (browsers then refuse plain HTTP for this host)",
  },
  {
    key: "https.hsts_max_age",
    field: "https.hstsMaxAge",
    kind: "int",
    default: 31536000,
    min: 0,
    max: 63072000,
    reload: "restart",
    doc: "max-age of Strict-Transport-Security in seconds",
  },
  {
    key: "spawner.type",
    field: "spawner.type",
    kind: "enum",
    default: "local",
    values: ["local", "systemd"],
    reload: "restart",
    doc:
      "local: a process per server dropped to the user's uid; systemd: a transient unit per server (needs systemd as PID 1)",
  },
  {
    key: "spawner.cmd",
    field: "spawner.cmd",
    kind: "list",
    default: ["jupyterhub-singleuser"],
    reload: "live",
    doc:
      "Command of each user's server, looked up on the server's PATH (the hub's, by spawner.env_keep; else /usr/local/bin:/usr/bin:/bin)",
  },
  {
    key: "spawner.default_url",
    field: "spawner.defaultUrl",
    kind: "string",
    default: "",
    reload: "live",
    doc: 'Page a server opens on, e.g. "/lab" or "/tree"',
  },
  {
    key: "spawner.env_keep",
    field: "spawner.envKeep",
    kind: "list",
    default: [...ENV_KEEP_DEFAULT],
    reload: "live",
    doc:
      "Variables of the hub's own environment each server inherits (JupyterHub's LocalProcessSpawner.env_keep)",
    check: (v) => checkEnvNames("spawner.env_keep", v),
  },
  {
    key: "spawner.environment",
    field: "spawner.environment",
    kind: "mapping",
    default: {},
    reload: "live",
    doc:
      "Variables set in every server, applied last (may override JUPYTERHUB_*): {NAME: value}; a profile's environment goes over these",
    check: (v) => checkEnvironment("spawner.environment", v),
    resolve: (v) => envStrings(v),
  },
  {
    key: "spawner.notebook_dir",
    field: "spawner.notebookDir",
    kind: "string",
    default: "",
    reload: "live",
    doc:
      'Root directory of each server, "{username}" expanded (JUPYTERHUB_ROOT_DIR), e.g. "/srv/class/{username}"; empty: the home directory',
  },
  {
    key: "spawner.debug",
    field: "spawner.debug",
    kind: "bool",
    default: false,
    reload: "live",
    doc: "Servers log at debug level (JUPYTERHUB_DEBUG=1)",
  },
  {
    key: "spawner.disable_user_config",
    field: "spawner.disableUserConfig",
    kind: "bool",
    default: false,
    reload: "live",
    doc:
      "Servers ignore Jupyter config files in the user's home (JUPYTERHUB_DISABLE_USER_CONFIG=1)",
  },
  {
    key: "spawner.server_token_scopes",
    field: "spawner.serverTokenScopes",
    kind: "list",
    default: [],
    reload: "live",
    doc:
      'Scopes of each server\'s own API token, "!server" meaning that server; empty: the "server" role\'s (JupyterHub\'s Spawner.server_token_scopes)',
    check: (v) => checkScopeList("spawner.server_token_scopes", v),
  },
  {
    key: "spawner.oauth_client_allowed_scopes",
    field: "spawner.oauthClientAllowedScopes",
    kind: "list",
    default: [],
    reload: "live",
    doc:
      "More scopes a server may ask for its visitors' tokens, beyond access to itself (JupyterHub's Spawner.oauth_client_allowed_scopes)",
    check: (v) => checkScopeList("spawner.oauth_client_allowed_scopes", v),
  },
  {
    key: "spawner.user_prefix",
    field: "spawner.userPrefix",
    kind: "string",
    default: "",
    reload: "restart",
    doc:
      'Prefix of Linux account names (TLJH uses "jupyter-"); empty: hub user = Linux user',
  },
  {
    key: "spawner.create_system_users",
    field: "spawner.createSystemUsers",
    kind: "bool",
    default: false,
    reload: "live",
    doc: "Create the Linux account (useradd -m) on a user's first spawn",
  },
  {
    key: "spawner.min_uid",
    field: "spawner.minUid",
    kind: "int",
    default: 1000,
    min: 1,
    max: 65535,
    reload: "live",
    doc:
      'Servers never run as an account below this uid (root and service accounts, e.g. an OAuth user named "daemon")',
  },
  {
    key: "spawner.start_timeout",
    field: "spawner.startTimeoutSeconds",
    kind: "int",
    default: 60,
    min: 1,
    max: 3600,
    reload: "live",
    doc: "Seconds a server may take to start",
  },
  {
    key: "spawner.slow_spawn_timeout",
    field: "spawner.slowSpawnTimeoutSeconds",
    kind: "int",
    default: 10,
    min: 0,
    max: 3600,
    reload: "live",
    doc:
      "Seconds a REST API start request waits for the server before answering 202 (JupyterHub's slow_spawn_timeout)",
  },
  {
    key: "spawner.slow_stop_timeout",
    field: "spawner.slowStopTimeoutSeconds",
    kind: "int",
    default: 10,
    min: 0,
    max: 3600,
    reload: "live",
    doc:
      "Seconds a REST API stop request waits for the server to end before answering 202 (JupyterHub's slow_stop_timeout)",
  },
  {
    key: "spawner.http_timeout",
    field: "spawner.httpTimeoutSeconds",
    kind: "int",
    default: 30,
    min: 1,
    max: 3600,
    reload: "live",
    doc: "Seconds a started server may take to answer HTTP",
  },
  {
    key: "spawner.concurrent_limit",
    field: "spawner.concurrentLimit",
    kind: "int",
    default: 20,
    min: 1,
    max: 1000,
    reload: "live",
    doc: "Spawns allowed at once; more get 429 with Retry-After",
  },
  {
    key: "spawner.options_form",
    field: "spawner.optionsForm",
    kind: "string",
    default: "",
    reload: "live",
    doc:
      "HTML form fields shown before a server starts (trusted HTML); the submitted fields become user_options",
  },
  {
    key: "spawner.named_servers",
    field: "spawner.namedServers",
    kind: "bool",
    default: false,
    reload: "live",
    doc: "Allow several named servers per user",
  },
  {
    key: "spawner.named_server_limit",
    field: "spawner.namedServerLimit",
    kind: "int",
    default: 0,
    min: 0,
    max: 1000,
    reload: "live",
    doc: "Named servers allowed per user (0 = no limit)",
  },
  {
    key: "spawner.stop_on_shutdown",
    field: "spawner.stopOnShutdown",
    kind: "bool",
    default: false,
    reload: "live",
    doc:
      "Stop every server when the hub stops (default: keep them running and re-adopt them)",
  },
  {
    key: "spawner.poll_interval",
    field: "spawner.pollIntervalSeconds",
    kind: "int",
    default: 30,
    min: 1,
    max: 3600,
    reload: "restart",
    doc: "Seconds between checks that running servers are alive",
  },
  {
    key: "limits.memory",
    field: "limits.memoryBytes",
    kind: "string",
    default: "",
    reload: "live",
    doc: 'Memory per server, e.g. "2G" (systemd spawner enforces it)',
    resolve: parseMemory,
    toRaw: (v: number | null) => v === null ? "" : String(v),
  },
  {
    key: "limits.cpu",
    field: "limits.cpu",
    kind: "string",
    default: "",
    reload: "live",
    doc: 'CPU cores per server, e.g. "1.5" (systemd spawner enforces it)',
    resolve: parseCpu,
    toRaw: (v: number | null) => v === null ? "" : String(v),
  },
  {
    key: "session.shutdown_on_logout",
    field: "session.shutdownOnLogout",
    kind: "bool",
    default: false,
    reload: "live",
    doc:
      "Stop the user's servers when they log out (JupyterHub's shutdown_on_logout)",
  },
  {
    key: "events.retention_days",
    field: "events.retentionDays",
    kind: "int",
    default: 90,
    min: 1,
    max: 3650,
    reload: "live",
    doc: "Days the event log (onehub events) keeps an event",
  },
  {
    key: "events.max_rows",
    field: "events.maxRows",
    kind: "int",
    default: 200000,
    min: 1000,
    max: 10000000,
    reload: "live",
    doc: "Events kept at most; the oldest go first",
  },
  {
    key: "metrics.authenticate",
    field: "metrics.authenticate",
    kind: "bool",
    default: true,
    reload: "live",
    doc:
      "/hub/metrics needs a token or login with read:metrics (false: open to anyone who reaches the hub, as authenticate_prometheus = False)",
  },
  {
    key: "limits.tasks",
    field: "limits.tasks",
    kind: "int",
    default: 0,
    min: 0,
    max: 1000000,
    reload: "live",
    doc: "Processes and threads per server (systemd TasksMax; 0 = no limit)",
  },
  {
    key: "limits.groups",
    field: "limits.groups",
    kind: "mapping",
    default: {},
    reload: "live",
    doc:
      'Limits by group: {students: {memory: "2G", cpu: 1, tasks: 512}}; the most generous of a user\'s groups wins',
    resolve: (v) => parseGroupLimits(v),
    toRaw: (v: Record<string, Limits>) =>
      Object.fromEntries(
        Object.entries(v).map(([g, l]) => [g, limitsToRaw(l)]),
      ),
  },
  {
    key: "profiles",
    field: "profiles",
    kind: "records",
    default: [],
    reload: "live",
    doc:
      "Server profiles offered on the spawn page: slug, display_name, description, default, limits, default_url, environment, groups (see README)",
    resolve: (v) => parseProfiles(v),
    toRaw: (v: Profile[]) =>
      v.map((p) => ({
        slug: p.slug,
        "display_name": p.displayName,
        description: p.description,
        default: p.default,
        limits: limitsToRaw(p.limits),
        "default_url": p.defaultUrl,
        environment: p.environment,
        groups: p.groups,
      })),
  },
  {
    key: "course_files.source",
    field: "courseFiles.source",
    kind: "string",
    default: "",
    reload: "live",
    doc:
      "Course files merged into every user's home at spawn and on the admin page's update: a directory or a git repository URL (\"\" = none)",
    check: (v) =>
      v === "" || v.startsWith("/") ||
        /^(https?|git|ssh|file):\/\/[^\s]+$/.test(v)
        ? null
        : `Invalid value for "course_files.source": ${
          JSON.stringify(v)
        }; expected an absolute directory such as "/srv/course" or a git URL (https://, http://, git://, ssh://, file://) such as "https://example.org/course.git" (write user@host:path as ssh://user@host/path)`,
  },
  {
    key: "course_files.target",
    field: "courseFiles.target",
    kind: "string",
    default: "course",
    reload: "live",
    doc: "The folder in each home the course files go to",
    check: (v) =>
      /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(v) &&
        !v.split("/").some((p) => p === "." || p === "..")
        ? null
        : `Invalid value for "course_files.target": ${
          JSON.stringify(v)
        }; expected a folder inside the home such as "course" or "classes/intro"`,
  },
  {
    key: "course_files.branch",
    field: "courseFiles.branch",
    kind: "string",
    default: "",
    reload: "live",
    doc: 'The git branch of a git source ("" = its default branch)',
    check: (v) =>
      v === "" || isGitBranchName(v)
        ? null
        : `Invalid value for "course_files.branch": ${
          JSON.stringify(v)
        }; expected a branch name such as "main" or "2026/spring" (letters, digits, ".", "_", "-", "/"; not starting with "-")`,
  },
  {
    key: "course_files.max_file_size",
    field: "courseFiles.maxFileSize",
    kind: "int",
    default: 104857600,
    min: 1024,
    max: 17179869184,
    reload: "live",
    doc:
      "Course files larger than this many bytes are skipped, and a student's file that large is never read",
  },
  {
    key: "course_files.cache_dir",
    field: "courseFiles.cacheDir",
    kind: "string",
    default: "/var/cache/onehub/course-files",
    reload: "live",
    doc:
      "Where a git source is checked out (readable by every user: the merge runs as the user)",
  },
  {
    key: "sharing.enabled",
    field: "sharing.enabled",
    kind: "bool",
    default: false,
    reload: "live",
    doc:
      "Let users share their servers with other users and groups (JupyterHub 5 sharing: adds shares!user, read:users:name and read:groups:name to the user role)",
  },
  {
    key: "announcement",
    field: "announcement",
    kind: "string",
    default: "",
    reload: "live",
    doc:
      "Banner text on the login and home pages (plain text; the admin page can set one that wins)",
    check: (v) =>
      v.length > 1000
        ? `Invalid value for "announcement": ${v.length} characters; keep it to 1000`
        : null,
  },
  {
    key: "groups",
    field: "groups",
    kind: "mapping",
    default: {},
    reload: "live",
    doc:
      "Groups made at start and reload (JupyterHub's load_groups): {name: {users: [...], properties: {...}}}; members are added, never removed",
    resolve: (v) => parseGroups(v),
    toRaw: (v: GroupSpec[]) =>
      Object.fromEntries(
        v.map((g) => [g.name, { users: g.users, properties: g.properties }]),
      ),
  },
  {
    key: "custom_scopes",
    field: "customScopes",
    kind: "mapping",
    default: {},
    reload: "restart",
    doc:
      'Scopes of your own for services and servers to check (JupyterHub\'s custom_scopes): {"custom:grader:read": {description: "...", subscopes: [...]}}',
    check: (v) => customScopesProblem(v),
  },
  {
    key: "roles",
    field: "roles",
    kind: "records",
    default: [],
    reload: "live",
    doc:
      "Custom roles (JupyterHub's load_roles): name, description, scopes, users, groups, services (see README, classroom)",
    resolve: (v) => parseRoles(v),
    toRaw: (v: RoleSpec[]) =>
      v.map((r) => ({
        name: r.name,
        description: r.description,
        scopes: r.scopes,
        users: r.users,
        groups: r.groups,
        services: r.services,
      })),
  },
  {
    key: "services.list",
    field: "services",
    kind: "records",
    default: [],
    reload: "restart",
    doc:
      "Services (JupyterHub's c.JupyterHub.services): name, url, command, api_token, admin, scopes, allow_all_users, oauth_no_confirm, … (see README)",
    resolve: (v) => parseServices(v),
    toRaw: (v: ServiceSpec[]) => servicesToRaw(v),
  },
  {
    key: "services.cull.enabled",
    field: "cull.enabled",
    kind: "bool",
    default: true,
    reload: "live",
    doc: "Stop idle servers (the built-in idle culler, on as in TLJH)",
  },
  {
    key: "services.cull.timeout",
    field: "cull.timeoutSeconds",
    kind: "int",
    default: 600,
    min: 1,
    max: 31536000,
    reload: "live",
    doc: "Seconds without activity after which a server is stopped",
  },
  {
    key: "services.cull.every",
    field: "cull.everySeconds",
    kind: "int",
    default: 60,
    min: 1,
    max: 86400,
    reload: "live",
    doc: "Seconds between the culler's passes",
  },
  {
    key: "services.cull.concurrency",
    field: "cull.concurrency",
    kind: "int",
    default: 5,
    min: 1,
    max: 100,
    reload: "live",
    doc: "Servers the culler stops at once",
  },
  {
    key: "services.cull.max_age",
    field: "cull.maxAgeSeconds",
    kind: "int",
    default: 0,
    min: 0,
    max: 31536000,
    reload: "live",
    doc: "Stop servers older than this many seconds even when busy (0 = never)",
  },
  {
    key: "services.cull.users",
    field: "cull.users",
    kind: "bool",
    default: false,
    reload: "live",
    doc:
      "Also delete idle users who have no running server (never admins, never users named in users.allowed or users.admin)",
  },
  {
    key: "services.cull.remove_named_servers",
    field: "cull.removeNamedServers",
    kind: "bool",
    default: false,
    reload: "live",
    doc: "Delete culled named servers instead of only stopping them",
  },
  {
    key: "services.cull.admin_users",
    field: "cull.adminUsers",
    kind: "bool",
    default: true,
    reload: "live",
    doc:
      "Cull admins' servers too (jupyterhub-idle-culler's --cull-admin-users)",
  },
] as const satisfies readonly KeySpec[];

/** The schema row type of one key of the table. */
type Row = (typeof CONFIG_KEYS)[number];

/** The resolved type of a row: what `resolve` returns, else its kind's value. */
type ResolvedOf<S> = S extends { resolve: (...args: never[]) => infer R } ? R
  : S extends { kind: "enum"; values: readonly (infer V)[] } ? V
  : S extends { kind: "list" } ? string[]
  : S extends { kind: infer K extends KeyKind } ? RawOf<K>
  : never;

/** `{a: {b: V}}` from "a.b" and V. */
type Nest<P extends string, V> = P extends `${infer H}.${infer R}`
  ? { [K in H]: Nest<R, V> }
  : { [K in P]: V };

type FieldOf<S> = S extends { field: infer F extends string }
  ? Nest<F, ResolvedOf<S>>
  : never;

type Intersect<U> = (U extends unknown ? (x: U) => void : never) extends
  (x: infer I) => void ? I
  : never;

type Expand<T> = T extends readonly unknown[] ? T
  : T extends object ? { [K in keyof T]: Expand<T[K]> }
  : T;

/**
 * The fully resolved configuration, derived from {@linkcode CONFIG_KEYS}:
 * one field per key (its `field` path), nothing optional.
 */
export type HubConfig = Expand<Intersect<FieldOf<Row>>>;

/** Looks up a key's spec. */
export function keySpec(key: string): KeySpec | undefined {
  return (CONFIG_KEYS as readonly KeySpec[]).find((k) => k.key === key);
}

/**
 * Keys a running hub applies on reload (`onehub config reload`, SIGHUP): the
 * rows marked `reload: "live"`, each read when a request, login or spawn
 * needs it. Every other key (ports, addresses, paths, the authenticator, the
 * proxy, HTTPS, the spawner type, logging, the throttle and PAM pool,
 * polling intervals, `spawner.user_prefix`, which names the Unix accounts of
 * running servers) is set up once at start and needs a restart.
 */
export const RELOADABLE_KEYS: ReadonlySet<string> = new Set(
  CONFIG_KEYS.filter((k) => k.reload === "live").map((k) => k.key),
);

/** Whether a running hub needs a restart to apply `key`. */
export function needsRestart(key: string): boolean {
  return !RELOADABLE_KEYS.has(key);
}

/** The `ONEHUB_*` environment variable for a key: `http.port` → `ONEHUB_HTTP_PORT`. */
export function envName(key: string): string {
  return "ONEHUB_" + key.toUpperCase().replace(/\./g, "_");
}

/** A nested object as read from YAML (snake_case keys). */
export type RawConfig = Record<string, unknown>;

function describe(spec: KeySpec): string {
  switch (spec.kind) {
    case "int":
      return `an integer from ${spec.min} to ${spec.max}`;
    case "bool":
      return "true or false";
    case "list":
      return "a list of strings";
    case "enum":
      return `one of ${spec.values!.map((v) => `"${v}"`).join(", ")}`;
    case "url_path":
      return 'a URL path such as "/" or "/jupyter/"';
    case "records":
      return "a list of mappings (in the environment or on the command line: JSON)";
    case "mapping":
      return "a mapping (in the environment or on the command line: JSON)";
    default:
      return "a string";
  }
}

/**
 * Checks one value against its key and returns it in canonical form.
 *
 * @throws {ConfigError} naming the key, the value and the accepted form.
 */
export function validateValue(
  spec: KeySpec,
  value: unknown,
  source = "config",
): unknown {
  const fail = (): never => {
    throw new ConfigError(
      `Invalid value for "${spec.key}" in ${source}: ${
        quote(value, 80)
      }; expected ${describe(spec)}`,
    );
  };
  switch (spec.kind) {
    case "string":
      return typeof value === "string" ? value : fail();
    case "int":
      if (typeof value !== "number" || !Number.isInteger(value)) return fail();
      if (value < spec.min! || value > spec.max!) return fail();
      return value;
    case "bool":
      return typeof value === "boolean" ? value : fail();
    case "list":
      if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) {
        return fail();
      }
      return [...value];
    case "enum":
      return typeof value === "string" && spec.values!.includes(value)
        ? value
        : fail();
    case "records":
      if (!Array.isArray(value) || !value.every(isPlainObject)) return fail();
      return structuredClone(value);
    case "mapping":
      return isPlainObject(value) ? structuredClone(value) : fail();
    case "url_path": {
      if (
        typeof value !== "string" || !/^\/?[A-Za-z0-9._~\-\/]*$/.test(value)
      ) return fail();
      // Browsers collapse "." and ".." segments, so such a prefix would never match.
      if (
        value.includes("//") ||
        value.split("/").some((s) => s === "." || s === "..")
      ) return fail();
      let path = value.startsWith("/") ? value : "/" + value;
      if (!path.endsWith("/")) path += "/";
      return path;
    }
  }
}

/**
 * Parses a command-line or environment string into a value for `spec`
 * (tljh-config rules: `true`/`false`, digits → integer; lists are
 * comma-separated).
 */
export function parseValueText(
  spec: KeySpec,
  text: string,
  source: string,
): unknown {
  switch (spec.kind) {
    case "int":
      return /^-?\d+$/.test(text.trim())
        ? Number(text.trim())
        : validateValue(spec, text, source);
    case "bool":
      if (/^(true|yes|1)$/i.test(text)) return true;
      if (/^(false|no|0)$/i.test(text)) return false;
      return validateValue(spec, text, source);
    case "list":
      return text.split(",").map((s) => s.trim()).filter((s) => s !== "");
    case "records":
    case "mapping":
      try {
        return JSON.parse(text);
      } catch {
        return validateValue(spec, text, source);
      }
    default:
      return text;
  }
}

/** Reads the value at a dotted path of a nested object. */
export function getAt(obj: RawConfig, key: string): unknown {
  let cur: unknown = obj;
  for (const part of key.split(".")) {
    if (cur === null || typeof cur !== "object" || Array.isArray(cur)) {
      return undefined;
    }
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** Returns a copy of `obj` with `value` set at the dotted path. */
export function setAt(obj: RawConfig, key: string, value: unknown): RawConfig {
  const parts = key.split(".");
  const copy: RawConfig = structuredClone(obj);
  let cur: Record<string, unknown> = copy;
  for (const part of parts.slice(0, -1)) {
    const next = cur[part];
    if (next === null || typeof next !== "object" || Array.isArray(next)) {
      cur[part] = {};
    }
    cur = cur[part] as Record<string, unknown>;
  }
  cur[parts.at(-1)!] = value;
  return copy;
}

/** Returns a copy of `obj` without the dotted path (empty parents removed). */
export function unsetAt(obj: RawConfig, key: string): RawConfig {
  const copy: RawConfig = structuredClone(obj);
  const parts = key.split(".");
  const stack: Record<string, unknown>[] = [copy];
  let cur: Record<string, unknown> = copy;
  for (const part of parts.slice(0, -1)) {
    const next = cur[part];
    if (next === null || typeof next !== "object" || Array.isArray(next)) {
      return copy;
    }
    cur = next as Record<string, unknown>;
    stack.push(cur);
  }
  delete cur[parts.at(-1)!];
  for (let i = parts.length - 2; i >= 0; i--) {
    const child = stack[i + 1]!;
    if (Object.keys(child).length === 0) delete stack[i]![parts[i]!];
  }
  return copy;
}

/** True for `{...}` objects (not arrays, sets, buffers or class instances). */
export function isPlainObject(value: unknown): value is RawConfig {
  if (value === null || typeof value !== "object") return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Lists every leaf path of a nested object. Arrays, scalars and empty
 * mappings are leaves (so `http: {}` is reported, not silently dropped).
 */
export function leafKeys(obj: RawConfig, prefix = ""): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(obj)) {
    const path = prefix ? `${prefix}.${k}` : k;
    if (isPlainObject(v) && Object.keys(v).length > 0) {
      out.push(...leafKeys(v, path));
    } else out.push(path);
  }
  return out;
}

/**
 * Validates a whole file-shaped object: every leaf must be a known key with a
 * valid value. Returns the canonical copy.
 */
export function validateRaw(raw: RawConfig, source: string): RawConfig {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new ConfigError(
      `Invalid ${source}: the top level must be a mapping of keys to values`,
    );
  }
  let out: RawConfig = {};
  // A "mapping" key holds free-form nesting (group names): take it whole.
  for (const spec of CONFIG_KEYS as readonly KeySpec[]) {
    if (spec.kind !== "mapping") continue;
    const value = getAt(raw, spec.key);
    if (value === undefined || value === null) continue;
    out = setAt(out, spec.key, validateValue(spec, value, source));
    raw = unsetAt(raw, spec.key);
  }
  for (const key of leafKeys(raw)) {
    const value = getAt(raw, key);
    const spec = keySpec(key);
    if (spec) {
      if (value === null) continue; // `key: ~` means "use the default"
      out = setAt(out, key, validateValue(spec, value, source));
      continue;
    }
    // `base_url: {a: 1}`: a known key holding a mapping.
    const parent = CONFIG_KEYS.find((k) => key.startsWith(k.key + "."));
    if (parent) validateValue(parent, getAt(raw, parent.key), source);
    // `http: 80` or `http: {}`: a section holding a scalar (or nothing).
    const child = CONFIG_KEYS.find((k) => k.key.startsWith(key + "."));
    if (child) {
      if (value === null || isPlainObject(value)) continue; // empty section
      throw new ConfigError(
        `Invalid value for "${key}" in ${source}: ${
          quote(value, 80)
        }; expected a mapping of keys such as "${child.key}"`,
      );
    }
    throw new ConfigError(unknownKeyMessage(key, source));
  }
  return out;
}

/** The closest known key to a mistyped one, if any is close enough. */
export function suggestKey(key: string): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(key.length / 4)) + 1;
  for (const spec of CONFIG_KEYS) {
    const last = spec.key.slice(spec.key.lastIndexOf(".") + 1);
    const d = key === last ? 0 : editDistance(key, spec.key);
    if (d < bestDistance) [best, bestDistance] = [spec.key, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(
        row[j]! + 1,
        next[j - 1]! + 1,
        row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    row = next;
  }
  return row[b.length]!;
}

/** `Unknown key "x" in source` with a suggestion and the way to list keys. */
export function unknownKeyMessage(key: string, source: string): string {
  const guess = suggestKey(key);
  return `Unknown key "${key}" in ${source}; ${
    guess ? `did you mean "${guess}"? ` : ""
  }` +
    `run "onehub config keys" to list the accepted keys`;
}

/** Where each layer came from. */
export interface ConfigLayers {
  /** The parsed config file (may be empty). */
  file?: RawConfig;
  /** Name of the file, for error messages. */
  fileName?: string;
  /** Environment variables (only `ONEHUB_*` are read). */
  env?: Record<string, string>;
  /** Values from command-line flags, keyed by dotted key. */
  flags?: Record<string, unknown>;
}

/** The merged raw value of every key: defaults < file < env < flags. */
function mergeLayers(layers: ConfigLayers): Map<string, unknown> {
  const file = validateRaw(
    layers.file ?? {},
    layers.fileName ?? "the config file",
  );
  for (const key of Object.keys(layers.flags ?? {})) {
    if (!keySpec(key)) {
      throw new ConfigError(unknownKeyMessage(key, "command-line flags"));
    }
  }
  const values = new Map<string, unknown>();
  for (const spec of CONFIG_KEYS as readonly KeySpec[]) {
    let value: unknown = getAt(file, spec.key) ?? spec.default;
    const envText = layers.env?.[envName(spec.key)];
    if (envText !== undefined) {
      const source = `environment variable ${envName(spec.key)}`;
      value = validateValue(
        spec,
        parseValueText(spec, envText, source),
        source,
      );
    }
    if (layers.flags && spec.key in layers.flags) {
      value = validateValue(spec, layers.flags[spec.key], "command-line flags");
    }
    values.set(spec.key, value);
  }
  return values;
}

/** Typed reads of merged values; a read of the wrong kind is a bug here, not bad input. */
function configValues(values: Map<string, unknown>): ConfigValues {
  const read = <T>(key: string, ok: (v: unknown) => boolean): T => {
    const value = values.get(key);
    if (!ok(value)) {
      throw new TypeError(`config key ${key} read as the wrong kind`);
    }
    return value as T;
  };
  return {
    string: (key) => read(key, (v) => typeof v === "string"),
    int: (key) => read(key, (v) => typeof v === "number"),
    bool: (key) => read(key, (v) => typeof v === "boolean"),
    list: (key) => read(key, Array.isArray),
  };
}

/**
 * Merges defaults < file < env < flags, runs each key's check and resolves
 * each key into its {@linkcode HubConfig} field.
 *
 * @throws {ConfigError} on any unknown key, invalid value or failed check.
 */
export function resolveConfig(layers: ConfigLayers = {}): HubConfig {
  const merged = mergeLayers(layers);
  const values = configValues(merged);
  const specs = CONFIG_KEYS as readonly KeySpec[];
  // Before any scope is checked: roles and token scopes may name them.
  const custom = (merged.get("custom_scopes") ?? {}) as Record<string, never>;
  const customProblem = customScopesProblem(custom);
  if (customProblem) throw new ConfigError(customProblem);
  defineCustomScopes(custom);
  for (const spec of specs) {
    const problem = spec.check?.(merged.get(spec.key) as never, values);
    if (problem) throw new ConfigError(problem);
  }
  let config: RawConfig = {};
  for (const spec of specs) {
    const raw = merged.get(spec.key);
    const value = spec.resolve
      ? spec.resolve(raw as never, values)
      : structuredClone(raw);
    config = setAt(config, spec.field, value);
  }
  return config as HubConfig;
}

/**
 * The resolved configuration in file shape: snake_case dotted keys, derived
 * values filled in (`db_path`, `cookie_secret_file`, normalised `base_url`).
 * `leafKeys(toRawConfig(c))` lists exactly the keys of {@linkcode CONFIG_KEYS}.
 */
export function toRawConfig(config: HubConfig): RawConfig {
  let raw: RawConfig = {};
  for (const spec of CONFIG_KEYS as readonly KeySpec[]) {
    const value = getAt(config as unknown as RawConfig, spec.field);
    raw = setAt(
      raw,
      spec.key,
      spec.toRaw ? spec.toRaw(value as never) : structuredClone(value),
    );
  }
  return raw;
}

/**
 * Parses a memory size: bytes, or a number with K, M, G or T (powers of
 * 1024, as JupyterHub's `mem_limit`). "" → null.
 *
 * @throws {ConfigError} naming the key and the accepted form.
 */
export function parseMemory(text: string): number | null {
  if (text.trim() === "") return null;
  const bytes = sizeInBytes(text);
  if (bytes === null) {
    throw new ConfigError(
      `Invalid value for "limits.memory": ${
        quote(text, 80)
      }; expected bytes or a size such as "512M" or "2G"`,
    );
  }
  return bytes;
}

/** Parses a CPU limit in cores ("1.5"); "" → null. @throws {ConfigError} */
export function parseCpu(text: string): number | null {
  if (text.trim() === "") return null;
  const value = coreCount(text);
  if (value === null) {
    throw new ConfigError(
      `Invalid value for "limits.cpu": ${
        quote(text, 80)
      }; expected a number of cores such as "1" or "1.5"`,
    );
  }
  return value;
}

/** The file form of a limit set. */
function limitsToRaw(l: Limits): Record<string, unknown> {
  return {
    ...(l.memoryBytes !== undefined ? { memory: String(l.memoryBytes) } : {}),
    ...(l.cpu !== undefined ? { cpu: l.cpu } : {}),
    ...(l.tasks !== undefined ? { tasks: l.tasks } : {}),
  };
}
