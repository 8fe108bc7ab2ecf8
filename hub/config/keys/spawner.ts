/**
 * The `spawner.*` keys: how each user's server is started, its environment,
 * its token's scopes, timeouts and named servers.
 *
 * @module
 */
import { invalid, type KeySpec } from "../schema.ts";
import { ScopeError, validateScopes } from "../../rbac/scopes.ts";
import { sizeText } from "../../servers/profiles.ts";
import { parseMemorySize } from "./limits.ts";

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
  return bad === undefined ? null : invalid(key, {
    value: bad,
    expected:
      "environment variable names (letters, digits and _, not starting with a digit)",
  });
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
  return bad === undefined ? null : invalid(`${key}.${bad[0]}`, {
    value: bad[1],
    expected: 'text, e.g. "1" (a server\'s environment holds strings)',
  });
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

/** The `spawner.*` keys, in table order. */
export const SPAWNER_KEYS = [
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
    default: 0,
    min: 0,
    max: 1000,
    reload: "live",
    doc:
      "Spawns allowed at once (0 = two per CPU core, at least 2: a server's start is CPU-bound, so more at once only makes each slower); more wait in line, their spawn-pending page showing their place",
  },
  {
    key: "spawner.start_nice",
    field: "spawner.startNice",
    kind: "int",
    default: 10,
    min: 0,
    max: 19,
    reload: "live",
    doc:
      "Niceness a server starts with, back to 0 once it answers, so the hub and running servers keep the CPU while a class starts (local spawner: the server's niceness and its session's autogroup; systemd spawner: the matching CPUWeight=, 10 → 11 of 100; 0 = off)",
  },
  {
    key: "spawner.min_free_memory",
    field: "spawner.minFreeMemoryBytes",
    kind: "string",
    numbers: true,
    default: "256M",
    reload: "live",
    doc:
      'Memory the machine must have available (MemAvailable in /proc/meminfo) when a spawn\'s turn comes, e.g. "512M"; below it the spawn fails with a clear message instead of the OOM killer choosing ("" or "0" = no check)',
    // 0 is no check too: a machine always has 0 bytes available.
    resolve: (v) => parseMemorySize(v, "spawner.min_free_memory") || null,
    toRaw: (v: number | null) => v === null ? "" : sizeText(v),
  },
  {
    key: "spawner.queue_limit",
    field: "spawner.queueLimit",
    kind: "int",
    default: 500,
    min: 0,
    max: 10000,
    reload: "live",
    doc:
      "Spawns that may wait in line for a free slot (spawner.concurrent_limit); past it a start answers 429 with Retry-After",
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
] as const satisfies readonly KeySpec[];
