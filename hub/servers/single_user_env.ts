/**
 * The environment of a `jupyterhub-singleuser` process
 * (JupyterHub's single-user server contract): every variable JupyterHub 3.x and 5.x set,
 * the OAuth client id, and the Python-compatible quoting that both need.
 *
 * Pure (L0): no config, database or process access. Never puts a hub
 * secret (cookie secret, proxy token) into the environment: the only
 * secret is the server's own API token.
 *
 * @module
 */

/** Characters Python's `urllib.parse.quote` never escapes. */
const ALWAYS_SAFE = /^[A-Za-z0-9_.~-]$/;
const ENCODER = new TextEncoder();

/**
 * Python's `urllib.parse.quote(text, safe)`: UTF-8 percent-encoding of every
 * byte except ASCII letters, digits, `_.-~` and the characters in `safe`
 * (default `"/"`, as in Python). Hex digits are upper case.
 *
 * @example
 * ```ts
 * quote("a@b.c"); // "a%40b.c"
 * quote("a@b.c", "@~"); // "a@b.c"
 * quote("x y/z"); // "x%20y/z"
 * ```
 */
export function quote(text: string, safe = "/"): string {
  let out = "";
  for (const ch of text) {
    if (
      ALWAYS_SAFE.test(ch) || (ch.charCodeAt(0) < 0x80 && safe.includes(ch))
    ) {
      out += ch;
    } else {
      for (const byte of ENCODER.encode(ch)) {
        out += "%" + byte.toString(16).toUpperCase().padStart(2, "0");
      }
    }
  }
  return out;
}

/** A name as JupyterHub puts it into URL paths (`quote(name, safe="@~")`). */
export function escapeName(name: string): string {
  return quote(name, "@~");
}

/**
 * The OAuth client id of a user's server: `jupyterhub-user-` +
 * `quote(user)` [+ `-` + `quote(server)`] (Python's default `safe="/"`).
 *
 * @example
 * ```ts
 * clientIdFor("alice", ""); // "jupyterhub-user-alice"
 * clientIdFor("alice", "gpu"); // "jupyterhub-user-alice-gpu"
 * clientIdFor("a@b.c", ""); // "jupyterhub-user-a%40b.c"
 * ```
 */
export function clientIdFor(user: string, server: string): string {
  return `jupyterhub-user-${quote(user)}${server ? `-${quote(server)}` : ""}`;
}

/** `/user/alice/` or `/user/alice/gpu/` under `baseUrl` (names path-escaped). */
export function serverPrefix(
  baseUrl: string,
  of: { user: string; server: string },
): string {
  const { user, server } = of;
  return `${baseUrl}user/${escapeName(user)}/${
    server ? `${escapeName(server)}/` : ""
  }`;
}

/**
 * A list of strings the way Python's `json.dumps` writes it: `", "` between
 * items, non-ASCII characters (and DEL) as lower-case `\uXXXX` escapes.
 *
 * @example
 * ```ts
 * pythonJsonList(["a", "b"]); // '["a", "b"]'
 * pythonJsonList([]); // "[]"
 * ```
 */
export function pythonJsonList(items: readonly string[]): string {
  const escaped = items.map((item) =>
    JSON.stringify(item).replace(
      /[\u007f-\uffff]/g,
      (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`,
    )
  );
  return `[${escaped.join(", ")}]`;
}

/** What {@linkcode singleUserEnv} needs. */
export interface SingleUserEnvInput {
  /** The hub user owning the server. */
  user: string;
  /** `""` for the default server. */
  serverName: string;
  /** The server's API token (also its OAuth client secret). */
  apiToken: string;
  /** The hub API as reachable from the server process, no trailing slash: `http://127.0.0.1:8081/hub/api`. */
  hubApiUrl: string;
  /** The hub's base_url, with leading and trailing `/`. */
  baseUrl: string;
  /** `""` or the public origin without trailing slash (`https://hub.example.org`). */
  publicUrl: string;
  /**
   * `""`, or the origin of the user's own host with `subdomain_host`
   * (`https://alice.hub.example.org`): the OAuth callback and public URL
   * are then full URLs there.
   */
  serverOrigin?: string | undefined;
  /** Where the server binds. */
  ip: string;
  port: number;
  /** `Spawner.default_url`, e.g. `/lab`. */
  defaultUrl?: string | undefined;
  /** The Linux account the process runs as. */
  unixUser: { name: string; home: string; shell: string };
  /** PATH when neither `kept` nor `extra` has one. @default {"/usr/local/bin:/usr/bin:/bin"} */
  path?: string | undefined;
  /** LANG when neither `kept` nor `extra` has one. @default {"C.UTF-8"} */
  lang?: string | undefined;
  /** The hub's own variables named in `spawner.env_keep` (applied first). */
  kept?: Readonly<Record<string, string>> | undefined;
  /** Exported as MEM_LIMIT (bytes) and CPU_LIMIT (cores) when set. */
  limits?: { memoryBytes?: number; cpu?: number } | undefined;
  /** `Spawner.notebook_dir`, expanded: JUPYTERHUB_ROOT_DIR. */
  rootDir?: string | undefined;
  /** `Spawner.oauth_client_allowed_scopes`, `!server` already filled in. @default {[]} */
  clientAllowedScopes?: readonly string[] | undefined;
  /** `Spawner.debug`: JUPYTERHUB_DEBUG=1. */
  debug?: boolean | undefined;
  /** `Spawner.disable_user_config`: JUPYTERHUB_DISABLE_USER_CONFIG=1. */
  disableUserConfig?: boolean | undefined;
  /**
   * `Spawner.environment` (then a profile's): applied after everything
   * else, so it may override JUPYTERHUB_* too; only USER, HOME and SHELL
   * come after it (JupyterHub's LocalProcessSpawner.user_env).
   */
  extra?: Readonly<Record<string, string>> | undefined;
}

/** The variables JupyterHub sets only when their setting is (limits, root dir, flags). */
function optionalVariables(input: SingleUserEnvInput): Record<string, string> {
  const out: Record<string, string> = {};
  const { memoryBytes, cpu } = input.limits ?? {};
  if (memoryBytes) out.MEM_LIMIT = String(memoryBytes);
  if (cpu) out.CPU_LIMIT = String(cpu);
  if (input.rootDir) out.JUPYTERHUB_ROOT_DIR = input.rootDir;
  if (input.defaultUrl) out.JUPYTERHUB_DEFAULT_URL = input.defaultUrl;
  if (input.debug) out.JUPYTERHUB_DEBUG = "1";
  if (input.disableUserConfig) out.JUPYTERHUB_DISABLE_USER_CONFIG = "1";
  return out;
}

/** Default `PATH` of a server process. */
export const DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin";
/** Default `LANG` of a server process. */
export const DEFAULT_LANG = "C.UTF-8";

/**
 * The complete environment of a singleuser server process (as JupyterHub sets it),
 * valid for JupyterHub 3.x and 5.x singleuser servers.
 *
 * @example
 * ```ts
 * const env = singleUserEnv({
 *   user: "alice", serverName: "", apiToken: "t", baseUrl: "/", publicUrl: "",
 *   hubApiUrl: "http://127.0.0.1:8081/hub/api", ip: "127.0.0.1", port: 47213,
 *   unixUser: { name: "alice", home: "/home/alice", shell: "/bin/bash" },
 * });
 * env.JUPYTERHUB_SERVICE_URL; // "http://127.0.0.1:47213/user/alice/"
 * ```
 */
export function singleUserEnv(
  input: SingleUserEnvInput,
): Record<string, string> {
  const prefix = serverPrefix(input.baseUrl, {
    user: input.user,
    server: input.serverName,
  });
  const accessScopes = pythonJsonList([
    `access:servers!server=${input.user}/${input.serverName}`,
    `access:servers!user=${input.user}`,
  ]);
  const host = input.ip.includes(":") ? `[${input.ip}]` : input.ip;
  const origin = input.serverOrigin ?? "";
  const env: Record<string, string> = {
    ...input.kept,
    JUPYTERHUB_API_TOKEN: input.apiToken,
    JPY_API_TOKEN: input.apiToken,
    JUPYTERHUB_CLIENT_ID: clientIdFor(input.user, input.serverName),
    // JupyterHub 4.1+: "1" would make servers use __Host- cookie names; onehub's are host-only already.
    JUPYTERHUB_COOKIE_HOST_PREFIX_ENABLED: "0",
    JUPYTERHUB_HOST: input.publicUrl,
    JUPYTERHUB_OAUTH_CALLBACK_URL: `${origin}${prefix}oauth_callback`,
    JUPYTERHUB_OAUTH_ACCESS_SCOPES: accessScopes,
    JUPYTERHUB_OAUTH_SCOPES: accessScopes,
    JUPYTERHUB_OAUTH_CLIENT_ALLOWED_SCOPES: pythonJsonList(
      input.clientAllowedScopes ?? [],
    ),
    JUPYTERHUB_USER: input.user,
    JUPYTERHUB_SERVER_NAME: input.serverName,
    JUPYTERHUB_API_URL: input.hubApiUrl,
    JUPYTERHUB_ACTIVITY_URL: `${input.hubApiUrl}/users/${
      escapeName(input.user)
    }/activity`,
    JUPYTERHUB_BASE_URL: input.baseUrl,
    JUPYTERHUB_SERVICE_PREFIX: prefix,
    JUPYTERHUB_SERVICE_URL: `http://${host}:${input.port}${prefix}`,
    JUPYTERHUB_PUBLIC_URL: (origin || input.publicUrl)
      ? `${origin || input.publicUrl}${prefix}`
      : "",
  };
  if (input.publicUrl) {
    env.JUPYTERHUB_PUBLIC_HUB_URL = `${input.publicUrl}${input.baseUrl}hub/`;
  }
  Object.assign(env, optionalVariables(input));
  Object.assign(env, input.extra);
  env.USER = input.unixUser.name;
  env.HOME = input.unixUser.home;
  env.SHELL = input.unixUser.shell;
  // onehub's: a server always has a PATH and a LANG, whatever the hub had.
  env.PATH ??= input.path ?? DEFAULT_PATH;
  env.LANG ??= input.lang ?? DEFAULT_LANG;
  return env;
}
