/**
 * `exportZ2jh`: a onehub config and database snapshot mapped key by key
 * onto Zero to JupyterHub values, and every result validated against the
 * chart's published values schema (tests/_helpers/z2jh_schema.ts).
 */
import assert from "node:assert/strict";
import { parse } from "yaml";
import { type RawConfig, resolveConfig } from "../../../hub/config/mod.ts";
import type { HubSnapshot } from "../../../hub/migrate/snapshot.ts";
import {
  CHOOSE_AUTHENTICATOR,
  type ExportResult,
  exportZ2jh,
  secretPlaceholder,
} from "../../../hub/migrate/z2jh.ts";
import {
  renderMigrationMd,
  renderValuesYaml,
} from "../../../hub/migrate/z2jh_render.ts";
import { z2jhSchemaErrors } from "../../_helpers/z2jh_schema.ts";

/** A class hub: generic OpenID Connect, groups, roles, profiles, limits, a service, course files. */
const CLASS_HUB: RawConfig = {
  "public_url": "https://hub.school.example",
  announcement: "Exam on <Friday> & bring a pen",
  auth: {
    type: "oauth",
    oauth: {
      preset: "generic",
      issuer: "https://login.school.example/realms/school",
      "client_id": "onehub",
      "client_secret": "client-secret-0123456789",
      "username_claim": "email",
      "token_env": "SCHOOL_TOKEN",
      "logout_url": "https://login.school.example/logout",
    },
  },
  users: { admin: ["ada"], allowed: ["bob"], blocked: ["mallory"] },
  groups: {
    students: { users: ["bob", "carol"], properties: { course: "intro" } },
    staff: { users: ["ada"] },
  },
  roles: [{
    name: "teaching-assistant",
    description: "Helps the students",
    scopes: ["list:users", "read:users!group=students"],
    users: ["bob"],
    groups: ["staff"],
  }],
  limits: {
    memory: "512M",
    cpu: "1",
    groups: { staff: { memory: "8G", cpu: 4 }, tas: { memory: "4G", cpu: 2 } },
  },
  profiles: [
    {
      slug: "small",
      "display_name": "Small",
      description: "1 CPU, 2 GB",
      default: true,
      limits: { memory: "2G", cpu: 1 },
    },
    {
      slug: "large",
      "display_name": "Large",
      limits: { memory: "8G", cpu: 4 },
      "default_url": "/lab",
      environment: { COURSE: "ml" },
      groups: ["staff"],
    },
  ],
  "course_files": {
    source: "https://git.school.example/course.git",
    branch: "main",
  },
  services: {
    cull: {
      timeout: 1800,
      every: 120,
      concurrency: 3,
      "max_age": 86400,
      users: true,
      "admin_users": false,
    },
    list: [{
      name: "grader",
      url: "http://grader.internal:9000",
      "api_token": "service-token-0123456789abcdef0123456789",
      scopes: ["list:users", "read:users"],
      "allow_all_users": true,
    }],
  },
  spawner: { "default_url": "/lab", environment: { TZ: "Europe/Paris" } },
  sharing: { enabled: true },
};

/** The class hub's database: users, admins, groups, an API role, tokens, shares. */
const CLASS_DB: HubSnapshot = {
  users: [
    { name: "ada", admin: true },
    { name: "bob", admin: false },
    { name: "carol", admin: false },
    { name: "dave", admin: false },
    { name: "erin", admin: true },
  ],
  groups: [
    { name: "students", users: ["bob", "carol", "dave"], properties: {} },
    { name: "staff", users: ["ada"], properties: {} },
    { name: "readers", users: ["dave"], properties: { room: 12 } },
  ],
  roleAssignments: [
    {
      role: "teaching-assistant",
      source: "config",
      user: "bob",
      group: null,
      service: null,
    },
    {
      role: "teaching-assistant",
      source: "api",
      user: "carol",
      group: null,
      service: null,
    },
  ],
  tokens: [{ user: "ada", tokens: 2 }],
  shares: 3,
  announcement: "",
};

const ENDPOINTS = {
  authorizationEndpoint: "https://login.school.example/auth",
  tokenEndpoint: "https://login.school.example/token",
};

function run(
  file: RawConfig,
  snapshot: HubSnapshot,
  options: Partial<Parameters<typeof exportZ2jh>[1]> = {},
): ExportResult {
  const config = resolveConfig({ file });
  return exportZ2jh({ config, snapshot }, {
    includeSecrets: false,
    discovery: ENDPOINTS,
    ...options,
  });
}

/** The value at a dotted path of the values. */
function at(values: Record<string, unknown>, path: string): unknown {
  return path.split(".").reduce<unknown>(
    (node, key) => (node as Record<string, unknown> | undefined)?.[key],
    values,
  );
}

function assertValid(values: Record<string, unknown>): void {
  assert.deepEqual(z2jhSchemaErrors(values), []);
}

const EMPTY_DB: HubSnapshot = {
  users: [],
  groups: [],
  roleAssignments: [],
  tokens: [],
  shares: 0,
  announcement: "",
};

Deno.test("the schema check rejects a wrong key and a wrong type, and accepts the chart's defaults", () => {
  assert.deepEqual(z2jhSchemaErrors({}), []);
  const wrongKey = z2jhSchemaErrors({
    singleuser: { memroy: { limit: "1G" } },
  });
  assert.ok(
    wrongKey.some((e) => /additional properties/.test(e) && /memroy/.test(e)),
    wrongKey.join("\n"),
  );
  const wrongType = z2jhSchemaErrors({ cull: { timeout: "an hour" } });
  assert.ok(
    wrongType.some((e) => e.startsWith("/cull/timeout must be integer")),
    wrongType.join("\n"),
  );
  const lowerSection = z2jhSchemaErrors({
    hub: { config: { loadRoles: {} } },
  });
  assert.ok(
    lowerSection.length > 0,
    "hub.config sections start with a capital",
  );
});

Deno.test("the class hub's authenticator: GenericOAuthenticator from the ID token, secrets held back", () => {
  const { values, notes } = run(CLASS_HUB, CLASS_DB);
  assertValid(values);
  const g = at(values, "hub.config.GenericOAuthenticator") as Record<
    string,
    unknown
  >;
  assert.equal(
    at(values, "hub.config.JupyterHub.authenticator_class"),
    "generic-oauth",
  );
  assert.deepEqual(g, {
    "client_id": "onehub",
    "client_secret": secretPlaceholder("auth.oauth.client_secret"),
    "oauth_callback_url": "https://hub.school.example/hub/oauth_callback",
    "login_service": "your organisation",
    "logout_redirect_url": "https://login.school.example/logout",
    "authorize_url": "https://login.school.example/auth",
    "token_url": "https://login.school.example/token",
    "userdata_from_id_token": true,
    "username_claim": "email",
    scope: ["openid", "profile", "email"],
    "refresh_pre_spawn": true,
  });
  assert.ok(!JSON.stringify(values).includes("client-secret-0123456789"));
  assert.ok(
    notes.some((n) =>
      n.topic === "fill" &&
      n.text.includes("hub.config.GenericOAuthenticator.client_secret")
    ),
  );
  const py = (at(values, "hub.extraConfig") as Record<string, string>)[
    "onehub-token-env.py"
  ]!;
  assert.match(
    py,
    /spawner\.environment\["SCHOOL_TOKEN"\] = auth_state\["access_token"\]/,
  );
  assert.match(py, /c\.Spawner\.auth_state_hook = _onehub_token_env/);
});

Deno.test("the class hub's users: allowed (config and database), admins (config and database), blocked", () => {
  const { values } = run(CLASS_HUB, CLASS_DB);
  assert.deepEqual(at(values, "hub.config.Authenticator"), {
    "enable_auth_state": true,
    "auth_refresh_age": 300,
    "allowed_users": ["bob", "carol", "dave"],
    "admin_users": ["ada", "erin"],
    "blocked_users": ["mallory"],
    "allow_all": false,
    "allow_existing_users": true,
  });
  assert.equal(
    at(values, "hub.config.JupyterHub.public_url"),
    "https://hub.school.example",
  );
  assert.equal(at(values, "hub.baseUrl"), "/");
});

Deno.test("the class hub's groups, roles and services", () => {
  const { values, notes } = run(CLASS_HUB, CLASS_DB);
  assert.deepEqual(at(values, "hub.config.JupyterHub.load_groups"), {
    students: {
      users: ["bob", "carol", "dave"],
      properties: { course: "intro" },
    },
    staff: { users: ["ada"], properties: {} },
    readers: { users: ["dave"], properties: { room: 12 } },
  });
  assert.deepEqual(at(values, "hub.loadRoles"), {
    "teaching-assistant": {
      description: "Helps the students",
      scopes: ["list:users", "read:users!group=students"],
      users: ["bob", "carol"],
      groups: ["staff"],
    },
    user: {
      description: "Standard user privileges",
      scopes: [
        "self",
        "access:services!service=grader",
        "shares!user",
        "read:users:name",
        "read:groups:name",
      ],
    },
    "service-grader-scopes": {
      description:
        "The scopes of the service grader (onehub's services.list scopes)",
      scopes: ["list:users", "read:users"],
      services: ["grader"],
    },
  });
  assert.deepEqual(at(values, "hub.services"), {
    grader: { url: "http://grader.internal:9000" },
  });
  assert.ok(
    notes.some((n) =>
      n.topic === "fill" && n.text.includes("hub.services.grader.apiToken")
    ),
  );
});

Deno.test("--include-secrets writes the client secret and the service token", () => {
  const { values, notes } = run(CLASS_HUB, CLASS_DB, { includeSecrets: true });
  assertValid(values);
  assert.equal(
    at(values, "hub.config.GenericOAuthenticator.client_secret"),
    "client-secret-0123456789",
  );
  assert.equal(
    at(values, "hub.services.grader.apiToken"),
    "service-token-0123456789abcdef0123456789",
  );
  assert.equal(notes.filter((n) => n.topic === "fill").length, 0);
});

Deno.test("the class hub's servers: limits, profiles, group limits, environment, storage, course files", () => {
  const { values } = run(CLASS_HUB, CLASS_DB);
  const s = values.singleuser as Record<string, unknown>;
  assert.equal(s.defaultUrl, "/lab");
  assert.deepEqual(s.extraEnv, { TZ: "Europe/Paris" });
  // The chart's 1G guarantee would exceed a 512M limit: lowered with it.
  assert.deepEqual(s.memory, { limit: "512M", guarantee: "512M" });
  assert.deepEqual(s.cpu, { limit: 1 });
  assert.deepEqual(s.profileList, [
    {
      "display_name": "Small",
      slug: "small",
      description: "1 CPU, 2 GB",
      default: true,
      "kubespawner_override": { "mem_limit": "2G", "cpu_limit": 1 },
    },
    {
      "display_name": "Large",
      slug: "large",
      "kubespawner_override": {
        "mem_limit": "8G",
        "cpu_limit": 4,
        "default_url": "/lab",
        environment: { COURSE: "ml" },
      },
    },
  ]);
  assert.deepEqual(at(values, "custom.onehubProfileGroups"), {
    large: ["staff"],
  });
  assert.match(
    (at(values, "hub.extraConfig") as Record<string, string>)[
      "onehub-profile-groups.py"
    ]!,
    /c\.KubeSpawner\.profile_list = _onehub_profile_list/,
  );
  assert.deepEqual(at(values, "hub.config.Spawner.group_overrides"), {
    "onehub-limits-1-memory-000": {
      groups: ["tas"],
      "spawner_override": { "mem_limit": "4G" },
    },
    "onehub-limits-1-memory-001": {
      groups: ["staff"],
      "spawner_override": { "mem_limit": "8G" },
    },
    "onehub-limits-2-cpu-000": {
      groups: ["tas"],
      "spawner_override": { "cpu_limit": 2 },
    },
    "onehub-limits-2-cpu-001": {
      groups: ["staff"],
      "spawner_override": { "cpu_limit": 4 },
    },
  });
  assert.deepEqual(s.storage, {
    type: "dynamic",
    capacity: "10Gi",
    homeMountPath: "/home/jovyan",
  });
  assert.deepEqual(at(s, "lifecycleHooks.postStart.exec.command"), [
    "sh",
    "-c",
    `gitpuller 'https://git.school.example/course.git' 'main' "\${HOME:-/home/jovyan}"/'course' || true`,
  ]);
});

Deno.test("the class hub's culler, announcement and what did not move", () => {
  const { values, notes } = run(CLASS_HUB, CLASS_DB);
  assert.deepEqual(values.cull, {
    enabled: true,
    users: true,
    adminUsers: false,
    removeNamedServers: false,
    timeout: 1800,
    every: 120,
    concurrency: 3,
    maxAge: 86400,
  });
  assert.equal(
    at(values, "hub.templateVars.announcement"),
    "Exam on &lt;Friday&gt; &amp; bring a pen",
  );
  const todo = notes.filter((n) => n.topic === "todo").map((n) => n.text);
  assert.match(todo[0]!, /^Home directories do not move/);
  assert.ok(todo.some((t) => /API tokens cannot move.*ada \(2\)/.test(t)));
  assert.ok(todo.some((t) => /3 share\(s\)/.test(t)));
  assert.ok(todo.some((t) => /HTTPS: onehub served plain HTTP/.test(t)));
  const moved = notes.filter((n) => n.topic === "moved").map((n) => n.text);
  assert.ok(
    moved.some((t) =>
      /nbgitpuller link: https:\/\/hub\.school\.example\/hub\/user-redirect\/git-pull\?repo=https%3A%2F%2Fgit\.school\.example%2Fcourse\.git&branch=main&targetpath=course&urlpath=lab%2Ftree%2Fcourse/
        .test(t)
    ),
  );
});

Deno.test("the admin page's announcement wins over the config's", () => {
  const { values } = run(CLASS_HUB, {
    ...CLASS_DB,
    announcement: "Lab closed",
  });
  assert.equal(at(values, "hub.templateVars.announcement"), "Lab closed");
});

Deno.test("without the discovery document the endpoints are placeholders to fill in", () => {
  const { values, notes } = run(CLASS_HUB, CLASS_DB, { discovery: null });
  assertValid(values);
  assert.match(
    at(values, "hub.config.GenericOAuthenticator.authorize_url") as string,
    /^REPLACE-ME: authorization_endpoint of https:\/\/login\.school\.example\/realms\/school\/\.well-known\/openid-configuration$/,
  );
  assert.equal(
    notes.filter((n) => n.topic === "fill" && /discovery document/.test(n.text))
      .length,
    2,
  );
});

Deno.test("a PAM hub: a placeholder authenticator that stops the hub, and what to choose", async () => {
  const pam: RawConfig = {
    users: { admin: ["root-admin"], allowed: ["alice"] },
    limits: { memory: "2G" },
  };
  const result = run(pam, {
    ...EMPTY_DB,
    users: [{ name: "alice", admin: false }, { name: "yes", admin: false }],
  });
  const { values, notes, comments } = result;
  assertValid(values);
  assert.equal(
    at(values, "hub.config.JupyterHub.authenticator_class"),
    CHOOSE_AUTHENTICATOR,
  );
  assert.deepEqual(at(values, "hub.config.Authenticator"), {
    "allowed_users": ["alice", "yes"],
    "admin_users": ["root-admin"],
    "allow_all": false,
    "allow_existing_users": true,
  });
  assert.deepEqual(at(values, "singleuser.memory"), { limit: "2G" });
  assert.equal(at(values, "hub.config.GenericOAuthenticator"), undefined);
  const fill = notes.filter((n) => n.topic === "fill").map((n) => n.text);
  assert.equal(fill.length, 1);
  assert.match(fill[0]!, /PAM has no meaning on Kubernetes/);
  assert.match(fill[0]!, /NativeAuthenticator/);
  assert.deepEqual(comments[0]!.path, [
    "hub",
    "config",
    "JupyterHub",
    "authenticator_class",
  ]);
  const source = {
    configPath: "/etc/onehub/config.yaml",
    dbPath: null,
    at: new Date("2027-01-04T09:00:00Z"),
    includeSecrets: false,
  };
  const yaml = await renderValuesYaml(result, source);
  assert.deepEqual(parse(yaml), values, "values.yaml reads back as the values");
  // Quoted for Helm's YAML 1.1 parser, which reads a bare yes as true.
  assert.match(yaml, /\n\s+- "yes"\n/);
  assert.deepEqual(parse(yaml, { version: "1.1" }), values);
  assert.match(
    yaml,
    /# onehub signed users in with Linux passwords \(PAM\)[^\n]*\n\s*# choose an authenticator[^\n]*\n\s*authenticator_class: REPLACE-ME/,
  );
  const md = renderMigrationMd(result, source);
  assert.match(
    md,
    /## 1\. Fill in before installing\n\n- `hub\.config\.JupyterHub\.authenticator_class`/,
  );
  assert.match(
    md,
    /helm upgrade --cleanup-on-fail --install onehub jupyterhub\/jupyterhub/,
  );
  assert.match(md, /--version 4\.4\.0 --values values\.yaml/);
});

Deno.test("dummy auth, a hub without a database, and the chart defaults it keeps", () => {
  const { values } = run({ auth: { type: "dummy" } }, EMPTY_DB);
  assertValid(values);
  assert.equal(
    at(values, "hub.config.JupyterHub.authenticator_class"),
    "dummy",
  );
  assert.equal(at(values, "hub.config.Authenticator.allow_all"), true);
  assert.equal(at(values, "hub.loadRoles"), undefined);
  assert.equal(at(values, "hub.config.JupyterHub.load_groups"), undefined);
  assert.equal(at(values, "singleuser.profileList"), undefined);
});

Deno.test("provider groups that decide sign-in: manage_groups, and no load_groups", () => {
  const hub: RawConfig = {
    ...CLASS_HUB,
    auth: {
      type: "oauth",
      oauth: {
        ...(CLASS_HUB.auth as { oauth: RawConfig }).oauth,
        "allowed_groups": ["students", "staff"],
        "admin_groups": ["staff"],
        "groups_claim": "roles",
      },
    },
  };
  const { values, notes } = run(hub, CLASS_DB);
  assertValid(values);
  const g = at(values, "hub.config.GenericOAuthenticator") as Record<
    string,
    unknown
  >;
  assert.equal(g["manage_groups"], true);
  assert.equal(g["auth_state_groups_key"], "oauth_user.roles");
  assert.deepEqual(g["allowed_groups"], ["students", "staff"]);
  assert.deepEqual(g["admin_groups"], ["staff"]);
  assert.equal(at(values, "hub.config.JupyterHub.load_groups"), undefined);
  // The groups decide: the database's users are not allowed by name.
  assert.equal(at(values, "hub.config.Authenticator.allowed_users"), undefined);
  assert.ok(notes.some((n) => /rules out `load_groups`/.test(n.text)));
});

Deno.test("GitHub, GitLab and Google presets map to their oauthenticator classes", () => {
  const oauth = (o: RawConfig): RawConfig => ({
    auth: {
      type: "oauth",
      oauth: { "client_id": "id", "client_secret": "s", ...o },
    },
  });
  const gh = run(
    oauth({
      preset: "github",
      "allowed_groups": ["school", "school:teachers"],
      "github_url": "https://github.school.example",
      "github_api_url": "https://github.school.example/api/v3",
    }),
    EMPTY_DB,
  ).values;
  assertValid(gh);
  assert.equal(at(gh, "hub.config.JupyterHub.authenticator_class"), "github");
  assert.deepEqual(
    at(gh, "hub.config.GitHubOAuthenticator.allowed_organizations"),
    [
      "school",
      "school:teachers",
    ],
  );
  assert.equal(
    at(gh, "hub.config.GitHubOAuthenticator.github_url"),
    "https://github.school.example",
  );
  const gl = run(
    oauth({ preset: "gitlab", "allowed_groups": ["school/teachers"] }),
    EMPTY_DB,
  ).values;
  assertValid(gl);
  assert.equal(at(gl, "hub.config.JupyterHub.authenticator_class"), "gitlab");
  assert.deepEqual(
    at(gl, "hub.config.GitLabOAuthenticator.allowed_gitlab_groups"),
    [
      "school/teachers",
    ],
  );
  assert.equal(at(gl, "hub.config.GitLabOAuthenticator.gitlab_url"), undefined);
  const go = run(
    oauth({ preset: "google", "allowed_domains": ["school.example"] }),
    EMPTY_DB,
  ).values;
  assertValid(go);
  assert.equal(at(go, "hub.config.JupyterHub.authenticator_class"), "google");
  assert.deepEqual(at(go, "hub.config.GoogleOAuthenticator.hosted_domain"), [
    "school.example",
  ]);
  assert.equal(at(go, "hub.config.GoogleOAuthenticator.strip_domain"), false);
  assert.equal(
    at(go, "hub.config.GoogleOAuthenticator.username_claim"),
    "email",
  );
});

Deno.test("HTTPS: Let's Encrypt and certificate files map to proxy.https; subdomain_host carries over", () => {
  const le = run({
    "public_url": "https://hub.school.example",
    https: {
      enabled: true,
      letsencrypt: {
        email: "it@school.example",
        domains: ["hub.school.example"],
      },
    },
  }, EMPTY_DB).values;
  assertValid(le);
  assert.deepEqual(at(le, "proxy.https"), {
    enabled: true,
    type: "letsencrypt",
    hosts: ["hub.school.example"],
    letsencrypt: { contactEmail: "it@school.example" },
  });
  const files = run({
    "public_url": "https://hub.school.example",
    "subdomain_host": "https://hub.school.example",
    https: {
      enabled: true,
      tls: { cert: "/etc/ssl/hub.pem", key: "/etc/ssl/hub.key" },
    },
  }, EMPTY_DB);
  assertValid(files.values);
  assert.deepEqual(at(files.values, "proxy.https"), {
    enabled: true,
    type: "secret",
    hosts: ["hub.school.example"],
    secret: { name: "onehub-tls", key: "tls.key", crt: "tls.crt" },
  });
  assert.equal(
    at(files.values, "hub.config.JupyterHub.subdomain_host"),
    "https://hub.school.example",
  );
  assert.ok(files.notes.some((n) =>
    n.topic === "fill" &&
    n.text.includes(
      "kubectl create secret tls onehub-tls --cert=/etc/ssl/hub.pem --key=/etc/ssl/hub.key",
    )
  ));
});

Deno.test("course files from a directory, and named servers", () => {
  const { values, notes } = run({
    "course_files": { source: "/srv/course" },
    spawner: { "named_servers": true, "named_server_limit": 3 },
  }, EMPTY_DB);
  assertValid(values);
  assert.equal(at(values, "singleuser.lifecycleHooks"), undefined);
  assert.ok(
    notes.some((n) => n.topic === "todo" && /\/srv\/course/.test(n.text)),
  );
  assert.equal(at(values, "hub.allowNamedServers"), true);
  assert.equal(at(values, "hub.namedServerLimitPerUser"), 3);
});
