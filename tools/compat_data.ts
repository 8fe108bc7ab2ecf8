/**
 * What JupyterHub 5 offers, listed here (from its REST spec
 * `docs/source/_static/rest-api.yml`, `Spawner.get_env` and
 * `scopes.scope_definitions`, JupyterHub 5.5.1; 6.0's additions, such as
 * GET/PUT/PATCH of a named server and start:servers, are not listed), with the test that proves
 * onehub's side and, where onehub differs, why. tools/compat_docs.ts turns
 * it into docs/compat.md, computing onehub's status from the code itself.
 *
 * @module
 */

/** One row's evidence: the test files that prove it, and a note. */
export interface Evidence {
  /** Test files (repository paths) that exercise it. */
  tests: readonly string[];
  /** Why onehub differs, or what to know; required for rows onehub lacks. */
  note?: string;
}

const T = {
  users: "tests/hub/api/users_test.ts",
  info: "tests/hub/api/info_test.ts",
  servers: "tests/hub/api/servers_test.ts",
  shares: "tests/hub/api/shares_test.ts",
  tokens: "tests/hub/api/tokens_test.ts",
  groups: "tests/hub/api/groups_test.ts",
  proxy: "tests/hub/api/proxy_test.ts",
  services: "tests/hub/services/services_test.ts",
  oauth: "tests/hub/oauth_provider/mod_test.ts",
  shutdown: "tests/hub/api/shutdown_test.ts",
  activity: "tests/hub/api/idle_culler_replay_test.ts",
  env: "tests/hub/servers/single_user_env_test.ts",
  spawnEnv: "tests/hub/servers/manager_test.ts",
  subdomain: "tests/hub/servers/urls_test.ts",
  trixie: "tests/integration/trixie_test.ts",
  scopes: "tests/hub/rbac/scopes_test.ts",
} as const;

/** JupyterHub 5's REST API: `"METHOD /path"` (paths under /hub/api) → evidence. */
export const ENDPOINTS: Readonly<Record<string, Evidence>> = {
  "GET /": { tests: [T.info] },
  "GET /info": {
    tests: [T.info],
    note:
      '`python` is null (onehub is not Python; `runtime` says "deno <version>")',
  },
  "GET /user": { tests: [T.info] },
  "GET /users": { tests: [T.users] },
  "POST /users": { tests: [T.users] },
  "GET /users/{name}": { tests: [T.users] },
  "POST /users/{name}": { tests: [T.users] },
  "DELETE /users/{name}": { tests: [T.users] },
  "PATCH /users/{name}": { tests: [T.users] },
  "POST /users/{name}/activity": { tests: [T.activity] },
  "POST /users/{name}/server": { tests: [T.servers] },
  "DELETE /users/{name}/server": { tests: [T.servers] },
  "POST /users/{name}/servers/{server_name}": { tests: [T.servers] },
  "DELETE /users/{name}/servers/{server_name}": { tests: [T.servers] },
  "GET /users/{name}/shared": { tests: [T.shares] },
  "GET /users/{name}/shared/{owner}/{server_name}": { tests: [T.shares] },
  "DELETE /users/{name}/shared/{owner}/{server_name}": { tests: [T.shares] },
  "GET /users/{name}/tokens": { tests: [T.tokens] },
  "POST /users/{name}/tokens": { tests: [T.tokens] },
  "GET /users/{name}/tokens/{token_id}": { tests: [T.tokens] },
  "DELETE /users/{name}/tokens/{token_id}": { tests: [T.tokens] },
  "GET /groups": { tests: [T.groups] },
  "GET /groups/{name}": { tests: [T.groups] },
  "POST /groups/{name}": { tests: [T.groups] },
  "DELETE /groups/{name}": { tests: [T.groups] },
  "GET /groups/{name}/shared": { tests: [T.shares] },
  "GET /groups/{name}/shared/{owner}/{server_name}": { tests: [T.shares] },
  "DELETE /groups/{name}/shared/{owner}/{server_name}": { tests: [T.shares] },
  "POST /groups/{name}/users": { tests: [T.groups] },
  "DELETE /groups/{name}/users": { tests: [T.groups] },
  "PUT /groups/{name}/properties": { tests: [T.groups] },
  "GET /shares/{owner}": { tests: [T.shares] },
  "GET /shares/{owner}/{server_name}": { tests: [T.shares] },
  "POST /shares/{owner}/{server_name}": { tests: [T.shares] },
  "PATCH /shares/{owner}/{server_name}": { tests: [T.shares] },
  "DELETE /shares/{owner}/{server_name}": { tests: [T.shares] },
  "GET /share-codes/{owner}": { tests: [T.shares] },
  "GET /share-codes/{owner}/{server_name}": { tests: [T.shares] },
  "POST /share-codes/{owner}/{server_name}": { tests: [T.shares] },
  "DELETE /share-codes/{owner}/{server_name}": { tests: [T.shares] },
  "GET /services": { tests: [T.services] },
  "GET /services/{name}": { tests: [T.services] },
  "GET /proxy": { tests: [T.proxy] },
  "POST /proxy": { tests: [T.proxy] },
  "PATCH /proxy": {
    tests: [T.proxy],
    note:
      "re-syncs the routes; a new api_url or auth_token in the body is ignored (the proxy is configured in config.yaml)",
  },
  "POST /authorizations/token": {
    tests: [T.info],
    note: "404 naming the replacement, as JupyterHub 2+",
  },
  "GET /authorizations/token/{token}": { tests: [T.info] },
  "GET /authorizations/cookie/{cookie_name}/{cookie_value}": {
    tests: [],
    note:
      "not served: deprecated since JupyterHub 2.0; servers identify visitors by OAuth (GET /user)",
  },
  "GET /oauth2/authorize": { tests: [T.oauth] },
  "POST /oauth2/token": { tests: [T.oauth] },
  "POST /shutdown": { tests: [T.shutdown] },
};

/** Variables JupyterHub 5's Spawner.get_env (+ LocalProcessSpawner.user_env) sets → evidence. */
export const ENVIRONMENT: Readonly<Record<string, Evidence>> = {
  JUPYTERHUB_API_TOKEN: { tests: [T.env] },
  JPY_API_TOKEN: { tests: [T.env] },
  JUPYTERHUB_ADMIN_ACCESS: {
    tests: [],
    note:
      "not set: onehub has no admin_access setting (JupyterHub 5 ignores it for access; admins reach servers by the access:servers scope)",
  },
  JUPYTERHUB_CLIENT_ID: { tests: [T.env] },
  JUPYTERHUB_COOKIE_OPTIONS: {
    tests: [],
    note: "not set: onehub has no Spawner.cookie_options",
  },
  JUPYTERHUB_COOKIE_HOST_PREFIX_ENABLED: { tests: [T.env] },
  JUPYTERHUB_HOST: { tests: [T.env, T.subdomain] },
  JUPYTERHUB_OAUTH_CALLBACK_URL: { tests: [T.env, T.subdomain] },
  JUPYTERHUB_OAUTH_SCOPES: { tests: [T.env] },
  JUPYTERHUB_OAUTH_ACCESS_SCOPES: { tests: [T.env] },
  JUPYTERHUB_OAUTH_CLIENT_ALLOWED_SCOPES: { tests: [T.env, T.spawnEnv] },
  JUPYTERHUB_USER: { tests: [T.env] },
  JUPYTERHUB_SERVER_NAME: { tests: [T.env] },
  JUPYTERHUB_API_URL: { tests: [T.env] },
  JUPYTERHUB_ACTIVITY_URL: { tests: [T.env] },
  JUPYTERHUB_BASE_URL: { tests: [T.env] },
  JUPYTERHUB_SERVICE_PREFIX: { tests: [T.env] },
  JUPYTERHUB_SERVICE_URL: { tests: [T.env] },
  JUPYTERHUB_PUBLIC_URL: { tests: [T.env, T.subdomain] },
  JUPYTERHUB_PUBLIC_HUB_URL: { tests: [T.env, T.subdomain] },
  MEM_LIMIT: { tests: [T.env, T.spawnEnv] },
  MEM_GUARANTEE: {
    tests: [],
    note: "not set: onehub has limits, not guarantees (one machine)",
  },
  CPU_LIMIT: { tests: [T.env] },
  CPU_GUARANTEE: {
    tests: [],
    note: "not set: onehub has limits, not guarantees (one machine)",
  },
  JUPYTERHUB_SSL_KEYFILE: {
    tests: [],
    note:
      "not set: no internal_ssl; hub and servers talk over loopback on one machine",
  },
  JUPYTERHUB_SSL_CERTFILE: {
    tests: [],
    note: "not set: no internal_ssl (see JUPYTERHUB_SSL_KEYFILE)",
  },
  JUPYTERHUB_SSL_CLIENT_CA: {
    tests: [],
    note: "not set: no internal_ssl (see JUPYTERHUB_SSL_KEYFILE)",
  },
  JUPYTERHUB_ROOT_DIR: { tests: [T.env, T.spawnEnv] },
  JUPYTERHUB_DEFAULT_URL: { tests: [T.env, T.trixie] },
  JUPYTERHUB_DEBUG: { tests: [T.env] },
  JUPYTERHUB_DISABLE_USER_CONFIG: { tests: [T.env] },
  USER: { tests: [T.env] },
  HOME: { tests: [T.env] },
  SHELL: { tests: [T.env] },
};

/** JupyterHub 5's scopes (scopes.scope_definitions, in its order; one word each). */
export const SCOPES: readonly string[] = `
  (no_scope) self inherit admin-ui admin:users admin:auth_state users
  delete:users list:users read:users read:users:name read:users:groups
  read:users:activity read:roles read:roles:users read:roles:services
  read:roles:groups users:activity admin:servers admin:server_state servers
  read:servers delete:servers tokens read:tokens admin:groups groups
  list:groups read:groups read:groups:name delete:groups admin:services
  list:services read:services read:services:name read:hub access:servers
  access:services users:shares read:users:shares groups:shares
  read:groups:shares read:shares shares proxy shutdown read:metrics
`.trim().split(/\s+/);

/** Evidence for every scope (the scope table and its tests). */
export const SCOPE_EVIDENCE: Evidence = { tests: [T.scopes] };

/** Scopes JupyterHub allows beyond its table, and onehub's answer. */
export const OPEN_SCOPES: Readonly<Record<string, Evidence>> = {
  "custom:*": {
    tests: ["tests/hub/api/info_test.ts", "tests/hub/config/mod_test.ts"],
    note:
      "defined in custom_scopes (e.g. jupyter-server's granular custom:jupyter_server:* scopes), then granted by roles like any scope",
  },
};
