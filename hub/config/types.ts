/**
 * The resolved configuration written out: {@linkcode HubConfig} and its
 * section interfaces, one field per key of the table (mod.ts), each with
 * the YAML key it comes from and its docs line. The key table is still the
 * source: tests/hub/config/types_test.ts fails to compile when this file
 * and the type the table derives differ (its header says how to fix that).
 *
 * @module
 */
import type { GroupSpec, RoleSpec } from "../rbac/access_spec.ts";
import type { Limits, Profile } from "../servers/profiles.ts";
import type { ServiceSpec } from "../services/spec.ts";

/** The fully resolved configuration: one field per key of the table, nothing optional. */
export interface HubConfig {
  /** The public port and its request limits (`http.*`). */
  http: HttpConfig;
  /** `base_url`: URL prefix of everything: the hub is at {base_url}hub/ */
  baseUrl: string;
  /** `public_url`: Public origin, e.g. https://hub.example.org (enables full_url fields and strict next checks) */
  publicUrl: string;
  /** `subdomain_host`: Give each user's server its own origin, <user>.<host>, e.g. https://hub.example.org (wildcard DNS; README: Per-user origins) */
  subdomainHost: string;
  /** `data_dir`: State directory (database, cookie secret) */
  dataDir: string;
  /** `db_path`: SQLite file; default {data_dir}/onehub.sqlite */
  dbPath: string;
  /** `cookie_secret_file`: Cookie secret; default {data_dir}/cookie_secret (made 0600 when missing) */
  cookieSecretFile: string;
  /** Sign-in: the authenticator and its settings (`auth.*`). */
  auth: AuthConfig;
  /** `log.level`: Log level */
  logLevel: "debug" | "info" | "warn" | "error";
  /** Who may log in and who is an admin (`users.*`). */
  users: UsersConfig;
  /** The REST API's page sizes and body limit (`api.*`). */
  api: ApiConfig;
  /** The login session (`session.*`). */
  session: SessionConfig;
  /** API tokens (`tokens.*`). */
  tokens: TokensConfig;
  /** The hub's own listener (`hub.*`). */
  hub: HubListenerConfig;
  /** The proxy in front of the hub and servers (`proxy.*`). */
  proxy: ProxyConfig;
  /** HTTPS: certificates from files or Let's Encrypt, redirect, HSTS (`https.*`). */
  https: HttpsConfig;
  /** How each user's server is started (`spawner.*`). */
  spawner: SpawnerConfig;
  /** Limits of each server, and by group (`limits.*`). */
  limits: LimitsConfig;
  /** The event log (`events.*`). */
  events: EventsConfig;
  /** `/hub/metrics` (`metrics.*`). */
  metrics: MetricsConfig;
  /** `profiles`: Server profiles offered on the spawn page: slug, display_name, description, default, limits, default_url, environment, groups (see README) */
  profiles: Profile[];
  /** Course files merged into every home (`course_files.*`). */
  courseFiles: CourseFilesConfig;
  /** Sharing servers with users and groups (`sharing.*`). */
  sharing: SharingConfig;
  /** `announcement`: Banner text on the login and home pages (plain text; the admin page can set one that wins) */
  announcement: string;
  /** `groups`: Groups made at start and reload (JupyterHub's load_groups): {name: {users: [...], properties: {...}}}; members are added, never removed */
  groups: GroupSpec[];
  /** `custom_scopes`: Scopes of your own for services and servers to check (JupyterHub's custom_scopes): {"custom:grader:read": {description: "...", subscopes: [...]}} */
  customScopes: Readonly<Record<string, unknown>>;
  /** `roles`: Custom roles (JupyterHub's load_roles): name, description, scopes, users, groups, services (see README, classroom) */
  roles: RoleSpec[];
  /** `services.list`: Services (JupyterHub's c.JupyterHub.services): name, url, command, api_token, admin, scopes, allow_all_users, oauth_no_confirm, … (see README) */
  services: ServiceSpec[];
  /** The built-in idle culler (`services.cull.*`). */
  cull: CullConfig;
}

/** The public port and its request limits (`http.*`). */
export interface HttpConfig {
  /** `http.ip`: Address the public port binds to (0.0.0.0 for all) */
  ip: string;
  /** `http.port`: Public port (0 picks a free one) */
  port: number;
  /** `http.max_form_size`: Largest HTML form body in bytes (login, spawn options, OAuth forms); larger ones get 413 */
  maxFormSize: number;
  /** `http.lingering_bytes`: Bytes of a request body the public port still reads and discards after an early answer (e.g. 413), so the client reads the answer; then the connection closes */
  lingeringBytes: number;
  /** `http.lingering_time`: Seconds in all a client may go on sending a body after an early answer (nginx lingering_time) */
  lingeringTimeSeconds: number;
  /** `http.lingering_timeout`: Seconds without a byte after which such a lingering connection closes (nginx lingering_timeout) */
  lingeringTimeoutSeconds: number;
}

/** Sign-in: the authenticator and its settings (`auth.*`). */
export interface AuthConfig {
  /** `auth.crypt_key_file`: Key that seals users' auth state (provider tokens); default {data_dir}/auth_state_key (made 0600 when missing); JUPYTERHUB_CRYPT_KEY in the environment takes its place */
  cryptKeyFile: string;
  /** `auth.type`: Authenticator: pam (Linux accounts), dummy (trials), oauth (only the auth.oauth provider) */
  type: "pam" | "dummy" | "oauth";
  /** Sign-in with an OAuth / OpenID Connect provider (`auth.oauth.*`). */
  oauth: OAuthConfig;
  /** The PAM helpers that check passwords (`auth.pam.*`). */
  pam: PamConfig;
  /** The failed-login throttle (`auth.throttle.*`). */
  throttle: ThrottleConfig;
  /** Dummy auth, for trials (`auth.dummy.*`). */
  dummy: DummyAuthConfig;
}

/** Sign-in with an OAuth / OpenID Connect provider (`auth.oauth.*`). */
export interface OAuthConfig {
  /** `auth.oauth.enabled`: Offer "Sign in with …" (OpenID Connect) beside the password form (always on with auth.type oauth) */
  enabled: boolean;
  /** `auth.oauth.preset`: generic: any OpenID Connect provider (auth.oauth.issuer); github: GitHub or GitHub Enterprise, orgs and teams as groups; gitlab: GitLab's OpenID Connect (issuer default https://gitlab.com); google: Google's (issuer default https://accounts.google.com, username = email) */
  preset: "generic" | "github" | "gitlab" | "google";
  /** `auth.oauth.allowed_domains`: Only these email domains may sign in (Google's hosted domain claim hd, else the email's domain); empty: any */
  allowedDomains: string[];
  /** `auth.oauth.github_url`: GitHub's web address (GitHub Enterprise: https://github.example.org) */
  githubUrl: string;
  /** `auth.oauth.github_api_url`: GitHub's API address (GitHub Enterprise: https://github.example.org/api/v3) */
  githubApiUrl: string;
  /** `auth.oauth.issuer`: The OpenID Connect issuer URL (discovery at <issuer>/.well-known/openid-configuration); https, or http on loopback */
  issuer: string;
  /** `auth.oauth.client_id`: The client id registered with the provider */
  clientId: string;
  /** `auth.oauth.client_secret`: The client secret registered with the provider */
  clientSecret: string;
  /** `auth.oauth.scopes`: Scopes asked of the provider (openid is required) */
  scopes: string[];
  /** `auth.oauth.username_claim`: The ID token claim that becomes the username (e.g. email, sub) */
  usernameClaim: string;
  /** `auth.oauth.groups_claim`: The ID token claim holding the user's groups */
  groupsClaim: string;
  /** `auth.oauth.allowed_groups`: Only members of these provider groups may sign in (empty: users.* rules apply) */
  allowedGroups: string[];
  /** `auth.oauth.admin_groups`: Members of these provider groups are admins */
  adminGroups: string[];
  /** `auth.oauth.button_text`: The text of the sign-in button */
  buttonText: string;
  /** `auth.oauth.timeout`: Seconds a call to the provider may take (then the sign-in answers 504) */
  timeoutSeconds: number;
  /** `auth.oauth.logout_url`: Where logout sends the browser after ending the hub's session, e.g. the provider's end-session URL ("": the login page) */
  logoutUrl: string;
  /** `auth.oauth.auto_login`: Skip the login page: go straight to the provider */
  autoLogin: boolean;
  /** `auth.oauth.enable_auth_state`: Keep the provider's tokens as the user's auth state (sealed with auth.crypt_key_file), so they can be refreshed before a spawn and handed to the server */
  enableAuthState: boolean;
  /** `auth.oauth.refresh_pre_spawn`: Before a spawn, check the stored sign-in with the provider (refreshing an expired token); a sign-in the provider ended must log in again */
  refreshPreSpawn: boolean;
  /** `auth.oauth.auth_refresh_age`: Seconds a checked sign-in counts as fresh (a spawn after that checks again; an expired token is always refreshed) */
  authRefreshAgeSeconds: number;
  /** `auth.oauth.token_env`: Environment variable that hands the provider's access token to the user's server, e.g. GITHUB_TOKEN ("": not handed) */
  tokenEnv: string;
}

/** The PAM helpers that check passwords (`auth.pam.*`). */
export interface PamConfig {
  /** `auth.pam.service`: PAM service name (/etc/pam.d/<service> must exist) */
  service: string;
  /** `auth.pam.timeout`: Seconds before a PAM check is abandoned */
  timeoutSeconds: number;
  /** `auth.pam.concurrency`: PAM helper processes checking passwords at once (kept warm, ~40 MB each) */
  concurrency: number;
  /** `auth.pam.queue_size`: Logins waiting for a PAM helper, at most; more get 429 with Retry-After */
  queueSize: number;
}

/** The failed-login throttle (`auth.throttle.*`). */
export interface ThrottleConfig {
  /** `auth.throttle.enabled`: Throttle failed logins per client address and per username */
  enabled: boolean;
  /** `auth.throttle.address_failures`: Failed logins an address may make within auth.throttle.window before it must wait */
  addressFailures: number;
  /** `auth.throttle.user_failures`: Failed logins for one username within auth.throttle.window before addresses that failed must wait */
  userFailures: number;
  /** `auth.throttle.user_hard_limit`: Failed logins for one username within auth.throttle.window after which every address must wait, fresh ones too (a hard cap on guesses per name) */
  userHardLimit: number;
  /** `auth.throttle.base_delay`: Seconds of the first wait after the free failures; doubles with each further failure */
  baseDelaySeconds: number;
  /** `auth.throttle.max_delay`: Longest wait in seconds */
  maxDelaySeconds: number;
  /** `auth.throttle.window`: Seconds a failed login is remembered */
  windowSeconds: number;
}

/** Dummy auth, for trials (`auth.dummy.*`). */
export interface DummyAuthConfig {
  /** `auth.dummy.password`: Shared password for dummy auth; empty accepts any password */
  password: string;
  /** `auth.dummy.allow_public`: Let dummy auth serve on a non-loopback address (unsafe: anyone can log in) */
  allowPublic: boolean;
}

/** Who may log in and who is an admin (`users.*`). */
export interface UsersConfig {
  /** `users.allowed`: Users allowed to log in */
  allowed: string[];
  /** `users.blocked`: Users never allowed to log in */
  blocked: string[];
  /** `users.admin`: Admin users (always allowed) */
  admin: string[];
  /** `users.allow_all`: Allow every user the authenticator accepts (dummy auth with no allowed list implies it) */
  allowAll: boolean;
  /** `users.allow_existing`: Allow users that exist in the hub database (added by an admin) */
  allowExisting: boolean;
  /** `users.username_pattern`: Regular expression every username must match */
  usernamePattern: string;
}

/** The REST API's page sizes and body limit (`api.*`). */
export interface ApiConfig {
  /** `api.page_default_limit`: Default page size */
  pageDefaultLimit: number;
  /** `api.page_max_limit`: Largest page size */
  pageMaxLimit: number;
  /** `api.max_body_size`: Largest request body in bytes */
  maxBodySize: number;
}

/** The login session (`session.*`). */
export interface SessionConfig {
  /** `session.max_age`: Login cookie lifetime in seconds */
  maxAgeSeconds: number;
  /** `session.shutdown_on_logout`: Stop the user's servers when they log out (JupyterHub's shutdown_on_logout) */
  shutdownOnLogout: boolean;
}

/** API tokens (`tokens.*`). */
export interface TokensConfig {
  /** `tokens.max_expires_in`: Cap (and default) for API token lifetimes in seconds; 0 = no cap */
  maxExpiresInSeconds: number;
}

/** The hub's own listener (`hub.*`). */
export interface HubListenerConfig {
  /** `hub.ip`: Address of the hub's own listener (the proxy and single-user servers reach the hub there) */
  ip: string;
  /** `hub.port`: Port of the hub's own listener (0 picks a free one) */
  port: number;
  /** `hub.nice`: Niceness the hub gives itself when it runs as root (its threads and, leading its session, its autogroup), so pages and the API keep answering while a class's servers start; servers never inherit it */
  nice: number;
}

/** The proxy in front of the hub and servers (`proxy.*`). */
export interface ProxyConfig {
  /** `proxy.mode`: builtin: the proxy runs inside onehub; external: a separate `onehub proxy` (or configurable-http-proxy) driven over its REST API */
  mode: "builtin" | "external";
  /** `proxy.api_url`: REST API of the external proxy */
  apiUrl: string;
  /** `proxy.auth_token`: Token for the external proxy's API (default: $CONFIGPROXY_AUTH_TOKEN) */
  authToken: string;
  /** `proxy.connect_timeout`: Seconds to wait for a server to accept a connection before answering 504 */
  connectTimeoutSeconds: number;
  /** `proxy.trusted_proxies`: Addresses of proxies in front of onehub (e.g. nginx) whose X-Forwarded-* headers are kept */
  trustedProxies: string[];
  /** `proxy.activity_interval`: Seconds between pulls of the proxy's per-route activity into the database */
  activityIntervalSeconds: number;
}

/** HTTPS: certificates from files or Let's Encrypt, redirect, HSTS (`https.*`). */
export interface HttpsConfig {
  /** `https.enabled`: Serve HTTPS on https.port with https.tls.cert and https.tls.key */
  enabled: boolean;
  /** `https.port`: HTTPS port */
  port: number;
  /** `https.tls.cert`: PEM certificate chain file */
  cert: string;
  /** `https.tls.key`: PEM private key file */
  key: string;
  /** Certificates from Let's Encrypt (`https.letsencrypt.*`). */
  letsencrypt: LetsEncryptConfig;
  /** `https.redirect_http`: With HTTPS on, answer plain HTTP on http.port with a redirect to HTTPS */
  redirectHttp: boolean;
  /** `https.hsts`: Send Strict-Transport-Security on HTTPS responses (browsers then refuse plain HTTP for this host) */
  hsts: boolean;
  /** `https.hsts_max_age`: max-age of Strict-Transport-Security in seconds */
  hstsMaxAge: number;
}

/** Certificates from Let's Encrypt (`https.letsencrypt.*`). */
export interface LetsEncryptConfig {
  /** `https.letsencrypt.email`: Contact e-mail for Let's Encrypt (expiry notices); with domains, certificates are obtained and renewed by ACME http-01 */
  email: string;
  /** `https.letsencrypt.domains`: Domains to get a Let's Encrypt certificate for (they must reach this machine on port 80 = http.port); replaces https.tls.* */
  domains: string[];
  /** `https.letsencrypt.directory`: ACME directory URL (Let's Encrypt staging: https://acme-staging-v02.api.letsencrypt.org/directory) */
  directory: string;
}

/** How each user's server is started (`spawner.*`). */
export interface SpawnerConfig {
  /** `spawner.type`: local: a process per server dropped to the user's uid; systemd: a transient unit per server (needs systemd as PID 1) */
  type: "local" | "systemd";
  /** `spawner.cmd`: Command of each user's server, looked up on the server's PATH (the hub's, by spawner.env_keep; else /usr/local/bin:/usr/bin:/bin) */
  cmd: string[];
  /** `spawner.default_url`: Page a server opens on, e.g. "/lab" or "/tree" */
  defaultUrl: string;
  /** `spawner.env_keep`: Variables of the hub's own environment each server inherits (JupyterHub's LocalProcessSpawner.env_keep) */
  envKeep: string[];
  /** `spawner.environment`: Variables set in every server, applied last (may override JUPYTERHUB_*): {NAME: value}; a profile's environment goes over these */
  environment: Record<string, string>;
  /** `spawner.notebook_dir`: Root directory of each server, "{username}" expanded (JUPYTERHUB_ROOT_DIR), e.g. "/srv/class/{username}"; empty: the home directory */
  notebookDir: string;
  /** `spawner.debug`: Servers log at debug level (JUPYTERHUB_DEBUG=1) */
  debug: boolean;
  /** `spawner.disable_user_config`: Servers ignore Jupyter config files in the user's home (JUPYTERHUB_DISABLE_USER_CONFIG=1) */
  disableUserConfig: boolean;
  /** `spawner.server_token_scopes`: Scopes of each server's own API token, "!server" meaning that server; empty: the "server" role's (JupyterHub's Spawner.server_token_scopes) */
  serverTokenScopes: string[];
  /** `spawner.oauth_client_allowed_scopes`: More scopes a server may ask for its visitors' tokens, beyond access to itself (JupyterHub's Spawner.oauth_client_allowed_scopes) */
  oauthClientAllowedScopes: string[];
  /** `spawner.user_prefix`: Prefix of Linux account names (TLJH uses "jupyter-"); empty: hub user = Linux user */
  userPrefix: string;
  /** `spawner.create_system_users`: Create the Linux account (useradd -m) on a user's first spawn */
  createSystemUsers: boolean;
  /** `spawner.min_uid`: Servers never run as an account below this uid (root and service accounts, e.g. an OAuth user named "daemon") */
  minUid: number;
  /** `spawner.start_timeout`: Seconds a server may take to start */
  startTimeoutSeconds: number;
  /** `spawner.slow_spawn_timeout`: Seconds a REST API start request waits for the server before answering 202 (JupyterHub's slow_spawn_timeout) */
  slowSpawnTimeoutSeconds: number;
  /** `spawner.slow_stop_timeout`: Seconds a REST API stop request waits for the server to end before answering 202 (JupyterHub's slow_stop_timeout) */
  slowStopTimeoutSeconds: number;
  /** `spawner.http_timeout`: Seconds a started server may take to answer HTTP */
  httpTimeoutSeconds: number;
  /** `spawner.concurrent_limit`: Spawns allowed at once (0 = two per CPU core, at least 2: a server's start is CPU-bound, so more at once only makes each slower); more wait in line, their spawn-pending page showing their place */
  concurrentLimit: number;
  /** `spawner.start_nice`: Niceness a server starts with, back to 0 once it answers, so the hub and running servers keep the CPU while a class starts (local spawner: the server's niceness and its session's autogroup; systemd spawner: the matching CPUWeight=, 10 → 11 of 100; 0 = off) */
  startNice: number;
  /** `spawner.min_free_memory`: Memory the machine must have available (MemAvailable in /proc/meminfo) when a spawn's turn comes, e.g. "512M"; below it the spawn fails with a clear message instead of the OOM killer choosing ("" or "0" = no check) */
  minFreeMemoryBytes: number | null;
  /** `spawner.queue_limit`: Spawns that may wait in line for a free slot (spawner.concurrent_limit); past it a start answers 429 with Retry-After */
  queueLimit: number;
  /** `spawner.options_form`: HTML form fields shown before a server starts (trusted HTML); the submitted fields become user_options */
  optionsForm: string;
  /** `spawner.named_servers`: Allow several named servers per user */
  namedServers: boolean;
  /** `spawner.named_server_limit`: Named servers allowed per user (0 = no limit) */
  namedServerLimit: number;
  /** `spawner.stop_on_shutdown`: Stop every server when the hub stops (default: keep them running and re-adopt them) */
  stopOnShutdown: boolean;
  /** `spawner.poll_interval`: Seconds between checks that running servers are alive */
  pollIntervalSeconds: number;
}

/** Limits of each server, and by group (`limits.*`). */
export interface LimitsConfig {
  /** `limits.memory`: Memory per server, e.g. "2G" (systemd spawner enforces it) */
  memoryBytes: number | null;
  /** `limits.cpu`: CPU cores per server, e.g. "1.5" (systemd spawner enforces it) */
  cpu: number | null;
  /** `limits.tasks`: Processes and threads per server (systemd TasksMax; 0 = no limit) */
  tasks: number;
  /** `limits.groups`: Limits by group: {students: {memory: "2G", cpu: 1, tasks: 512}}; the most generous of a user's groups wins */
  groups: Record<string, Limits>;
}

/** The event log (`events.*`). */
export interface EventsConfig {
  /** `events.retention_days`: Days the event log (onehub events) keeps an event */
  retentionDays: number;
  /** `events.max_rows`: Events kept at most; the oldest go first */
  maxRows: number;
}

/** `/hub/metrics` (`metrics.*`). */
export interface MetricsConfig {
  /** `metrics.authenticate`: /hub/metrics needs a token or login with read:metrics (false: open to anyone who reaches the hub, as authenticate_prometheus = False) */
  authenticate: boolean;
}

/** Course files merged into every home (`course_files.*`). */
export interface CourseFilesConfig {
  /** `course_files.source`: Course files merged into every user's home at spawn and on the admin page's update: a directory or a git repository URL ("" = none) */
  source: string;
  /** `course_files.target`: The folder in each home the course files go to */
  target: string;
  /** `course_files.branch`: The git branch of a git source ("" = its default branch) */
  branch: string;
  /** `course_files.max_file_size`: Course files larger than this many bytes are skipped, and a student's file that large is never read */
  maxFileSize: number;
  /** `course_files.cache_dir`: Where a git source is checked out (readable by every user: the merge runs as the user) */
  cacheDir: string;
}

/** Sharing servers with users and groups (`sharing.*`). */
export interface SharingConfig {
  /** `sharing.enabled`: Let users share their servers with other users and groups (JupyterHub 5 sharing: adds shares!user, read:users:name and read:groups:name to the user role) */
  enabled: boolean;
}

/** The built-in idle culler (`services.cull.*`). */
export interface CullConfig {
  /** `services.cull.enabled`: Stop idle servers (the built-in idle culler, on as in TLJH) */
  enabled: boolean;
  /** `services.cull.timeout`: Seconds without activity after which a server is stopped */
  timeoutSeconds: number;
  /** `services.cull.every`: Seconds between the culler's passes */
  everySeconds: number;
  /** `services.cull.concurrency`: Servers the culler stops at once */
  concurrency: number;
  /** `services.cull.max_age`: Stop servers older than this many seconds even when busy (0 = never) */
  maxAgeSeconds: number;
  /** `services.cull.users`: Also delete idle users who have no running server (never admins, never users named in users.allowed or users.admin) */
  users: boolean;
  /** `services.cull.remove_named_servers`: Delete culled named servers instead of only stopping them */
  removeNamedServers: boolean;
  /** `services.cull.admin_users`: Cull admins' servers too (jupyterhub-idle-culler's --cull-admin-users) */
  adminUsers: boolean;
}
