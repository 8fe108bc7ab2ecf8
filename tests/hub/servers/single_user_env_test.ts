import assert from "node:assert/strict";
import {
  clientIdFor,
  escapeName,
  pythonJsonList,
  quote,
  singleUserEnv,
  type SingleUserEnvInput,
} from "../../../hub/servers/single_user_env.ts";

const BASE: SingleUserEnvInput = {
  user: "alice",
  serverName: "",
  apiToken: "e5681fccd4314b94ab15416c044e03e7",
  hubApiUrl: "http://127.0.0.1:8081/hub/api",
  baseUrl: "/",
  publicUrl: "",
  ip: "127.0.0.1",
  port: 47213,
  unixUser: { name: "alice", home: "/home/alice", shell: "/bin/bash" },
};

Deno.test("singleUserEnv: the complete environment of alice's default server", () => {
  assert.deepEqual(singleUserEnv(BASE), {
    JUPYTERHUB_API_TOKEN: "e5681fccd4314b94ab15416c044e03e7",
    JPY_API_TOKEN: "e5681fccd4314b94ab15416c044e03e7",
    JUPYTERHUB_CLIENT_ID: "jupyterhub-user-alice",
    JUPYTERHUB_COOKIE_HOST_PREFIX_ENABLED: "0",
    JUPYTERHUB_HOST: "",
    JUPYTERHUB_OAUTH_CALLBACK_URL: "/user/alice/oauth_callback",
    JUPYTERHUB_OAUTH_ACCESS_SCOPES:
      '["access:servers!server=alice/", "access:servers!user=alice"]',
    JUPYTERHUB_OAUTH_SCOPES:
      '["access:servers!server=alice/", "access:servers!user=alice"]',
    JUPYTERHUB_OAUTH_CLIENT_ALLOWED_SCOPES: "[]",
    JUPYTERHUB_USER: "alice",
    JUPYTERHUB_SERVER_NAME: "",
    JUPYTERHUB_API_URL: "http://127.0.0.1:8081/hub/api",
    JUPYTERHUB_ACTIVITY_URL:
      "http://127.0.0.1:8081/hub/api/users/alice/activity",
    JUPYTERHUB_BASE_URL: "/",
    JUPYTERHUB_SERVICE_PREFIX: "/user/alice/",
    JUPYTERHUB_SERVICE_URL: "http://127.0.0.1:47213/user/alice/",
    JUPYTERHUB_PUBLIC_URL: "",
    USER: "alice",
    HOME: "/home/alice",
    SHELL: "/bin/bash",
    PATH: "/usr/local/bin:/usr/bin:/bin",
    LANG: "C.UTF-8",
  });
});

Deno.test("singleUserEnv: table of users, servers, base_url and public_url", async (t) => {
  type Row = [string, Partial<SingleUserEnvInput>, Record<string, string>];
  const rows: Row[] = [
    ["named server", { serverName: "gpu" }, {
      JUPYTERHUB_CLIENT_ID: "jupyterhub-user-alice-gpu",
      JUPYTERHUB_SERVER_NAME: "gpu",
      JUPYTERHUB_SERVICE_PREFIX: "/user/alice/gpu/",
      JUPYTERHUB_OAUTH_CALLBACK_URL: "/user/alice/gpu/oauth_callback",
      JUPYTERHUB_SERVICE_URL: "http://127.0.0.1:47213/user/alice/gpu/",
      JUPYTERHUB_OAUTH_ACCESS_SCOPES:
        '["access:servers!server=alice/gpu", "access:servers!user=alice"]',
      JUPYTERHUB_ACTIVITY_URL:
        "http://127.0.0.1:8081/hub/api/users/alice/activity",
    }],
    ["user a@b.c", { user: "a@b.c" }, {
      JUPYTERHUB_CLIENT_ID: "jupyterhub-user-a%40b.c",
      JUPYTERHUB_USER: "a@b.c",
      JUPYTERHUB_SERVICE_PREFIX: "/user/a@b.c/",
      JUPYTERHUB_OAUTH_CALLBACK_URL: "/user/a@b.c/oauth_callback",
      JUPYTERHUB_OAUTH_ACCESS_SCOPES:
        '["access:servers!server=a@b.c/", "access:servers!user=a@b.c"]',
      JUPYTERHUB_ACTIVITY_URL:
        "http://127.0.0.1:8081/hub/api/users/a@b.c/activity",
    }],
    ["base_url /jupyter/", {
      baseUrl: "/jupyter/",
      hubApiUrl: "http://127.0.0.1:8081/jupyter/hub/api",
    }, {
      JUPYTERHUB_BASE_URL: "/jupyter/",
      JUPYTERHUB_SERVICE_PREFIX: "/jupyter/user/alice/",
      JUPYTERHUB_OAUTH_CALLBACK_URL: "/jupyter/user/alice/oauth_callback",
      JUPYTERHUB_SERVICE_URL: "http://127.0.0.1:47213/jupyter/user/alice/",
      JUPYTERHUB_API_URL: "http://127.0.0.1:8081/jupyter/hub/api",
      JUPYTERHUB_ACTIVITY_URL:
        "http://127.0.0.1:8081/jupyter/hub/api/users/alice/activity",
      JUPYTERHUB_PUBLIC_URL: "",
    }],
    ["public_url set", { publicUrl: "https://hub.example.org" }, {
      JUPYTERHUB_HOST: "https://hub.example.org",
      JUPYTERHUB_PUBLIC_URL: "https://hub.example.org/user/alice/",
      JUPYTERHUB_PUBLIC_HUB_URL: "https://hub.example.org/hub/",
    }],
    ["public_url, base_url and named server together", {
      publicUrl: "https://hub.example.org",
      baseUrl: "/jupyter/",
      serverName: "gpu",
    }, {
      JUPYTERHUB_PUBLIC_URL: "https://hub.example.org/jupyter/user/alice/gpu/",
      JUPYTERHUB_PUBLIC_HUB_URL: "https://hub.example.org/jupyter/hub/",
      JUPYTERHUB_CLIENT_ID: "jupyterhub-user-alice-gpu",
    }],
    ["default_url, PATH and LANG given", {
      defaultUrl: "/lab",
      path: "/opt/tljh/user/bin:/usr/bin",
      lang: "de_DE.UTF-8",
    }, {
      JUPYTERHUB_DEFAULT_URL: "/lab",
      PATH: "/opt/tljh/user/bin:/usr/bin",
      LANG: "de_DE.UTF-8",
    }],
    ["IPv6 bind address", { ip: "::1" }, {
      JUPYTERHUB_SERVICE_URL: "http://[::1]:47213/user/alice/",
    }],
  ];
  for (const [name, input, expected] of rows) {
    await t.step(name, () => {
      const env = singleUserEnv({ ...BASE, ...input });
      for (const [key, value] of Object.entries(expected)) {
        assert.equal(env[key], value, key);
      }
    });
  }
});

Deno.test("singleUserEnv: PUBLIC_HUB_URL and DEFAULT_URL only when configured", () => {
  const env = singleUserEnv(BASE);
  assert.equal("JUPYTERHUB_PUBLIC_HUB_URL" in env, false);
  assert.equal("JUPYTERHUB_DEFAULT_URL" in env, false);
  assert.equal(env.JUPYTERHUB_PUBLIC_URL, "");
});

Deno.test("singleUserEnv: extra is applied last and overrides anything", () => {
  const env = singleUserEnv({
    ...BASE,
    extra: {
      JUPYTERHUB_API_URL: "http://10.0.0.1:8081/hub/api",
      PATH: "/custom/bin",
      MY_VAR: "1",
    },
  });
  assert.equal(env.JUPYTERHUB_API_URL, "http://10.0.0.1:8081/hub/api");
  assert.equal(env.PATH, "/custom/bin");
  assert.equal(env.MY_VAR, "1");
  // derived values were computed from the input, not from extra
  assert.equal(
    env.JUPYTERHUB_ACTIVITY_URL,
    "http://127.0.0.1:8081/hub/api/users/alice/activity",
  );
});

Deno.test("singleUserEnv: nothing beyond the contract's variables; the only secret is the server token", () => {
  const env = singleUserEnv({
    ...BASE,
    publicUrl: "https://hub.example.org",
    defaultUrl: "/lab",
  });
  const allowed = new Set([
    "JUPYTERHUB_API_TOKEN",
    "JPY_API_TOKEN",
    "JUPYTERHUB_CLIENT_ID",
    "JUPYTERHUB_COOKIE_HOST_PREFIX_ENABLED",
    "JUPYTERHUB_HOST",
    "JUPYTERHUB_OAUTH_CALLBACK_URL",
    "JUPYTERHUB_OAUTH_ACCESS_SCOPES",
    "JUPYTERHUB_OAUTH_SCOPES",
    "JUPYTERHUB_OAUTH_CLIENT_ALLOWED_SCOPES",
    "JUPYTERHUB_USER",
    "JUPYTERHUB_SERVER_NAME",
    "JUPYTERHUB_API_URL",
    "JUPYTERHUB_ACTIVITY_URL",
    "JUPYTERHUB_BASE_URL",
    "JUPYTERHUB_SERVICE_PREFIX",
    "JUPYTERHUB_SERVICE_URL",
    "JUPYTERHUB_PUBLIC_URL",
    "JUPYTERHUB_PUBLIC_HUB_URL",
    "JUPYTERHUB_DEFAULT_URL",
    "USER",
    "HOME",
    "SHELL",
    "PATH",
    "LANG",
  ]);
  assert.deepEqual(Object.keys(env).filter((k) => !allowed.has(k)), []);
  assert.equal(Object.keys(env).length, allowed.size);
  for (const value of Object.values(env)) assert.equal(typeof value, "string");
  assert.equal(
    Object.values(env).filter((v) => v.includes(BASE.apiToken)).length,
    2,
  );
});

Deno.test("quote() matches Python's urllib.parse.quote", async (t) => {
  const rows: Array<[string, string | undefined, string]> = [
    ["alice", undefined, "alice"],
    ["a@b.c", undefined, "a%40b.c"],
    ["a@b.c", "@~", "a@b.c"],
    ["x y/z", undefined, "x%20y/z"],
    ["a!'()*~ é/", "@~", "a%21%27%28%29%2A~%20%C3%A9%2F"],
    ["-_.~", "", "-_.~"],
    ["100%", undefined, "100%25"],
    ["日本", undefined, "%E6%97%A5%E6%9C%AC"],
    ["😀", undefined, "%F0%9F%98%80"],
  ];
  for (const [text, safe, expected] of rows) {
    await t.step(`${text} safe=${safe ?? "/"}`, () => {
      assert.equal(
        safe === undefined ? quote(text) : quote(text, safe),
        expected,
      );
    });
  }
  assert.equal(escapeName("a b@c~"), "a%20b@c~");
});

Deno.test("clientIdFor() names server clients like JupyterHub", () => {
  assert.equal(clientIdFor("alice", ""), "jupyterhub-user-alice");
  assert.equal(clientIdFor("alice", "gpu"), "jupyterhub-user-alice-gpu");
  assert.equal(clientIdFor("a@b.c", ""), "jupyterhub-user-a%40b.c");
  assert.equal(clientIdFor("a b", "x y"), "jupyterhub-user-a%20b-x%20y");
});

Deno.test("pythonJsonList() writes like json.dumps", () => {
  assert.equal(pythonJsonList([]), "[]");
  assert.equal(pythonJsonList(["a", "b"]), '["a", "b"]');
  assert.equal(pythonJsonList(['q"\\']), '["q\\"\\\\"]');
  assert.equal(pythonJsonList(["é\x7f/\n"]), '["\\u00e9\\u007f/\\n"]');
  assert.equal(pythonJsonList(["😀"]), '["\\ud83d\\ude00"]');
});

Deno.test("singleUserEnv: JupyterHub's Spawner.get_env order: env_keep first, then JUPYTERHUB_*, limits and flags, then environment; USER/HOME/SHELL last", () => {
  const env = singleUserEnv({
    ...BASE,
    kept: {
      VIRTUAL_ENV: "/opt/venv",
      PATH: "/opt/venv/bin:/usr/bin",
      JUPYTERHUB_USER: "kept-loses",
    },
    limits: { memoryBytes: 2 * 1024 ** 3, cpu: 1.5 },
    rootDir: "/srv/class/alice",
    debug: true,
    disableUserConfig: true,
    extra: { COURSE: "ml", VIRTUAL_ENV: "/opt/other", USER: "extra-loses" },
  });
  assert.equal(
    env.PATH,
    "/opt/venv/bin:/usr/bin",
    "a kept PATH wins the default",
  );
  assert.equal(env.JUPYTERHUB_USER, "alice");
  assert.equal(env.MEM_LIMIT, String(2 * 1024 ** 3));
  assert.equal(env.CPU_LIMIT, "1.5");
  assert.equal(env.JUPYTERHUB_ROOT_DIR, "/srv/class/alice");
  assert.equal(env.JUPYTERHUB_DEBUG, "1");
  assert.equal(env.JUPYTERHUB_DISABLE_USER_CONFIG, "1");
  assert.equal(env.COURSE, "ml");
  assert.equal(env.VIRTUAL_ENV, "/opt/other", "environment over env_keep");
  assert.equal(env.USER, "alice", "user_env comes after environment");
  assert.equal(env.LANG, "C.UTF-8");
  const plain = singleUserEnv({ ...BASE, limits: {}, debug: false });
  for (
    const name of [
      "MEM_LIMIT",
      "CPU_LIMIT",
      "JUPYTERHUB_ROOT_DIR",
      "JUPYTERHUB_DEBUG",
      "JUPYTERHUB_DISABLE_USER_CONFIG",
    ]
  ) assert.equal(name in plain, false, name);
});
