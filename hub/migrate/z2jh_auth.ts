/**
 * The authenticator part of `onehub export z2jh`: who may sign in and how,
 * as `hub.config` sections (JupyterHub's and oauthenticator 17's traitlets,
 * the versions Zero to JupyterHub 4.x ships).
 *
 * - `auth.oauth.*` presets → `GenericOAuthenticator` (the ID token's claims,
 *   as onehub reads them: `userdata_from_id_token`), `GitHubOAuthenticator`
 *   (orgs and teams → `allowed_organizations`), `GitLabOAuthenticator`
 *   (groups → `allowed_gitlab_groups`), `GoogleOAuthenticator` (domains →
 *   `hosted_domain`, usernames kept as emails);
 * - dummy → `dummy`; PAM → a placeholder class that stops the hub until
 *   the admin chooses (the chart's default is `dummy`, which would let
 *   anyone in);
 * - `users.*` and the database's users → `Authenticator.allowed_users`,
 *   `admin_users`, `blocked_users`, `allow_all`, `allow_existing_users`.
 *
 * Pure: no I/O.
 *
 * @module
 */
import type { HubConfig } from "../config/mod.ts";
import { oauthOn } from "../config/mod.ts";
import { effectiveAllowRules } from "../auth/usernames.ts";
import type { HubSnapshot } from "./snapshot.ts";
import type { ExportCollector, ExportOptions } from "./_types.ts";

/** The `hub.config` path of a traitlets section. */
const CONFIG = ["hub", "config"] as const;

/** The placeholder authenticator class of a PAM hub: JupyterHub refuses to start with it. */
export const CHOOSE_AUTHENTICATOR =
  "REPLACE-ME-choose-an-authenticator-see-MIGRATION.md";

/** The text of a secret left out of values.yaml (without `--include-secrets`). */
export function secretPlaceholder(what: string): string {
  return `REPLACE-ME: ${what} (not exported; see MIGRATION.md)`;
}

/** `value` with `--include-secrets`, else its placeholder and a note saying where it goes. */
function secret(
  out: ExportCollector,
  options: ExportOptions,
  what: { name: string; key: string; value: string },
): string {
  if (options.includeSecrets) return what.value;
  out.note(
    "fill",
    `\`${what.key}\`: not exported (a secret); put onehub's \`${what.name}\` there, or run \`onehub export z2jh --include-secrets\` (and keep that values.yaml out of version control).`,
  );
  return secretPlaceholder(what.name);
}

/** Names sorted and without repeats. */
function sorted(names: Iterable<string>): string[] {
  return [...new Set(names)].sort();
}

/** Maps the authenticator and the allow rules into `hub.config`. */
export function mapAuthenticator(
  out: ExportCollector,
  input: { config: HubConfig; snapshot: HubSnapshot; options: ExportOptions },
): void {
  const { config } = input;
  if (oauthOn(config)) {
    mapOAuth(out, input);
    if (config.auth.type === "pam") {
      out.note(
        "todo",
        "onehub offered both Linux passwords (PAM) and the OAuth provider; JupyterHub has one authenticator, so values.yaml uses the provider. Users who signed in with a password must sign in with the provider under the same username.",
      );
    }
  } else if (config.auth.type === "dummy") mapDummy(out, input);
  else mapPam(out);
  mapAllowRules(out, input);
}

/** PAM: no meaning in a pod; a placeholder that stops the hub, and the choices. */
function mapPam(out: ExportCollector): void {
  const path = [...CONFIG, "JupyterHub", "authenticator_class"];
  out.set(path, CHOOSE_AUTHENTICATOR);
  out.comment(
    path,
    "onehub signed users in with Linux passwords (PAM), which mean nothing in a pod:\nchoose an authenticator (see MIGRATION.md) before installing.",
  );
  out.note(
    "fill",
    "`hub.config.JupyterHub.authenticator_class`: onehub used Linux accounts and their passwords (PAM). A user's pod has no such accounts, so PAM has no meaning on Kubernetes and the hub will not start until you choose: an OAuth / OpenID Connect provider your school already has (`generic-oauth`, `github`, `gitlab`, `google`, `azuread`; see https://z2jh.jupyter.org/en/stable/administrator/authentication.html), `ldapauthenticator.LDAPAuthenticator` if the passwords live in LDAP, or `nativeauthenticator.NativeAuthenticator` / `firstuseauthenticator.FirstUseAuthenticator` for passwords kept by the hub (users set a new one on first sign-in). Linux passwords cannot be carried over.",
  );
}

/** Dummy auth: the same trial authenticator, and its shared password as a secret. */
function mapDummy(
  out: ExportCollector,
  { config, options }: { config: HubConfig; options: ExportOptions },
): void {
  out.set([...CONFIG, "JupyterHub", "authenticator_class"], "dummy");
  if (config.auth.dummy.password) {
    out.set(
      [...CONFIG, "DummyAuthenticator", "password"],
      secret(out, options, {
        name: "auth.dummy.password",
        key: "hub.config.DummyAuthenticator.password",
        value: config.auth.dummy.password,
      }),
    );
  }
  out.note(
    "todo",
    "onehub used the dummy authenticator (trials: any password, or one shared password). On a public cluster anyone could sign in: choose a real authenticator before users arrive.",
  );
}

/**
 * `allowed_users` (the config's, and the database's users unless a
 * provider's groups decide), `admin_users` (the config's and every admin
 * in the database), `blocked_users`, `allow_all`, `allow_existing_users`.
 */
function mapAllowRules(
  out: ExportCollector,
  { config, snapshot }: { config: HubConfig; snapshot: HubSnapshot },
): void {
  const users = config.users;
  const rules = effectiveAllowRules(config.auth.type, users);
  const blocked = new Set(users.blocked);
  const admins = sorted([
    ...users.admin,
    ...snapshot.users.filter((u) => u.admin).map((u) => u.name),
  ]).filter((n) => !blocked.has(n));
  // With provider groups deciding, onehub lets in only members and admins.
  const byGroups = oauthOn(config) && config.auth.oauth.allowedGroups.length;
  const known = byGroups || !users.allowExisting
    ? []
    : snapshot.users.map((u) => u.name);
  const allowed = sorted([...(byGroups ? [] : users.allowed), ...known])
    .filter((n) => !blocked.has(n) && !admins.includes(n));
  const auth = [...CONFIG, "Authenticator"];
  if (allowed.length) out.set([...auth, "allowed_users"], allowed);
  if (admins.length) out.set([...auth, "admin_users"], admins);
  if (blocked.size) out.set([...auth, "blocked_users"], sorted(blocked));
  out.set([...auth, "allow_all"], rules.allowAll);
  out.set([...auth, "allow_existing_users"], users.allowExisting);
  if (users.usernamePattern) {
    out.set([...auth, "username_pattern"], users.usernamePattern);
  }
  if (admins.length) {
    out.note(
      "moved",
      `Admins (the config's \`users.admin\` and every admin in the database): ${
        admins.join(", ")
      }, in \`Authenticator.admin_users\`.`,
    );
  }
  if (known.length) {
    out.note(
      "moved",
      `${known.length} user(s) of onehub's database are in \`Authenticator.allowed_users\`, so they exist in JupyterHub from its first start and may sign in as before (JupyterHub's database starts empty, so \`allow_existing_users\` alone would let none of them in). Once they exist there you may trim the list.`,
    );
  }
}

/** The button text's provider name: "Sign in with X" → "X" (oauthenticator prefixes "Sign in with"). */
function loginService(buttonText: string): string {
  return buttonText.replace(/^\s*(sign|log)\s+in\s+with\s+/i, "").trim() ||
    buttonText;
}

/** The OAuth provider: its class, its section, and what the section cannot say. */
function mapOAuth(
  out: ExportCollector,
  input: { config: HubConfig; options: ExportOptions },
): void {
  const o = input.config.auth.oauth;
  const { entry, section, fields } = o.preset === "github"
    ? githubSection(out, input)
    : o.preset === "gitlab"
    ? gitlabSection(out, input)
    : o.preset === "google"
    ? googleSection(out, input)
    : genericSection(out, input);
  out.set([...CONFIG, "JupyterHub", "authenticator_class"], entry);
  const base = [...CONFIG, section];
  const callback = callbackUrl(input.config);
  const common: Record<string, unknown> = {
    "client_id": o.clientId,
    "client_secret": secret(out, input.options, {
      name: "auth.oauth.client_secret",
      key: `hub.config.${section}.client_secret`,
      value: o.clientSecret,
    }),
    ...(callback ? { "oauth_callback_url": callback } : {}),
    "login_service": loginService(o.buttonText),
    ...(o.logoutUrl ? { "logout_redirect_url": o.logoutUrl } : {}),
    ...fields,
  };
  for (const [key, value] of Object.entries(common)) {
    out.set([...base, key], value);
  }
  mapAuthState(out, input.config, base);
  if (!callback) {
    out.note(
      "todo",
      "`oauth_callback_url` is not set (onehub had no `public_url`): oauthenticator takes it from each request, `https://<the hub's address>/hub/oauth_callback`. Register that exact address with the provider if the hub's address changes.",
    );
  }
}

/** `{public_url}{base_url}hub/oauth_callback`, or "" without a public URL. */
function callbackUrl(config: HubConfig): string {
  const origin = config.publicUrl || config.subdomainHost;
  return origin
    ? `${new URL(origin).origin}${config.baseUrl}hub/oauth_callback`
    : "";
}

/** Auth state, its refresh, auto login and the provider's token in the server's environment. */
function mapAuthState(
  out: ExportCollector,
  config: HubConfig,
  base: readonly string[],
): void {
  const o = config.auth.oauth;
  if (o.autoLogin) out.set([...CONFIG, "Authenticator", "auto_login"], true);
  out.set([...CONFIG, "Authenticator", "enable_auth_state"], o.enableAuthState);
  if (!o.enableAuthState) return;
  out.set([...base, "refresh_pre_spawn"], o.refreshPreSpawn);
  out.set(
    [...CONFIG, "Authenticator", "auth_refresh_age"],
    o.authRefreshAgeSeconds,
  );
  if (o.tokenEnv) {
    out.set(
      ["hub", "extraConfig", "onehub-token-env.py"],
      TOKEN_ENV_PY.replace("@NAME@", JSON.stringify(o.tokenEnv)),
    );
    out.note(
      "moved",
      `The provider's access token reaches each server as \`${o.tokenEnv}\` through \`hub.extraConfig\` (\`Spawner.auth_state_hook\`), as \`auth.oauth.token_env\` did.`,
    );
  }
}

/** `auth.oauth.token_env` as JupyterHub config: the auth state's access token into the spawner's environment. */
const TOKEN_ENV_PY =
  `# onehub's auth.oauth.token_env: the provider's access token in each server
def _onehub_token_env(spawner, auth_state):
    if auth_state and auth_state.get("access_token"):
        spawner.environment[@NAME@] = auth_state["access_token"]

c.Spawner.auth_state_hook = _onehub_token_env
`;

/** What one preset maps to. */
interface ProviderSection {
  /** The authenticator's entry point name (`authenticator_class`). */
  entry: string;
  /** Its traitlets section. */
  section: string;
  fields: Record<string, unknown>;
}

/** A note for each provider-group rule the preset has no equivalent for. */
function unmappedGroups(
  out: ExportCollector,
  o: HubConfig["auth"]["oauth"],
  what: { admin: boolean; allowed: boolean; domains: boolean },
): void {
  if (what.admin && o.adminGroups.length) {
    out.note(
      "todo",
      `\`auth.oauth.admin_groups\` (${
        o.adminGroups.join(", ")
      }) has no equivalent for this provider in oauthenticator: today's admins are in \`admin_users\`; add future admins there (or on the admin page).`,
    );
  }
  if (what.allowed && o.allowedGroups.length) {
    out.note(
      "todo",
      `\`auth.oauth.allowed_groups\` (${
        o.allowedGroups.join(", ")
      }) has no equivalent for this provider in oauthenticator: list the users in \`allowed_users\` instead.`,
    );
  }
  if (what.domains && o.allowedDomains.length) {
    out.note(
      "todo",
      `\`auth.oauth.allowed_domains\` (${
        o.allowedDomains.join(", ")
      }) has no equivalent for this provider in oauthenticator: allow the users by name or by the provider's groups instead.`,
    );
  }
}

/** GitHub (or GitHub Enterprise): orgs and `org:team` → `allowed_organizations`. */
function githubSection(
  out: ExportCollector,
  { config }: { config: HubConfig },
): ProviderSection {
  const o = config.auth.oauth;
  unmappedGroups(out, o, { admin: true, allowed: false, domains: true });
  const enterprise = o.githubUrl.replace(/\/+$/, "") !== "https://github.com";
  return {
    entry: "github",
    section: "GitHubOAuthenticator",
    fields: {
      ...(enterprise ? { "github_url": o.githubUrl.replace(/\/+$/, "") } : {}),
      ...(enterprise
        ? { "github_api": o.githubApiUrl.replace(/\/+$/, "") }
        : {}),
      ...(o.allowedGroups.length
        ? { "allowed_organizations": [...o.allowedGroups] }
        : {}),
      scope: ["read:user", "read:org"],
    },
  };
}

/** GitLab: its groups → `allowed_gitlab_groups`; a self-hosted issuer → `gitlab_url`. */
function gitlabSection(
  out: ExportCollector,
  { config }: { config: HubConfig },
): ProviderSection {
  const o = config.auth.oauth;
  unmappedGroups(out, o, { admin: true, allowed: false, domains: true });
  const url = o.issuer.replace(/\/+$/, "");
  out.note(
    "todo",
    "GitLab: oauthenticator reads the user from GitLab's REST API, not OpenID Connect; give the application the `read_user` scope (and `read_api` when groups decide who may sign in) in GitLab.",
  );
  return {
    entry: "gitlab",
    section: "GitLabOAuthenticator",
    fields: {
      ...(url && url !== "https://gitlab.com" ? { "gitlab_url": url } : {}),
      ...(o.allowedGroups.length
        ? { "allowed_gitlab_groups": [...o.allowedGroups] }
        : {}),
      // Group checks go through GitLab's REST API.
      scope: o.allowedGroups.length ? ["read_user", "read_api"] : ["read_user"],
    },
  };
}

/** Google: domains → `hosted_domain`, usernames kept whole (`strip_domain: false`). */
function googleSection(
  out: ExportCollector,
  { config }: { config: HubConfig },
): ProviderSection {
  const o = config.auth.oauth;
  unmappedGroups(out, o, { admin: true, allowed: true, domains: false });
  const claim = o.usernameClaim === "preferred_username"
    ? "email"
    : o.usernameClaim;
  return {
    entry: "google",
    section: "GoogleOAuthenticator",
    fields: {
      ...(o.allowedDomains.length
        ? { "hosted_domain": [...o.allowedDomains] }
        : {}),
      // A single hosted_domain would strip "@domain" from usernames; onehub kept it.
      "strip_domain": false,
      "username_claim": claim,
      scope: ["openid", "email"],
    },
  };
}

/** Any OpenID Connect provider: the endpoints of its discovery document, the ID token's claims. */
function genericSection(
  out: ExportCollector,
  { config, options }: { config: HubConfig; options: ExportOptions },
): ProviderSection {
  const o = config.auth.oauth;
  unmappedGroups(out, o, { admin: false, allowed: false, domains: true });
  const wellKnown = `${
    o.issuer.replace(/\/+$/, "")
  }/.well-known/openid-configuration`;
  const endpoint = (name: string) => {
    out.note(
      "fill",
      `\`hub.config.GenericOAuthenticator.${
        name === "authorization_endpoint" ? "authorize_url" : "token_url"
      }\`: the provider's discovery document (${wellKnown}) could not be read during the export; copy its \`${name}\` there.`,
    );
    return `REPLACE-ME: ${name} of ${wellKnown}`;
  };
  const groups = o.allowedGroups.length > 0 || o.adminGroups.length > 0;
  return {
    entry: "generic-oauth",
    section: "GenericOAuthenticator",
    fields: {
      "authorize_url": options.discovery?.authorizationEndpoint ??
        endpoint("authorization_endpoint"),
      "token_url": options.discovery?.tokenEndpoint ??
        endpoint("token_endpoint"),
      "userdata_from_id_token": true,
      "username_claim": o.usernameClaim,
      scope: [...o.scopes],
      ...(groups ? providerGroups(out, o) : {}),
    },
  };
}

/** The provider's groups decide who may sign in and who is an admin (`manage_groups`). */
function providerGroups(
  out: ExportCollector,
  o: HubConfig["auth"]["oauth"],
): Record<string, unknown> {
  out.note(
    "todo",
    "The provider's groups decide who may sign in or is an admin (`auth.oauth.allowed_groups` / `admin_groups`); oauthenticator does that only with `manage_groups: true`, which makes the provider's groups the users' JupyterHub groups at each sign-in and rules out `load_groups`. So onehub's own groups are not in values.yaml: give them the provider's names, or set them up through JupyterHub's API once (they are overwritten at each sign-in).",
  );
  return {
    "manage_groups": true,
    "auth_state_groups_key": `oauth_user.${o.groupsClaim}`,
    ...(o.allowedGroups.length
      ? { "allowed_groups": [...o.allowedGroups] }
      : {}),
    ...(o.adminGroups.length ? { "admin_groups": [...o.adminGroups] } : {}),
  };
}

/** Whether the export leaves groups to the provider (`manage_groups`): then no `load_groups`. */
export function providerManagesGroups(config: HubConfig): boolean {
  const o = config.auth.oauth;
  return oauthOn(config) && o.preset === "generic" &&
    (o.allowedGroups.length > 0 || o.adminGroups.length > 0);
}
