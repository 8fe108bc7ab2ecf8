/**
 * The hub's configuration: one schema table ({@linkcode CONFIG_KEYS}) is the
 * single source for the YAML keys, their types, defaults, `ONEHUB_*` env
 * names and docs. {@linkcode resolveConfig} merges
 * defaults < file < env < flags, validates every value (naming the key, the
 * value and the accepted form) and returns a fully resolved {@linkcode HubConfig}.
 *
 * Pure: no file or env access here (see config_file.ts and cli/).
 *
 * @module
 */
import { ConfigError } from "./errors.ts";

/** The kinds of value a key may hold. */
export type KeyKind = "string" | "int" | "bool" | "list" | "enum" | "url_path";

/** One row of the schema. */
export interface KeySpec {
  key: string;
  kind: KeyKind;
  default: unknown;
  doc: string;
  /** For "enum". */
  values?: readonly string[];
  /** For "int". */
  min?: number;
  max?: number;
}

/** Every configuration key. Dotted paths are the YAML nesting. */
export const CONFIG_KEYS: readonly KeySpec[] = [
  {
    key: "http.ip",
    kind: "string",
    default: "127.0.0.1",
    doc: "Address the public port binds to (0.0.0.0 for all)",
  },
  {
    key: "http.port",
    kind: "int",
    default: 8000,
    min: 0,
    max: 65535,
    doc: "Public port (0 picks a free one)",
  },
  {
    key: "http.max_form_size",
    kind: "int",
    default: 65536,
    min: 1024,
    max: 16777216,
    doc:
      "Largest HTML form body in bytes (login, spawn options, OAuth forms); larger ones get 413",
  },
  {
    key: "base_url",
    kind: "url_path",
    default: "/",
    doc: "URL prefix of everything: the hub is at {base_url}hub/",
  },
  {
    key: "public_url",
    kind: "string",
    default: "",
    doc:
      "Public origin, e.g. https://hub.example.org (enables full_url fields and strict next checks)",
  },
  {
    key: "data_dir",
    kind: "string",
    default: "/var/lib/onehub",
    doc: "State directory (database, cookie secret)",
  },
  {
    key: "db_path",
    kind: "string",
    default: "",
    doc: "SQLite file; default {data_dir}/onehub.sqlite",
  },
  {
    key: "cookie_secret_file",
    kind: "string",
    default: "",
    doc:
      "Cookie secret; default {data_dir}/cookie_secret (made 0600 when missing)",
  },
  {
    key: "log.level",
    kind: "enum",
    default: "info",
    values: ["debug", "info", "warn", "error"],
    doc: "Log level",
  },
  {
    key: "auth.type",
    kind: "enum",
    default: "pam",
    values: ["pam", "dummy"],
    doc: "Authenticator",
  },
  {
    key: "auth.pam.service",
    kind: "string",
    default: "onehub",
    doc: "PAM service name (/etc/pam.d/<service> must exist)",
  },
  {
    key: "auth.pam.timeout",
    kind: "int",
    default: 10,
    min: 1,
    max: 120,
    doc: "Seconds before a PAM check is abandoned",
  },
  {
    key: "auth.pam.concurrency",
    kind: "int",
    default: 4,
    min: 1,
    max: 64,
    doc:
      "PAM helper processes checking passwords at once (kept warm, ~40 MB each)",
  },
  {
    key: "auth.pam.queue_size",
    kind: "int",
    default: 32,
    min: 0,
    max: 10000,
    doc:
      "Logins waiting for a PAM helper, at most; more get 429 with Retry-After",
  },
  {
    key: "auth.throttle.enabled",
    kind: "bool",
    default: true,
    doc: "Throttle failed logins per client address and per username",
  },
  {
    key: "auth.throttle.address_failures",
    kind: "int",
    default: 10,
    min: 1,
    max: 100000,
    doc:
      "Failed logins an address may make within auth.throttle.window before it must wait",
  },
  {
    key: "auth.throttle.user_failures",
    kind: "int",
    default: 5,
    min: 1,
    max: 100000,
    doc:
      "Failed logins for one username within auth.throttle.window before addresses that failed must wait",
  },
  {
    key: "auth.throttle.base_delay",
    kind: "int",
    default: 2,
    min: 1,
    max: 3600,
    doc:
      "Seconds of the first wait after the free failures; doubles with each further failure",
  },
  {
    key: "auth.throttle.max_delay",
    kind: "int",
    default: 900,
    min: 1,
    max: 86400,
    doc: "Longest wait in seconds",
  },
  {
    key: "auth.throttle.window",
    kind: "int",
    default: 900,
    min: 1,
    max: 86400,
    doc: "Seconds a failed login is remembered",
  },
  {
    key: "auth.dummy.password",
    kind: "string",
    default: "",
    doc: "Shared password for dummy auth; empty accepts any password",
  },
  {
    key: "auth.dummy.allow_public",
    kind: "bool",
    default: false,
    doc:
      "Let dummy auth serve on a non-loopback address (unsafe: anyone can log in)",
  },
  {
    key: "users.allowed",
    kind: "list",
    default: [],
    doc: "Users allowed to log in",
  },
  {
    key: "users.blocked",
    kind: "list",
    default: [],
    doc: "Users never allowed to log in",
  },
  {
    key: "users.admin",
    kind: "list",
    default: [],
    doc: "Admin users (always allowed)",
  },
  {
    key: "users.allow_all",
    kind: "bool",
    default: false,
    doc:
      "Allow every user the authenticator accepts (dummy auth with no allowed list implies it)",
  },
  {
    key: "users.allow_existing",
    kind: "bool",
    default: true,
    doc: "Allow users that exist in the hub database (added by an admin)",
  },
  {
    key: "users.username_pattern",
    kind: "string",
    default: "",
    doc: "Regular expression every username must match",
  },
  {
    key: "api.page_default_limit",
    kind: "int",
    default: 50,
    min: 1,
    max: 10000,
    doc: "Default page size",
  },
  {
    key: "api.page_max_limit",
    kind: "int",
    default: 200,
    min: 1,
    max: 10000,
    doc: "Largest page size",
  },
  {
    key: "api.max_body_size",
    kind: "int",
    default: 1048576,
    min: 1024,
    max: 1073741824,
    doc: "Largest request body in bytes",
  },
  {
    key: "session.max_age",
    kind: "int",
    default: 1209600,
    min: 60,
    max: 31536000,
    doc: "Login cookie lifetime in seconds",
  },
  {
    key: "tokens.max_expires_in",
    kind: "int",
    default: 0,
    min: 0,
    max: 315360000,
    doc: "Cap (and default) for API token lifetimes in seconds; 0 = no cap",
  },
  {
    key: "hub.ip",
    kind: "string",
    default: "127.0.0.1",
    doc:
      "Address of the hub's own listener (the proxy and single-user servers reach the hub there)",
  },
  {
    key: "hub.port",
    kind: "int",
    default: 8081,
    min: 0,
    max: 65535,
    doc: "Port of the hub's own listener (0 picks a free one)",
  },
  {
    key: "proxy.mode",
    kind: "enum",
    default: "builtin",
    values: ["builtin", "external"],
    doc:
      "builtin: the proxy runs inside onehub; external: a separate `onehub proxy` (or configurable-http-proxy) driven over its REST API",
  },
  {
    key: "proxy.api_url",
    kind: "string",
    default: "http://127.0.0.1:8001",
    doc: "REST API of the external proxy",
  },
  {
    key: "proxy.auth_token",
    kind: "string",
    default: "",
    doc:
      "Token for the external proxy's API (default: $CONFIGPROXY_AUTH_TOKEN)",
  },
  {
    key: "proxy.connect_timeout",
    kind: "int",
    default: 10,
    min: 1,
    max: 300,
    doc:
      "Seconds to wait for a server to accept a connection before answering 504",
  },
  {
    key: "proxy.trusted_proxies",
    kind: "list",
    default: [],
    doc:
      "Addresses of proxies in front of onehub (e.g. nginx) whose X-Forwarded-* headers are kept",
  },
  {
    key: "proxy.activity_interval",
    kind: "int",
    default: 300,
    min: 5,
    max: 86400,
    doc:
      "Seconds between pulls of the proxy's per-route activity into the database",
  },
  {
    key: "https.enabled",
    kind: "bool",
    default: false,
    doc: "Serve HTTPS on https.port with https.tls.cert and https.tls.key",
  },
  {
    key: "https.port",
    kind: "int",
    default: 443,
    min: 0,
    max: 65535,
    doc: "HTTPS port",
  },
  {
    key: "https.tls.cert",
    kind: "string",
    default: "",
    doc: "PEM certificate chain file",
  },
  {
    key: "https.tls.key",
    kind: "string",
    default: "",
    doc: "PEM private key file",
  },
  {
    key: "https.letsencrypt.email",
    kind: "string",
    default: "",
    doc:
      "Contact e-mail for Let's Encrypt (expiry notices); with domains, certificates are obtained and renewed by ACME http-01",
  },
  {
    key: "https.letsencrypt.domains",
    kind: "list",
    default: [],
    doc:
      "Domains to get a Let's Encrypt certificate for (they must reach this machine on port 80 = http.port); replaces https.tls.*",
  },
  {
    key: "https.letsencrypt.directory",
    kind: "string",
    default: "https://acme-v02.api.letsencrypt.org/directory",
    doc:
      "ACME directory URL (Let's Encrypt staging: https://acme-staging-v02.api.letsencrypt.org/directory)",
  },
  {
    key: "https.redirect_http",
    kind: "bool",
    default: true,
    doc:
      "With HTTPS on, answer plain HTTP on http.port with a redirect to HTTPS",
  },
  {
    key: "https.hsts",
    kind: "bool",
    default: false,
    doc:
      "Send Strict-Transport-Security on HTTPS responses (browsers then refuse plain HTTP for this host)",
  },
  {
    key: "https.hsts_max_age",
    kind: "int",
    default: 31536000,
    min: 0,
    max: 63072000,
    doc: "max-age of Strict-Transport-Security in seconds",
  },
  {
    key: "spawner.type",
    kind: "enum",
    default: "local",
    values: ["local", "systemd"],
    doc:
      "local: a process per server dropped to the user's uid; systemd: a transient unit per server (needs systemd as PID 1)",
  },
  {
    key: "spawner.cmd",
    kind: "list",
    default: ["jupyterhub-singleuser"],
    doc:
      "Command of each user's server (looked up on PATH=/usr/local/bin:/usr/bin:/bin)",
  },
  {
    key: "spawner.default_url",
    kind: "string",
    default: "",
    doc: 'Page a server opens on, e.g. "/lab" or "/tree"',
  },
  {
    key: "spawner.user_prefix",
    kind: "string",
    default: "",
    doc:
      'Prefix of Linux account names (TLJH uses "jupyter-"); empty: hub user = Linux user',
  },
  {
    key: "spawner.create_system_users",
    kind: "bool",
    default: false,
    doc: "Create the Linux account (useradd -m) on a user's first spawn",
  },
  {
    key: "spawner.start_timeout",
    kind: "int",
    default: 60,
    min: 1,
    max: 3600,
    doc: "Seconds a server may take to start",
  },
  {
    key: "spawner.http_timeout",
    kind: "int",
    default: 30,
    min: 1,
    max: 3600,
    doc: "Seconds a started server may take to answer HTTP",
  },
  {
    key: "spawner.concurrent_limit",
    kind: "int",
    default: 20,
    min: 1,
    max: 1000,
    doc: "Spawns allowed at once; more get 429 with Retry-After",
  },
  {
    key: "spawner.options_form",
    kind: "string",
    default: "",
    doc:
      "HTML form fields shown before a server starts (trusted HTML); the submitted fields become user_options",
  },
  {
    key: "spawner.named_servers",
    kind: "bool",
    default: false,
    doc: "Allow several named servers per user",
  },
  {
    key: "spawner.named_server_limit",
    kind: "int",
    default: 0,
    min: 0,
    max: 1000,
    doc: "Named servers allowed per user (0 = no limit)",
  },
  {
    key: "spawner.stop_on_shutdown",
    kind: "bool",
    default: false,
    doc:
      "Stop every server when the hub stops (default: keep them running and re-adopt them)",
  },
  {
    key: "spawner.poll_interval",
    kind: "int",
    default: 30,
    min: 1,
    max: 3600,
    doc: "Seconds between checks that running servers are alive",
  },
  {
    key: "limits.memory",
    kind: "string",
    default: "",
    doc: 'Memory per server, e.g. "2G" (systemd spawner enforces it)',
  },
  {
    key: "limits.cpu",
    kind: "string",
    default: "",
    doc: 'CPU cores per server, e.g. "1.5" (systemd spawner enforces it)',
  },
];

/** Looks up a key's spec. */
export function keySpec(key: string): KeySpec | undefined {
  return CONFIG_KEYS.find((k) => k.key === key);
}

/**
 * Keys a running hub applies on reload (`onehub config reload`, SIGHUP):
 * each is read when a request, login or spawn needs it. Every other key
 * (ports, addresses, paths, the authenticator, the proxy, HTTPS, the
 * spawner type, logging, the throttle and PAM pool, polling intervals,
 * `spawner.user_prefix`, which names the Unix accounts of running servers)
 * is set up once at start and needs a restart.
 */
export const RELOADABLE_KEYS: ReadonlySet<string> = new Set([
  "users.allowed",
  "users.blocked",
  "users.admin",
  "users.allow_all",
  "users.allow_existing",
  "users.username_pattern",
  "api.page_default_limit",
  "api.page_max_limit",
  "api.max_body_size",
  "http.max_form_size",
  "session.max_age",
  "tokens.max_expires_in",
  "spawner.cmd",
  "spawner.default_url",
  "spawner.create_system_users",
  "spawner.start_timeout",
  "spawner.http_timeout",
  "spawner.concurrent_limit",
  "spawner.options_form",
  "spawner.named_servers",
  "spawner.named_server_limit",
  "spawner.stop_on_shutdown",
  "limits.memory",
  "limits.cpu",
]);

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

/** The fully resolved configuration. Nothing optional. */
export interface HubConfig {
  http: { ip: string; port: number; maxFormSize: number };
  /** Always with leading and trailing `/`. */
  baseUrl: string;
  /** "" or an origin without trailing slash. */
  publicUrl: string;
  dataDir: string;
  dbPath: string;
  cookieSecretFile: string;
  logLevel: "debug" | "info" | "warn" | "error";
  auth: {
    type: "pam" | "dummy";
    pam: {
      service: string;
      timeoutSeconds: number;
      concurrency: number;
      queueSize: number;
    };
    throttle: {
      enabled: boolean;
      addressFailures: number;
      userFailures: number;
      baseDelaySeconds: number;
      maxDelaySeconds: number;
      windowSeconds: number;
    };
    dummy: { password: string; allowPublic: boolean };
  };
  users: {
    allowed: string[];
    blocked: string[];
    admin: string[];
    allowAll: boolean;
    allowExisting: boolean;
    usernamePattern: string;
  };
  api: { pageDefaultLimit: number; pageMaxLimit: number; maxBodySize: number };
  session: { maxAgeSeconds: number };
  tokens: { maxExpiresInSeconds: number };
  hub: { ip: string; port: number };
  proxy: {
    mode: "builtin" | "external";
    apiUrl: string;
    authToken: string;
    connectTimeoutSeconds: number;
    trustedProxies: string[];
    activityIntervalSeconds: number;
  };
  spawner: {
    type: "local" | "systemd";
    cmd: string[];
    defaultUrl: string;
    userPrefix: string;
    createSystemUsers: boolean;
    startTimeoutSeconds: number;
    httpTimeoutSeconds: number;
    concurrentLimit: number;
    namedServers: boolean;
    namedServerLimit: number;
    optionsForm: string;
    stopOnShutdown: boolean;
    pollIntervalSeconds: number;
  };
  /** Per-server limits; null = none. */
  limits: { memoryBytes: number | null; cpu: number | null };
  https: {
    enabled: boolean;
    port: number;
    cert: string;
    key: string;
    redirectHttp: boolean;
    hsts: boolean;
    hstsMaxAge: number;
    letsencrypt: { email: string; domains: string[]; directory: string };
  };
}

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
    default:
      return "a string";
  }
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? text.slice(0, 80) + "…" : text;
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
      `Invalid value for "${spec.key}" in ${source}: ${show(value)}; expected ${
        describe(spec)
      }`,
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
          show(value)
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

/**
 * Merges defaults < file < env < flags and resolves derived values.
 *
 * @throws {ConfigError} on any unknown key or invalid value.
 */
export function resolveConfig(layers: ConfigLayers = {}): HubConfig {
  const file = validateRaw(
    layers.file ?? {},
    layers.fileName ?? "the config file",
  );
  const values = new Map<string, unknown>();
  for (const spec of CONFIG_KEYS) {
    let value: unknown = spec.default;
    const fromFile = getAt(file, spec.key);
    if (fromFile !== undefined) value = fromFile;
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
  for (const key of Object.keys(layers.flags ?? {})) {
    if (!keySpec(key)) {
      throw new ConfigError(unknownKeyMessage(key, "command-line flags"));
    }
  }
  const get = <T>(key: string) => values.get(key) as T;
  const publicUrl = get<string>("public_url");
  if (publicUrl !== "") {
    let url: URL | undefined;
    try {
      url = new URL(publicUrl);
    } catch { /* reported below */ }
    if (
      !url || !/^https?:$/.test(url.protocol) || url.pathname !== "/" ||
      url.username || url.password ||
      /[?#]/.test(publicUrl)
    ) {
      throw new ConfigError(
        `Invalid value for "public_url": ${
          show(publicUrl)
        }; expected an origin such as "https://hub.example.org"`,
      );
    }
  }
  const publicOrigin = publicUrl === "" ? "" : new URL(publicUrl).origin;
  const pattern = get<string>("users.username_pattern");
  if (pattern !== "") {
    try {
      new RegExp(pattern);
    } catch (error) {
      throw new ConfigError(
        `Invalid value for "users.username_pattern": ${
          show(pattern)
        }; expected a regular expression: ${(error as Error).message}`,
      );
    }
  }
  const dataDir = get<string>("data_dir").replace(/\/+$/, "") || "/";
  if (
    get<number>("api.page_default_limit") > get<number>("api.page_max_limit")
  ) {
    throw new ConfigError(
      `Invalid value for "api.page_default_limit": ${
        get<number>("api.page_default_limit")
      }; expected at most api.page_max_limit (${
        get<number>("api.page_max_limit")
      })`,
    );
  }
  const acmeDomains = get<string[]>("https.letsencrypt.domains");
  if (
    get<boolean>("https.enabled") && acmeDomains.length === 0 &&
    (!get<string>("https.tls.cert") || !get<string>("https.tls.key"))
  ) {
    throw new ConfigError(
      'Invalid HTTPS settings: "https.enabled" is true but "https.tls.cert" or "https.tls.key" is empty; ' +
        "set both to PEM files, set https.letsencrypt.domains, or set https.enabled to false",
    );
  }
  for (const domain of acmeDomains) {
    if (
      !/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i
        .test(domain)
    ) {
      throw new ConfigError(
        `Invalid value in "https.letsencrypt.domains": ${
          show(domain)
        }; expected a DNS name such as "hub.example.org"`,
      );
    }
  }
  let apiUrl: URL | null = null;
  try {
    apiUrl = new URL(get<string>("proxy.api_url"));
  } catch { /* reported below */ }
  if (
    !apiUrl || apiUrl.protocol !== "http:" ||
    (apiUrl.pathname !== "/" && apiUrl.pathname !== "")
  ) {
    throw new ConfigError(
      `Invalid value for "proxy.api_url": ${
        show(get("proxy.api_url"))
      }; expected an http origin such as "http://127.0.0.1:8001"`,
    );
  }
  return {
    http: {
      ip: get("http.ip"),
      port: get("http.port"),
      maxFormSize: get("http.max_form_size"),
    },
    baseUrl: get("base_url"),
    publicUrl: publicOrigin,
    dataDir,
    dbPath: get<string>("db_path") || `${dataDir}/onehub.sqlite`,
    cookieSecretFile: get<string>("cookie_secret_file") ||
      `${dataDir}/cookie_secret`,
    logLevel: get("log.level"),
    auth: {
      type: get("auth.type"),
      pam: {
        service: get("auth.pam.service"),
        timeoutSeconds: get("auth.pam.timeout"),
        concurrency: get("auth.pam.concurrency"),
        queueSize: get("auth.pam.queue_size"),
      },
      throttle: {
        enabled: get("auth.throttle.enabled"),
        addressFailures: get("auth.throttle.address_failures"),
        userFailures: get("auth.throttle.user_failures"),
        baseDelaySeconds: get("auth.throttle.base_delay"),
        maxDelaySeconds: get("auth.throttle.max_delay"),
        windowSeconds: get("auth.throttle.window"),
      },
      dummy: {
        password: get("auth.dummy.password"),
        allowPublic: get("auth.dummy.allow_public"),
      },
    },
    users: {
      allowed: get("users.allowed"),
      blocked: get("users.blocked"),
      admin: get("users.admin"),
      allowAll: get("users.allow_all"),
      allowExisting: get("users.allow_existing"),
      usernamePattern: pattern,
    },
    api: {
      pageDefaultLimit: get("api.page_default_limit"),
      pageMaxLimit: get("api.page_max_limit"),
      maxBodySize: get("api.max_body_size"),
    },
    session: { maxAgeSeconds: get("session.max_age") },
    tokens: { maxExpiresInSeconds: get("tokens.max_expires_in") },
    hub: { ip: get("hub.ip"), port: get("hub.port") },
    proxy: {
      mode: get("proxy.mode"),
      apiUrl: get<string>("proxy.api_url").replace(/\/+$/, ""),
      authToken: get("proxy.auth_token"),
      connectTimeoutSeconds: get("proxy.connect_timeout"),
      trustedProxies: get("proxy.trusted_proxies"),
      activityIntervalSeconds: get("proxy.activity_interval"),
    },
    spawner: {
      type: get("spawner.type"),
      cmd: get("spawner.cmd"),
      defaultUrl: get("spawner.default_url"),
      userPrefix: get("spawner.user_prefix"),
      createSystemUsers: get("spawner.create_system_users"),
      startTimeoutSeconds: get("spawner.start_timeout"),
      httpTimeoutSeconds: get("spawner.http_timeout"),
      concurrentLimit: get("spawner.concurrent_limit"),
      namedServers: get("spawner.named_servers"),
      namedServerLimit: get("spawner.named_server_limit"),
      optionsForm: get("spawner.options_form"),
      stopOnShutdown: get("spawner.stop_on_shutdown"),
      pollIntervalSeconds: get("spawner.poll_interval"),
    },
    limits: {
      memoryBytes: parseMemory(get("limits.memory")),
      cpu: parseCpu(get("limits.cpu")),
    },
    https: {
      enabled: get("https.enabled"),
      port: get("https.port"),
      cert: get("https.tls.cert"),
      key: get("https.tls.key"),
      redirectHttp: get("https.redirect_http"),
      hsts: get("https.hsts"),
      hstsMaxAge: get("https.hsts_max_age"),
      letsencrypt: {
        email: get("https.letsencrypt.email"),
        domains: get("https.letsencrypt.domains"),
        directory: get("https.letsencrypt.directory"),
      },
    },
  };
}

/**
 * The resolved configuration in file shape: snake_case dotted keys, derived
 * values filled in (`db_path`, `cookie_secret_file`, normalised `base_url`).
 * `leafKeys(toRawConfig(c))` lists exactly the keys of {@linkcode CONFIG_KEYS}.
 */
export function toRawConfig(config: HubConfig): RawConfig {
  return {
    http: {
      ip: config.http.ip,
      port: config.http.port,
      "max_form_size": config.http.maxFormSize,
    },
    base_url: config.baseUrl,
    public_url: config.publicUrl,
    data_dir: config.dataDir,
    db_path: config.dbPath,
    cookie_secret_file: config.cookieSecretFile,
    log: { level: config.logLevel },
    auth: {
      type: config.auth.type,
      pam: {
        service: config.auth.pam.service,
        timeout: config.auth.pam.timeoutSeconds,
        concurrency: config.auth.pam.concurrency,
        queue_size: config.auth.pam.queueSize,
      },
      throttle: {
        enabled: config.auth.throttle.enabled,
        address_failures: config.auth.throttle.addressFailures,
        user_failures: config.auth.throttle.userFailures,
        base_delay: config.auth.throttle.baseDelaySeconds,
        max_delay: config.auth.throttle.maxDelaySeconds,
        window: config.auth.throttle.windowSeconds,
      },
      dummy: {
        password: config.auth.dummy.password,
        allow_public: config.auth.dummy.allowPublic,
      },
    },
    users: {
      allowed: [...config.users.allowed],
      blocked: [...config.users.blocked],
      admin: [...config.users.admin],
      allow_all: config.users.allowAll,
      allow_existing: config.users.allowExisting,
      username_pattern: config.users.usernamePattern,
    },
    api: {
      page_default_limit: config.api.pageDefaultLimit,
      page_max_limit: config.api.pageMaxLimit,
      max_body_size: config.api.maxBodySize,
    },
    session: { max_age: config.session.maxAgeSeconds },
    tokens: { max_expires_in: config.tokens.maxExpiresInSeconds },
    hub: { ip: config.hub.ip, port: config.hub.port },
    proxy: {
      mode: config.proxy.mode,
      api_url: config.proxy.apiUrl,
      auth_token: config.proxy.authToken,
      connect_timeout: config.proxy.connectTimeoutSeconds,
      trusted_proxies: [...config.proxy.trustedProxies],
      activity_interval: config.proxy.activityIntervalSeconds,
    },
    spawner: {
      type: config.spawner.type,
      cmd: [...config.spawner.cmd],
      default_url: config.spawner.defaultUrl,
      user_prefix: config.spawner.userPrefix,
      create_system_users: config.spawner.createSystemUsers,
      start_timeout: config.spawner.startTimeoutSeconds,
      http_timeout: config.spawner.httpTimeoutSeconds,
      concurrent_limit: config.spawner.concurrentLimit,
      named_servers: config.spawner.namedServers,
      named_server_limit: config.spawner.namedServerLimit,
      options_form: config.spawner.optionsForm,
      stop_on_shutdown: config.spawner.stopOnShutdown,
      poll_interval: config.spawner.pollIntervalSeconds,
    },
    limits: {
      memory: config.limits.memoryBytes === null
        ? ""
        : String(config.limits.memoryBytes),
      cpu: config.limits.cpu === null ? "" : String(config.limits.cpu),
    },
    https: {
      enabled: config.https.enabled,
      port: config.https.port,
      tls: { cert: config.https.cert, key: config.https.key },
      redirect_http: config.https.redirectHttp,
      hsts: config.https.hsts,
      hsts_max_age: config.https.hstsMaxAge,
      letsencrypt: {
        email: config.https.letsencrypt.email,
        domains: [...config.https.letsencrypt.domains],
        directory: config.https.letsencrypt.directory,
      },
    },
  };
}

/** True when `ip` only accepts connections from this machine. */
export function isLoopbackAddress(ip: string): boolean {
  return ip === "localhost" || ip === "::1" || /^127\.\d+\.\d+\.\d+$/.test(ip);
}

/**
 * Parses a memory size: bytes, or a number with K, M, G or T (powers of
 * 1024, as JupyterHub's `mem_limit`). "" → null.
 *
 * @throws {ConfigError} naming the key and the accepted form.
 */
export function parseMemory(text: string): number | null {
  if (text.trim() === "") return null;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?\s*$/i.exec(text);
  if (!m) {
    throw new ConfigError(
      `Invalid value for "limits.memory": ${
        show(text)
      }; expected bytes or a size such as "512M" or "2G"`,
    );
  }
  const power = {
    "": 0,
    K: 1,
    M: 2,
    G: 3,
    T: 4,
  }[m[2]!.toUpperCase() as "" | "K" | "M" | "G" | "T"];
  return Math.floor(Number(m[1]) * 1024 ** power);
}

/** Parses a CPU limit in cores ("1.5"); "" → null. @throws {ConfigError} */
export function parseCpu(text: string): number | null {
  if (text.trim() === "") return null;
  const value = Number(text);
  if (!/^\s*\d+(\.\d+)?\s*$/.test(text) || value <= 0 || value > 1024) {
    throw new ConfigError(
      `Invalid value for "limits.cpu": ${
        show(text)
      }; expected a number of cores such as "1" or "1.5"`,
    );
  }
  return value;
}
