import assert from "node:assert/strict";
import {
  BUILTIN_ROLES,
  ownerScopes,
  ROLE_NAME_PATTERN,
  RoleError,
  userRoleNames,
} from "../../../hub/rbac/roles.ts";
import {
  type Owner,
  scopesForResponse,
  validateScopes,
} from "../../../hub/rbac/scopes.ts";
import { words } from "../../_helpers/words.ts";

const ALICE: Owner = { kind: "user", name: "alice" };
const CULL: Owner = { kind: "service", name: "cull" };

/** `GET /hub/api/user` for an admin on 3.0 (JupyterHub's RBAC docs). */
const ADMIN_3_0 = words(`
  access:servers access:services admin-ui admin:auth_state admin:groups
  admin:server_state admin:servers admin:users delete:groups delete:servers
  delete:users groups list:groups list:services list:users proxy read:groups
  read:groups:name read:hub read:metrics read:roles read:roles:groups
  read:roles:services read:roles:users read:servers read:services
  read:services:name read:tokens read:users read:users:activity
  read:users:groups read:users:name servers shutdown tokens users
  users:activity
`);

/** What 5.x adds to the admin list: `admin:services` and the share scopes. */
const ADMIN_5_X_ADDITIONS = words(`
  admin:services shares read:shares users:shares read:users:shares
  groups:shares read:groups:shares
`);

const ALICE_SELF_5X = words(`
  access:servers!user=alice delete:servers!user=alice
  read:servers!user=alice read:shares!user=alice read:tokens!user=alice
  read:users!user=alice read:users:activity!user=alice
  read:users:groups!user=alice read:users:name!user=alice
  read:users:shares!user=alice servers!user=alice tokens!user=alice
  users:activity!user=alice users:shares!user=alice
`);

Deno.test("BUILTIN_ROLES", async (t) => {
  const rows: [keyof typeof BUILTIN_ROLES, string[]][] = [
    ["user", ["self"]],
    ["server", ["users:activity!user", "access:servers!server"]],
    ["token", ["inherit"]],
    [
      "admin",
      words(`
      admin-ui admin:users admin:servers admin:services tokens
      admin:groups list:services read:services read:hub proxy shutdown
      access:services access:servers read:roles read:metrics shares
    `),
    ],
  ];
  for (const [name, scopes] of rows) {
    await t.step(`BUILTIN_ROLES.${name} holds the 5.x scopes`, () => {
      assert.deepEqual([...BUILTIN_ROLES[name].scopes], scopes);
    });
  }
  await t.step("BUILTIN_ROLES hold only valid scopes", () => {
    for (const role of Object.values(BUILTIN_ROLES)) {
      validateScopes(role.scopes);
    }
  });
});

Deno.test("ROLE_NAME_PATTERN", async (t) => {
  const rows: [string, boolean][] = [
    ["jupyterhub-idle-culler-role", true],
    ["abc", true],
    ["a.b~c_d-1", true],
    ["a".repeat(255), true],
    ["ab", false],
    ["a".repeat(256), false],
    ["Admin", false],
    ["1abc", false],
    ["abc-", false],
    ["ab c", false],
  ];
  for (const [name, ok] of rows) {
    const shown = name.length > 30 ? `${name.length} letters` : `'${name}'`;
    await t.step(
      `ROLE_NAME_PATTERN ${ok ? "accepts" : "rejects"} ${shown}`,
      () => {
        assert.equal(ROLE_NAME_PATTERN.test(name), ok);
      },
    );
  }
});

Deno.test("userRoleNames()", async (t) => {
  await t.step("userRoleNames() gives every user the user role", () => {
    assert.deepEqual(userRoleNames(false), ["user"]);
  });
  await t.step("userRoleNames() adds the admin role for admins", () => {
    assert.deepEqual(userRoleNames(true), ["user", "admin"]);
  });
});

Deno.test("ownerScopes()", async (t) => {
  await t.step("ownerScopes() gives a user the expanded self scopes", () => {
    const got = ownerScopes(ALICE, { isAdmin: false });
    assert.deepEqual(scopesForResponse(got), ALICE_SELF_5X);
  });
  await t.step(
    "ownerScopes() gives an admin the 3.0 list plus 5.x additions",
    () => {
      const got = ownerScopes(ALICE, { isAdmin: true });
      assert.deepEqual(
        scopesForResponse(got),
        [...ADMIN_3_0, ...ADMIN_5_X_ADDITIONS].sort(),
      );
    },
  );
  await t.step("ownerScopes() gives an admin service the admin scopes", () => {
    const got = ownerScopes(CULL, { isAdmin: true });
    assert.deepEqual(
      scopesForResponse(got),
      [...ADMIN_3_0, ...ADMIN_5_X_ADDITIONS].sort(),
    );
  });
  await t.step("ownerScopes() gives a plain service nothing", () => {
    assert.equal(ownerScopes(CULL, { isAdmin: false }).size, 0);
  });
  await t.step("ownerScopes() adds the scopes of extra roles", () => {
    const culler = {
      description: "Cull idle servers",
      scopes: [
        "list:users",
        "read:users:activity",
        "read:servers",
        "delete:servers",
      ],
    };
    const got = ownerScopes(CULL, {
      isAdmin: false,
      extraRoles: ["jupyterhub-idle-culler-role"],
      roles: { "jupyterhub-idle-culler-role": culler },
    });
    assert.deepEqual(scopesForResponse(got), [
      "delete:servers",
      "list:users",
      "read:servers",
      "read:users:activity",
      "read:users:name",
    ]);
  });
  await t.step("ownerScopes() uses a redefined user role", () => {
    const got = ownerScopes(ALICE, {
      isAdmin: false,
      roles: {
        user: {
          description: "Users who may share",
          scopes: [
            "self",
            "shares!user",
            "read:users:name",
            "read:groups:name",
          ],
        },
      },
    });
    assert.ok(got.has("shares!user=alice"));
    assert.ok(got.has("groups:shares!user=alice"));
    assert.ok(got.has("read:users:name"));
    assert.ok(!got.has("read:users:name!user=alice"));
  });
  await t.step("ownerScopes() throws RoleError for an undefined role", () => {
    assert.throws(
      () => ownerScopes(ALICE, { isAdmin: false, extraRoles: ["nope"] }),
      { name: "RoleError", message: /^Role 'nope' does not exist/ },
    );
    assert.throws(
      () => ownerScopes(ALICE, { isAdmin: false, extraRoles: ["nope"] }),
      RoleError,
    );
  });
});
