/**
 * Groups, roles and services for `onehub export z2jh`:
 *
 * - groups (the database's, with the config's merged over them) →
 *   `hub.config.JupyterHub.load_groups` `{name: {users, properties}}`
 *   (JupyterHub 5's shape; it adds members and never removes them, as
 *   onehub does);
 * - `roles` and the roles given through the API → `hub.loadRoles`
 *   `{name: {description, scopes, users, groups, services}}`, the scope
 *   strings unchanged (they are JupyterHub's); the `user` role widened for
 *   `sharing.enabled` and `allow_all_users` services as onehub does; a
 *   service's own `scopes` → a role for it;
 * - `services.list` → `hub.services` `{name: {…}}`, tokens only with
 *   `--include-secrets`.
 *
 * Pure: no I/O.
 *
 * @module
 */
import type { HubConfig } from "../config/mod.ts";
import { BUILTIN_ROLES } from "../rbac/roles.ts";
import type { ServiceSpec } from "../services/spec.ts";
import type { HubSnapshot } from "./snapshot.ts";
import type { ExportCollector, ExportOptions } from "./_types.ts";
import { providerManagesGroups } from "./z2jh_auth.ts";

/** Names sorted and without repeats. */
function sorted(names: Iterable<string>): string[] {
  return [...new Set(names)].sort();
}

/** The database's groups with the config's merged over them (members added, properties over). */
function mergedGroups(
  config: HubConfig,
  snapshot: HubSnapshot,
): Map<string, { users: string[]; properties: Record<string, unknown> }> {
  const out = new Map<
    string,
    { users: string[]; properties: Record<string, unknown> }
  >();
  for (const g of [...snapshot.groups, ...config.groups]) {
    const seen = out.get(g.name);
    out.set(g.name, {
      users: sorted([...(seen?.users ?? []), ...g.users]),
      properties: { ...seen?.properties, ...g.properties },
    });
  }
  return out;
}

/** Groups → `hub.config.JupyterHub.load_groups` (unless the provider manages groups). */
export function mapGroups(
  out: ExportCollector,
  { config, snapshot }: { config: HubConfig; snapshot: HubSnapshot },
): void {
  const groups = mergedGroups(config, snapshot);
  if (groups.size === 0 || providerManagesGroups(config)) return;
  out.set(
    ["hub", "config", "JupyterHub", "load_groups"],
    Object.fromEntries(groups),
  );
  out.note(
    "moved",
    `${groups.size} group(s) with their members and properties are in \`hub.config.JupyterHub.load_groups\`: JupyterHub creates them at each start and adds members, never removing any (as onehub does with \`groups\`).`,
  );
}

/** One role being assembled. */
interface RoleEntry {
  description?: string;
  scopes?: string[];
  users: Set<string>;
  groups: Set<string>;
  services: Set<string>;
}

function entry(
  def: { description?: string; scopes?: readonly string[] } = {},
): RoleEntry {
  return {
    ...(def.description ? { description: def.description } : {}),
    ...(def.scopes ? { scopes: [...def.scopes] } : {}),
    users: new Set(),
    groups: new Set(),
    services: new Set(),
  };
}

/** A role name JupyterHub accepts for a service's own scopes. */
export function serviceRoleName(service: string): string {
  const slug = service.toLowerCase().replace(/[^a-z0-9\-_~.]/g, "-")
    .replace(/[^a-z0-9]+$/, "");
  return `service-${slug || "x"}-scopes`;
}

/** The config's roles, the widened `user` role and the services' own roles. */
function configRoles(config: HubConfig): Map<string, RoleEntry> {
  const roles = new Map<string, RoleEntry>();
  for (const r of config.roles) {
    const e = entry(r);
    r.users.forEach((u) => e.users.add(u));
    r.groups.forEach((g) => e.groups.add(g));
    r.services.forEach((s) => e.services.add(s));
    roles.set(r.name, e);
  }
  const extra = config.services.filter((s) => s.allowAllUsers)
    .map((s) => `access:services!service=${s.name}`);
  if (config.sharing.enabled) {
    extra.push("shares!user", "read:users:name", "read:groups:name");
  }
  if (extra.length) {
    const user = roles.get("user") ?? entry(BUILTIN_ROLES.user);
    user.scopes = [...(user.scopes ?? BUILTIN_ROLES.user.scopes), ...extra];
    roles.set("user", user);
  }
  for (const s of config.services.filter((s) => s.scopes.length)) {
    const e = entry({
      description:
        `The scopes of the service ${s.name} (onehub's services.list scopes)`,
      scopes: s.scopes,
    });
    e.services.add(s.name);
    roles.set(serviceRoleName(s.name), e);
  }
  return roles;
}

/** Roles → `hub.loadRoles`, with the assignments made through the API. */
export function mapRoles(
  out: ExportCollector,
  { config, snapshot }: { config: HubConfig; snapshot: HubSnapshot },
): void {
  const roles = configRoles(config);
  let fromApi = 0;
  for (const a of snapshot.roleAssignments) {
    if (a.source !== "api") continue;
    const builtin = Object.hasOwn(BUILTIN_ROLES, a.role);
    const role = roles.get(a.role) ?? (builtin ? entry() : undefined);
    if (!role) continue; // a role the config no longer defines: onehub drops it too
    roles.set(a.role, role);
    if (a.user !== null) role.users.add(a.user);
    if (a.group !== null) role.groups.add(a.group);
    fromApi++;
  }
  if (roles.size === 0) return;
  const loadRoles = Object.fromEntries(
    [...roles].map(([name, r]) => [name, roleValue(r)]),
  );
  out.set(["hub", "loadRoles"], loadRoles);
  out.note(
    "moved",
    `${roles.size} role(s) are in \`hub.loadRoles\` with the same scope strings${
      fromApi ? `, ${fromApi} assignment(s) made through the API included` : ""
    }.`,
  );
}

/** A role as Z2JH's `hub.loadRoles` value: only what it has. */
function roleValue(r: RoleEntry): Record<string, unknown> {
  return {
    ...(r.description ? { description: r.description } : {}),
    ...(r.scopes ? { scopes: r.scopes } : {}),
    ...(r.users.size ? { users: sorted(r.users) } : {}),
    ...(r.groups.size ? { groups: sorted(r.groups) } : {}),
    ...(r.services.size ? { services: sorted(r.services) } : {}),
  };
}

/** Services → `hub.services`. */
export function mapServices(
  out: ExportCollector,
  { config, options }: { config: HubConfig; options: ExportOptions },
): void {
  for (const s of config.services) {
    const path = ["hub", "services", s.name];
    out.set(path, serviceValue(s));
    serviceNotes(out, s);
    if (!s.apiToken) continue;
    if (options.includeSecrets) {
      out.set([...path, "apiToken"], s.apiToken);
      continue;
    }
    out.comment(
      path,
      "apiToken: not exported (a secret); left out, the chart generates one (see MIGRATION.md)",
    );
    out.note(
      "fill",
      `\`hub.services.${s.name}.apiToken\`: the service's API token was not exported. Leave it out and the chart generates one (read it from the hub Secret, key \`hub.services.${s.name}.apiToken\`, and give it to the service), or put onehub's \`api_token\` there (\`--include-secrets\` does).`,
    );
  }
}

/** A service's JupyterHub keys (the name is the key; onehub-only keys left out). */
function serviceValue(s: ServiceSpec): Record<string, unknown> {
  return {
    ...(s.url ? { url: s.url } : {}),
    ...(s.command.length ? { command: s.command } : {}),
    ...(s.admin ? { admin: true } : {}),
    ...(s.oauthNoConfirm ? { "oauth_no_confirm": true } : {}),
    ...(s.oauthClientAllowedScopes.length
      ? { "oauth_client_allowed_scopes": s.oauthClientAllowedScopes }
      : {}),
    ...(s.oauthClientId && s.oauthClientId !== `service-${s.name}`
      ? { "oauth_client_id": s.oauthClientId }
      : {}),
    ...(s.oauthRedirectUri ? { "oauth_redirect_uri": s.oauthRedirectUri } : {}),
    ...(Object.keys(s.environment).length
      ? { environment: s.environment }
      : {}),
    ...(s.cwd ? { cwd: s.cwd } : {}),
    ...(s.display ? {} : { display: false }),
    ...(Object.keys(s.info).length ? { info: s.info } : {}),
  };
}

/** What a service needs done by hand on Kubernetes. */
function serviceNotes(out: ExportCollector, s: ServiceSpec): void {
  if (s.command.length) {
    out.note(
      "todo",
      `Service \`${s.name}\` is managed (onehub ran \`${s.command.join(" ")}\`${
        s.user ? ` as ${s.user}` : ""
      }): JupyterHub runs it inside the hub pod, so the program must be in the hub image (build one from quay.io/jupyterhub/k8s-hub and set \`hub.image\`), or run it as its own Deployment and keep only its \`url\` here.`,
    );
    return;
  }
  const host = s.url ? new URL(s.url).hostname : "";
  if (["127.0.0.1", "localhost", "[::1]"].includes(host)) {
    out.note(
      "todo",
      `Service \`${s.name}\` listens on ${s.url}: in the cluster that address is the hub pod itself; run the service in the cluster and put its Kubernetes Service address (e.g. http://${s.name}.<namespace>.svc:<port>) in \`hub.services.${s.name}.url\`.`,
    );
  }
}
