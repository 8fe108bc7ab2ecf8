/**
 * The `auth.oauth.*` keys: sign-in with an OpenID Connect provider, GitHub,
 * GitLab or Google, and the provider's tokens kept as auth state.
 *
 * @module
 */
import { type ConfigValues, invalid, type KeySpec } from "../schema.ts";

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
    return invalid("auth.oauth.issuer", {
      value,
      expected:
        'an https URL such as "https://login.example.org/realms/school" (http only on loopback)',
    });
  }
  return null;
}

/** The `auth.oauth.*` keys, in table order. */
export const OAUTH_KEYS = [
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
] as const satisfies readonly KeySpec[];
