import assert from "node:assert/strict";
import {
  describeScopes,
  IDENTIFY_SCOPES,
  InvalidScopeError,
  requestedScopes,
  resolveRequestedScopes,
  serverAccessScope,
  userRawScopes,
} from "../../../hub/oauth_provider/scopes.ts";
import { clientTarget, withQuery } from "../../../hub/oauth_provider/_http.ts";
import { parseBasicAuth } from "../../../hub/oauth_provider/token.ts";

const REQUIRED = [...IDENTIFY_SCOPES, serverAccessScope("alice/")];
const alice = { kind: "user" as const, name: "alice" };

Deno.test("requestedScopes: defaults, identify, roles, refusals", async (t) => {
  await t.step("no scope parameter: allowed + required", () => {
    assert.deepEqual(
      [...requestedScopes(null, {
        allowed: ["access:servers!server=alice/"],
        required: REQUIRED,
      })]
        .sort(),
      [
        "access:servers!server=alice/",
        "read:users:groups!user",
        "read:users:name!user",
      ],
    );
  });
  await t.step("empty scope parameter behaves as absent", () => {
    assert.equal(
      requestedScopes("", { allowed: ["read:users"], required: REQUIRED }).has(
        "read:users",
      ),
      true,
    );
  });
  await t.step("identify is ignored", () => {
    assert.deepEqual(
      [...requestedScopes("identify", {
        allowed: ["read:users"],
        required: REQUIRED,
      })].sort(),
      [...REQUIRED].sort(),
    );
  });
  await t.step("role names are accepted when not scopes", () => {
    const got = requestedScopes("server", {
      allowed: ["users:activity!user", "access:servers!server"],
      required: REQUIRED,
    });
    assert.ok(got.has("users:activity!user"));
    assert.ok(got.has("access:servers!server"));
  });
  await t.step("unknown names are invalid_scope", () => {
    assert.throws(
      () => requestedScopes("nope", { allowed: [], required: REQUIRED }),
      InvalidScopeError,
    );
  });
  await t.step("scopes the client may not request are invalid_scope", () => {
    assert.throws(
      () =>
        requestedScopes("admin:users", {
          allowed: ["read:users"],
          required: REQUIRED,
        }),
      /not allowed for this client: admin:users/,
    );
  });
});

Deno.test("resolveRequestedScopes (JupyterHub's RBAC docs): raw first, then expanded", async (t) => {
  const ctx = { owner: alice, clientServer: "alice/", groupsOf: () => [] };
  const have = new Set([...userRawScopes(false), "inherit", ...REQUIRED]);
  await t.step("raw matches are kept verbatim", () => {
    const { allowed, disallowed } = resolveRequestedScopes(
      new Set(REQUIRED),
      { ...ctx, have },
    );
    assert.deepEqual([...allowed].sort(), [...REQUIRED].sort());
    assert.equal(disallowed.size, 0);
  });
  await t.step(
    "a server scope covered by access:servers!user=alice stays raw",
    () => {
      const { allowed } = resolveRequestedScopes(
        new Set(["access:servers!server=alice/gpu"]),
        { ...ctx, have: new Set(["self"]) },
      );
      assert.deepEqual([...allowed], ["access:servers!server=alice/gpu"]);
    },
  );
  await t.step("unheld scopes are dropped", () => {
    const { allowed, disallowed } = resolveRequestedScopes(
      new Set(["proxy", "access:servers!server=bob/"]),
      { ...ctx, have },
    );
    assert.deepEqual([...allowed], []);
    assert.deepEqual([...disallowed].sort(), [
      "access:servers!server=bob/",
      "proxy",
    ]);
  });
  await t.step("partly held: the held part, expanded", () => {
    const { allowed } = resolveRequestedScopes(
      new Set(["servers"]),
      { ...ctx, have: new Set(["self"]) },
    );
    assert.deepEqual([...allowed].sort(), [
      "delete:servers!user=alice",
      "read:servers!user=alice",
      "read:users:name!user=alice",
      "servers!user=alice",
    ]);
  });
  await t.step(
    "group grants narrow to the server (DB lookup through groupsOf)",
    () => {
      const { allowed } = resolveRequestedScopes(
        new Set(["access:servers!server=carol/"]),
        {
          have: new Set(["access:servers!group=course"]),
          owner: { kind: "user", name: "ta" },
          clientServer: "carol/",
          groupsOf: (name) => (name === "carol" ? ["course"] : []),
        },
      );
      assert.deepEqual([...allowed], ["access:servers!server=carol/"]);
    },
  );
  await t.step("admins hold access:servers on every server", () => {
    const { allowed } = resolveRequestedScopes(
      new Set(["access:servers!server=bob/"]),
      {
        have: userRawScopes(true),
        owner: { kind: "user", name: "root" },
        clientServer: "bob/",
        groupsOf: () => [],
      },
    );
    assert.deepEqual([...allowed], ["access:servers!server=bob/"]);
  });
});

Deno.test("describeScopes: lines for the consent page", () => {
  assert.deepEqual(
    describeScopes(REQUIRED, { required: REQUIRED, userName: "root" }),
    [{
      scope: null,
      description: "Identify the owner of the requesting entity.",
      filter: "",
    }],
  );
  const lines = describeScopes(
    [
      ...REQUIRED,
      "read:users!user",
      "servers!user=root",
      "read:users:name!group=g",
      "read:servers!server=alice/gpu",
      "read:hub",
    ],
    { required: REQUIRED, userName: "root" },
  );
  assert.deepEqual(lines.map((l) => [l.scope, l.filter]), [
    ["read:hub", ""],
    ["read:servers", "server alice/gpu"],
    ["read:users", "only you"],
    ["read:users:name", "users in group g"],
    ["servers", "only you"],
  ]);
  assert.equal(
    describeScopes(["inherit", "read:hub"], { required: [], userName: "x" })[0]!
      .scope,
    "inherit",
  );
});

Deno.test("clientTarget reads the server from the redirect URI and checks the client id", async (t) => {
  const rows: Array<[string, string, string, unknown]> = [
    ["jupyterhub-user-alice", "/user/alice/oauth_callback", "/", {
      user: "alice",
      server: "",
    }],
    ["jupyterhub-user-alice-gpu", "/user/alice/gpu/oauth_callback", "/", {
      user: "alice",
      server: "gpu",
    }],
    ["jupyterhub-user-a%40b.c", "/user/a@b.c/oauth_callback", "/", {
      user: "a@b.c",
      server: "",
    }],
    [
      "jupyterhub-user-alice",
      "/jupyter/user/alice/oauth_callback",
      "/jupyter/",
      {
        user: "alice",
        server: "",
      },
    ],
    [
      "jupyterhub-user-alice",
      "https://hub.example.org/user/alice/oauth_callback",
      "/",
      {
        user: "alice",
        server: "",
      },
    ],
    // "alice-gpu"'s default server is not alice's server "gpu"
    ["jupyterhub-user-alice-gpu", "/user/alice-gpu/oauth_callback", "/", {
      user: "alice-gpu",
      server: "",
    }],
    ["jupyterhub-user-alice", "/user/bob/oauth_callback", "/", undefined],
    ["jupyterhub-user-alice", "/user/alice/callback", "/", undefined],
    [
      "jupyterhub-user-alice",
      "/jupyter/user/alice/oauth_callback",
      "/",
      undefined,
    ],
    ["service-x", "/services/x/oauth_callback", "/", undefined],
  ];
  for (const [identifier, uri, base, expected] of rows) {
    await t.step(`${identifier} ${uri}`, () => {
      assert.deepEqual(
        clientTarget({ identifier, "redirect_uri": uri }, base),
        expected,
      );
    });
  }
});

Deno.test("withQuery appends to relative and absolute URIs", () => {
  assert.equal(
    withQuery("/cb", { code: "a b", state: "s" }),
    "/cb?code=a+b&state=s",
  );
  assert.equal(withQuery("/cb?x=1", { code: "c" }), "/cb?x=1&code=c");
  assert.equal(
    withQuery("https://h/cb#frag", { code: "c" }),
    "https://h/cb?code=c",
  );
});

Deno.test("parseBasicAuth decodes form-urlencoded id and secret", () => {
  const header = `Basic ${btoa("jupyterhub-user-a%2540b.c:s%3Acret")}`;
  assert.deepEqual(parseBasicAuth(header), {
    id: "jupyterhub-user-a%40b.c",
    secret: "s:cret",
    rawId: "jupyterhub-user-a%2540b.c",
  });
  assert.equal(parseBasicAuth("token abc"), null);
  assert.equal(parseBasicAuth(`Basic ${btoa("no-colon")}`), null);
  assert.equal(parseBasicAuth("Basic !!!"), null);
  assert.equal(parseBasicAuth(undefined), null);
});

Deno.test("userRawScopes() holds the scopes of every role a user has, their groups' included (JupyterHub: roles_to_scopes(get_roles_for(user))), never admin without the flag", () => {
  const roles = {
    teacher: { scopes: ["read:users!group=class", "servers!group=class"] },
  };
  const have = userRawScopes(false, {
    roles,
    assigned: ["teacher", "admin", "gone"],
  });
  assert.ok(have.has("servers!group=class"));
  assert.ok(have.has("read:users!group=class"));
  assert.ok(have.has("self"), "the user role");
  assert.ok(!have.has("admin:users"), "an assigned admin role gives nothing");
  // A teacher's OAuth client asking for one student's server is granted it.
  const { allowed, disallowed } = resolveRequestedScopes(
    new Set(["servers!user=stu"]),
    {
      have,
      owner: { kind: "user", name: "tim" },
      groupsOf: (name) => name === "stu" ? ["class"] : [],
    },
  );
  assert.deepEqual([...allowed], ["servers!user=stu"]);
  assert.equal(disallowed.size, 0);
});
