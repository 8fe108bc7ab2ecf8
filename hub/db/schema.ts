// deno-lint-ignore-file camelcase -- columns are named exactly as in SQL (snake_case wire and schema names)
/**
 * One interface per table, columns exactly as in SQL (snake_case). Times are
 * ISO 8601 UTC strings with `Z`; JSON columns are TEXT holding JSON; booleans
 * are 0/1 integers.
 *
 * @module
 */
import type {
  Generated,
  Insertable,
  Kysely,
  Selectable,
  Updateable,
} from "kysely";

/** `hub_state`: small key → value facts about this hub (hub/db/hub_state.ts). */
export interface HubStateTable {
  key: string;
  value: string;
}

/** `users` */
export interface UsersTable {
  id: Generated<number>;
  name: string;
  admin: number;
  created: string;
  last_activity: string | null;
  /** JSON object or null. */
  auth_state: string | null;
}

/** `groups` */
export interface GroupsTable {
  id: Generated<number>;
  name: string;
  /** JSON object. */
  properties: string;
  created: string;
}

/** `user_group_map`: memberships. */
export interface UserGroupMapTable {
  user_id: number;
  group_id: number;
}

/** `roles`: roles defined beyond the built-in ones. */
export interface RolesTable {
  id: Generated<number>;
  name: string;
  description: string;
  /** JSON array of scope strings. */
  scopes: string;
}

/** `role_assignments`: exactly one of user_id, group_id, service_id is set. */
export interface RoleAssignmentsTable {
  id: Generated<number>;
  role_name: string;
  user_id: number | null;
  group_id: number | null;
  service_id: number | null;
  /** "config" (the config file's roles) or "api" (0006). */
  source: Generated<string>;
}

/** `services` */
export interface ServicesTable {
  id: Generated<number>;
  name: string;
  admin: number;
  url: string;
  /** JSON object. */
  info: string;
  created: string;
  /** JSON array of raw scopes the service holds beyond its roles (0005). */
  scopes: Generated<string>;
}

/** `api_tokens`: only a hash of the secret is stored. */
export interface ApiTokensTable {
  id: Generated<number>;
  user_id: number | null;
  service_id: number | null;
  /** First characters of the token, for lookup. */
  prefix: string;
  /** Hex SHA-256 of the whole token. */
  hash: string;
  /** JSON array of raw scopes as requested. */
  scopes: string;
  note: string;
  created: string;
  last_activity: string | null;
  expires_at: string | null;
  session_id: string | null;
  /** `oauth_clients.identifier`, or null for plain API tokens. */
  oauth_client: string | null;
  /** The server this token is the own API token of, or null (0008). */
  server_id: Generated<number | null>;
}

/** `login_sessions`: browser logins; only a hash of the cookie value is kept. */
export interface LoginSessionsTable {
  id: Generated<number>;
  user_id: number;
  hash: string;
  /** The jupyterhub-session-id this login belongs to. */
  session_id: string;
  created: string;
  expires_at: string;
  last_seen: string;
}

/** `oauth_clients` */
export interface OAuthClientsTable {
  id: Generated<number>;
  identifier: string;
  description: string;
  /** Hex SHA-256 of the client secret. */
  secret_hash: string;
  redirect_uri: string;
  /** JSON array of scopes the client may ask for. */
  allowed_scopes: string;
  created: string;
  /** 1: no consent page (a service's oauth_no_confirm) (0005). */
  no_confirm: Generated<number>;
  /** The server this is the OAuth client of, or null (services) (0008). */
  server_id: Generated<number | null>;
}

/** `oauth_codes`: one-time authorization codes (hash only). */
export interface OAuthCodesTable {
  id: Generated<number>;
  client_id: string;
  code_hash: string;
  user_id: number;
  redirect_uri: string;
  /** JSON array. */
  scopes: string;
  session_id: string | null;
  created: string;
  expires_at: string;
}

/** `servers`: one row per (user, server name); `name` is "" for the default. */
export interface ServersTable {
  id: Generated<number>;
  user_id: number;
  name: string;
  /** `stopped` | `spawning` | `running` | `stopping` */
  status: string;
  url: string | null;
  /** Spawner state JSON (pid, start time, unit…). */
  state: string;
  /** JSON object. */
  user_options: string;
  started: string | null;
  last_activity: string | null;
  created: string;
  /** The instance id of the hub that started it ("" before 0003). */
  hub_instance: Generated<string>;
}

/** `routes`: proxy routes the hub added, restored after a restart. */
export interface RoutesTable {
  /** Normalised prefix, e.g. "/user/alice". */
  prefix: string;
  target: string;
  /** JSON object: user, server_name, … */
  data: string;
  created: string;
}

/** `events`: the event log (hub/observe/events.ts). */
export interface EventsTable {
  id: Generated<number>;
  time: string;
  /** e.g. "login.ok", "server.stop", "cull.server". */
  kind: string;
  /** The user acted on, if any. */
  user: string | null;
  /** Who acted: a user, a service, "hub" (the hub itself), or null. */
  actor: string | null;
  reason: string;
  /** JSON object: further fields. */
  data: string;
}

/** `shares`: a server shared with a user or a group (0007). */
export interface SharesTable {
  id: Generated<number>;
  owner_id: number;
  server_name: string;
  user_id: number | null;
  group_id: number | null;
  /** JSON array of the granted scopes, each filtered to the server. */
  scopes: string;
  created: string;
}

/** `share_codes`: invitations to a share (hash only) (0007). */
export interface ShareCodesTable {
  id: Generated<number>;
  owner_id: number;
  server_name: string;
  code_hash: string;
  /** JSON array. */
  scopes: string;
  created: string;
  expires_at: string;
  exchange_count: Generated<number>;
  last_exchanged_at: string | null;
}

/** The whole database. */
export interface Database {
  users: UsersTable;
  groups: GroupsTable;
  user_group_map: UserGroupMapTable;
  roles: RolesTable;
  role_assignments: RoleAssignmentsTable;
  services: ServicesTable;
  api_tokens: ApiTokensTable;
  login_sessions: LoginSessionsTable;
  oauth_clients: OAuthClientsTable;
  oauth_codes: OAuthCodesTable;
  servers: ServersTable;
  routes: RoutesTable;
  hub_state: HubStateTable;
  events: EventsTable;
  shares: SharesTable;
  share_codes: ShareCodesTable;
}

export type UserRow = Selectable<UsersTable>;
export type NewUserRow = Insertable<UsersTable>;
export type UserUpdate = Updateable<UsersTable>;
export type GroupRow = Selectable<GroupsTable>;
export type ApiTokenRow = Selectable<ApiTokensTable>;
export type LoginSessionRow = Selectable<LoginSessionsTable>;
export type ServerRow = Selectable<ServersTable>;
export type ServiceRow = Selectable<ServicesTable>;
export type OAuthClientRow = Selectable<OAuthClientsTable>;
export type OAuthCodeRow = Selectable<OAuthCodesTable>;
export type RouteRow = Selectable<RoutesTable>;
export type EventRow = Selectable<EventsTable>;
export type ShareRow = Selectable<SharesTable>;
export type ShareCodeRow = Selectable<ShareCodesTable>;

/** The kysely handle used everywhere in the hub (hub/db/mod.ts re-exports it). */
export type Db = Kysely<Database>;
