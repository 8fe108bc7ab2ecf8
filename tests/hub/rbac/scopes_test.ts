import assert from "node:assert/strict";
import {
  checkScopes,
  expandScopes,
  type GroupLookup,
  hasScope,
  identifyScopes,
  intersectScopes,
  type Owner,
  parseScopes,
  reduceScopes,
  type Resource,
  SCOPE_TABLE,
  scopeDocMarkdown,
  ScopeError,
  scopesForResponse,
  validateScopes,
} from "../../../hub/rbac/scopes.ts";
import { words } from "../../_helpers/words.ts";

const ALICE: Owner = { kind: "user", name: "alice" };
const CULL: Owner = { kind: "service", name: "cull" };

/** alice is in `students`; everyone else is in no group. */
const groupsOf: GroupLookup = (name) => name === "alice" ? ["students"] : [];

const ALICE_SELF_5X = [
  "read:users!user=alice",
  "read:users:name!user=alice",
  "read:users:groups!user=alice",
  "users:shares!user=alice",
  "read:users:shares!user=alice",
  "read:shares!user=alice",
  "users:activity!user=alice",
  "read:users:activity!user=alice",
  "servers!user=alice",
  "delete:servers!user=alice",
  "read:servers!user=alice",
  "tokens!user=alice",
  "read:tokens!user=alice",
  "access:servers!user=alice",
];

function sorted(set: Iterable<string>): string[] {
  return [...set].sort();
}

Deno.test("SCOPE_TABLE", async (t) => {
  const catalogue = words(`
    (no_scope) self inherit admin-ui admin:users admin:auth_state users
    delete:users list:users read:users read:users:name read:users:groups
    read:users:activity users:activity read:roles read:roles:users
    read:roles:services read:roles:groups admin:servers
    admin:server_state servers read:servers delete:servers
    access:servers tokens read:tokens admin:groups groups list:groups
    read:groups read:groups:name delete:groups admin:services
    list:services read:services read:services:name access:services
    read:hub proxy shutdown read:metrics shares read:shares users:shares
    read:users:shares groups:shares read:groups:shares
  `);
  await t.step("SCOPE_TABLE holds exactly the 5.x catalogue", () => {
    assert.deepEqual(Object.keys(SCOPE_TABLE).sort(), catalogue.sort());
  });
  await t.step("SCOPE_TABLE names only defined subscopes", () => {
    for (const [name, d] of Object.entries(SCOPE_TABLE)) {
      for (const sub of d.subscopes) {
        assert.ok(Object.hasOwn(SCOPE_TABLE, sub), `${name} → ${sub}`);
      }
    }
  });
  await t.step("SCOPE_TABLE gives every scope a description", () => {
    for (const [name, d] of Object.entries(SCOPE_TABLE)) {
      assert.ok(d.description.length > 0, name);
    }
  });
});

Deno.test("validateScopes()", async (t) => {
  const valid: [string, string[]][] = [
    ["every catalogue scope", Object.keys(SCOPE_TABLE)],
    ["concrete filters of each kind", [
      "read:users!user=alice",
      "servers!server=alice/",
      "servers!server=alice/gpu",
      "list:users!group=students",
      "access:services!service=cull",
    ]],
    ["bare !user, !server and !service", [
      "servers!user",
      "access:servers!server",
      "access:services!service",
    ]],
    ["a filter kind the scope does not use", ["read:hub!user=alice"]],
  ];
  for (const [what, scopes] of valid) {
    await t.step(`validateScopes() accepts ${what}`, () => {
      validateScopes(scopes);
    });
  }

  const invalid: [string, string[], RegExp][] = [
    [
      "an unknown scope",
      ["read:users", "read:user"],
      /^Scope 'read:user' does not exist$/,
    ],
    [
      "the draft scope 'all'",
      ["all"],
      /^Draft scope 'all' is now called 'inherit'$/,
    ],
    [
      "a custom scope",
      ["custom:x:read"],
      /^Scope 'custom:x:read' does not exist/,
    ],
    [
      "an unknown filter kind",
      ["read:users!foo=bar"],
      /^Scope filter '!foo=bar' in scope 'read:users!foo=bar' does not exist: use/,
    ],
    [
      "a bare !group filter",
      ["read:users!group"],
      /^Scope filter '!group' in scope 'read:users!group' does not exist/,
    ],
    [
      "an empty filter value",
      ["read:users!user="],
      /^Scope filter '!user=' in scope 'read:users!user=' has an empty value: name the user/,
    ],
  ];
  for (const [what, scopes, message] of invalid) {
    await t.step(`validateScopes() rejects ${what}`, () => {
      assert.throws(() => validateScopes(scopes), (e: unknown) => {
        assert.ok(e instanceof ScopeError);
        assert.match(e.message, message);
        return true;
      });
    });
  }

  await t.step("validateScopes() names the subject in the message", () => {
    assert.throws(
      () => validateScopes(["nope"], { subject: "role 'culler'" }),
      {
        name: "ScopeError",
        message: "Scope 'nope' for role 'culler' does not exist",
      },
    );
  });
});

Deno.test("expandScopes()", async (t) => {
  const warnings: string[] = [];
  const warn = (m: string) => warnings.push(m);
  const rows: {
    name: string;
    raw: string[];
    ctx?: Parameters<typeof expandScopes>[1];
    expected: string[];
    warns?: boolean;
  }[] = [
    {
      name: "expandScopes() adds subscopes with the filter re-attached",
      raw: ["admin:users!user=alice"],
      expected: [
        "admin:users",
        "admin:auth_state",
        "users",
        "read:users",
        "list:users",
        "users:activity",
        "read:users:name",
        "read:users:groups",
        "read:users:activity",
        "read:roles:users",
        "delete:users",
      ].map((s) => `${s}!user=alice`),
    },
    {
      name: "expandScopes() adds unfiltered subscopes of an unfiltered scope",
      raw: ["servers"],
      expected: [
        "servers",
        "read:servers",
        "delete:servers",
        "read:users:name",
      ],
    },
    {
      name: "expandScopes() drops read:users:name under a !server filter",
      raw: ["read:servers!server=alice/"],
      expected: ["read:servers!server=alice/"],
    },
    {
      name: "expandScopes() keeps the other subscopes under a !server filter",
      raw: ["servers!server=alice/gpu"],
      expected: ["servers", "read:servers", "delete:servers"].map((s) =>
        `${s}!server=alice/gpu`
      ),
    },
    {
      name: "expandScopes() drops read:users:shares from shares!server",
      raw: ["shares!server=alice/"],
      expected: [
        "shares",
        "access:servers",
        "read:shares",
        "users:shares",
        "groups:shares",
        "read:groups:shares",
      ].map((s) => `${s}!server=alice/`),
    },
    {
      name: "expandScopes() replaces a bare !user with the user owner",
      raw: ["servers!user"],
      ctx: { owner: ALICE },
      expected: ["servers", "read:servers", "delete:servers", "read:users:name"]
        .map((s) => `${s}!user=alice`),
    },
    {
      name: "expandScopes() drops a bare !user when the owner is a service",
      raw: ["users:activity!user", "read:hub"],
      ctx: { owner: CULL },
      expected: ["read:hub"],
      warns: true,
    },
    {
      name: "expandScopes() replaces a bare !service with the service owner",
      raw: ["access:services!service"],
      ctx: { owner: CULL },
      expected: ["access:services!service=cull"],
    },
    {
      name: "expandScopes() prefers the client service for a bare !service",
      raw: ["access:services!service"],
      ctx: { owner: CULL, clientService: "grader" },
      expected: ["access:services!service=grader"],
    },
    {
      name: "expandScopes() replaces a bare !server with the client's server",
      raw: ["access:servers!server"],
      ctx: { owner: ALICE, clientServer: "alice/" },
      expected: ["access:servers!server=alice/"],
    },
    {
      name: "expandScopes() drops a bare !server without a client server",
      raw: ["access:servers!server"],
      ctx: { owner: ALICE },
      expected: [],
      warns: true,
    },
    {
      name: "expandScopes() expands self to the 5.x list for a user",
      raw: ["self"],
      ctx: { owner: ALICE },
      expected: ALICE_SELF_5X,
    },
    {
      name: "expandScopes() expands self to nothing for a service",
      raw: ["self"],
      ctx: { owner: CULL },
      expected: [],
      warns: true,
    },
    {
      name: "expandScopes() passes inherit through",
      raw: ["inherit"],
      ctx: { owner: ALICE },
      expected: ["inherit"],
    },
    {
      name: "expandScopes() reduces filtered scopes under an unfiltered one",
      raw: ["read:users", "read:users!user=alice", "read:users:name!group=x"],
      expected: [
        "read:users",
        "read:users:name",
        "read:users:groups",
        "read:users:activity",
      ],
    },
    {
      name: "expandScopes() keeps filters of several kinds on one base",
      raw: ["delete:servers!user=bob", "delete:servers!server=alice/gpu"],
      expected: ["delete:servers!user=bob", "delete:servers!server=alice/gpu"],
    },
  ];
  for (const row of rows) {
    await t.step(row.name, () => {
      warnings.length = 0;
      const got = expandScopes(row.raw, { ...row.ctx, warn });
      assert.deepEqual(sorted(got), sorted(row.expected));
      assert.equal(warnings.length > 0, row.warns ?? false);
    });
  }
  await t.step("expandScopes() throws ScopeError on an invalid scope", () => {
    assert.throws(() => expandScopes(["all"]), ScopeError);
  });
  await t.step("expandScopes() of self for alice has exactly 14 scopes", () => {
    assert.equal(expandScopes(["self"], { owner: ALICE }).size, 14);
  });
});

Deno.test("identifyScopes()", async (t) => {
  const rows: [Owner, string[]][] = [
    [ALICE, ["read:users:name!user=alice", "read:users:groups!user=alice"]],
    [CULL, ["read:services:name!service=cull"]],
  ];
  for (const [owner, expected] of rows) {
    await t.step(`identifyScopes() names the ${owner.kind} itself`, () => {
      assert.deepEqual(sorted(identifyScopes(owner)), sorted(expected));
    });
  }
});

Deno.test("parseScopes()", async (t) => {
  await t.step("parseScopes() maps unfiltered bases to 'all'", () => {
    const parsed = parseScopes(["read:users", "read:users!user=bob"]);
    assert.equal(parsed.get("read:users"), "all");
  });
  await t.step("parseScopes() collects filter values per kind", () => {
    const parsed = parseScopes([
      "servers!user=alice",
      "servers!server=bob/gpu",
      "servers!server=bob/",
    ]);
    assert.deepEqual(parsed.get("servers"), {
      user: new Set(["alice"]),
      server: new Set(["bob/gpu", "bob/"]),
      group: new Set(),
      service: new Set(),
    });
  });
  await t.step("parseScopes() rejects an unexpanded bare filter", () => {
    assert.throws(() => parseScopes(["servers!user"]), ScopeError);
  });
  await t.step("reduceScopes() round-trips through parseScopes()", () => {
    assert.deepEqual(
      sorted(reduceScopes(["tokens!user=a", "tokens", "proxy!group=g"])),
      ["proxy!group=g", "tokens"],
    );
  });
});

Deno.test("hasScope()", async (t) => {
  const rows: {
    name: string;
    held: string[];
    scope: string;
    resource: Resource | undefined;
    expected: boolean;
  }[] = [
    {
      name: "grants a filtered scope when the unfiltered scope is held",
      held: ["servers"],
      scope: "servers",
      resource: { user: "bob" },
      expected: true,
    },
    {
      name: "grants a user whose name is in a user filter",
      held: ["read:users!user=alice"],
      scope: "read:users",
      resource: { user: "alice" },
      expected: true,
    },
    {
      name: "refuses a user not in the user filter",
      held: ["read:users!user=alice"],
      scope: "read:users",
      resource: { user: "bob" },
      expected: false,
    },
    {
      name: "grants a server named in a server filter",
      held: ["access:servers!server=alice/gpu"],
      scope: "access:servers",
      resource: { server: "alice/gpu" },
      expected: true,
    },
    {
      name: "refuses another server of the same user under a server filter",
      held: ["access:servers!server=alice/gpu"],
      scope: "access:servers",
      resource: { server: "alice/" },
      expected: false,
    },
    {
      name: "refuses the user under a server filter",
      held: ["access:servers!server=alice/"],
      scope: "access:servers",
      resource: { user: "alice" },
      expected: false,
    },
    {
      name: "grants a server when its owner is in a user filter",
      held: ["servers!user=alice"],
      scope: "servers",
      resource: { server: "alice/gpu" },
      expected: true,
    },
    {
      name: "refuses a server when another user is in the user filter",
      held: ["servers!user=bob"],
      scope: "servers",
      resource: { server: "alice/" },
      expected: false,
    },
    {
      name: "grants a user who is in a group filter",
      held: ["read:users!group=students"],
      scope: "read:users",
      resource: { user: "alice" },
      expected: true,
    },
    {
      name: "grants a server whose owner is in a group filter",
      held: ["servers!group=students"],
      scope: "servers",
      resource: { server: "alice/gpu" },
      expected: true,
    },
    {
      name: "refuses a user who is not in the group filter",
      held: ["read:users!group=students"],
      scope: "read:users",
      resource: { user: "bob" },
      expected: false,
    },
    {
      name: "grants a group named in a group filter",
      held: ["read:groups!group=students"],
      scope: "read:groups",
      resource: { group: "students" },
      expected: true,
    },
    {
      name: "refuses a group under a user filter",
      held: ["read:groups!user=alice"],
      scope: "read:groups",
      resource: { group: "students" },
      expected: false,
    },
    {
      name: "grants a service named in a service filter",
      held: ["access:services!service=cull"],
      scope: "access:services",
      resource: { service: "cull" },
      expected: true,
    },
    {
      name: "refuses another service",
      held: ["access:services!service=cull"],
      scope: "access:services",
      resource: { service: "grader" },
      expected: false,
    },
    {
      name: "grants a filtered scope without a resource (post-filter)",
      held: ["list:users!group=students"],
      scope: "list:users",
      resource: undefined,
      expected: true,
    },
    {
      name: "treats an empty resource as no resource",
      held: ["list:users!user=alice"],
      scope: "list:users",
      resource: {},
      expected: true,
    },
    {
      name: "refuses a scope not held at all",
      held: ["read:users"],
      scope: "servers",
      resource: undefined,
      expected: false,
    },
  ];
  for (const row of rows) {
    await t.step(`hasScope() ${row.name}`, () => {
      const parsed = parseScopes(row.held);
      const got = hasScope(parsed, {
        scope: row.scope,
        resource: row.resource,
        groupsOf,
      });
      assert.equal(got, row.expected);
    });
  }
  await t.step("hasScope() looks up groups only for group filters", () => {
    const noLookup: GroupLookup = () => {
      throw new Error("groups looked up");
    };
    const parsed = parseScopes(["servers!user=bob"]);
    assert.equal(
      hasScope(parsed, {
        scope: "servers",
        resource: { user: "alice" },
        groupsOf: noLookup,
      }),
      false,
    );
  });
});

Deno.test("checkScopes()", async (t) => {
  const rows: {
    name: string;
    held: string[];
    required: string[];
    resource: Resource | undefined;
    expected: ReturnType<typeof checkScopes>;
  }[] = [
    {
      name: "grants when one required scope covers the resource",
      held: ["read:users:name!user=alice"],
      required: ["read:users", "read:users:name"],
      resource: { user: "alice" },
      expected: "granted",
    },
    {
      name: "grants through a later scope when an earlier one is filtered",
      held: ["read:users!user=bob", "read:users:name"],
      required: ["read:users", "read:users:name"],
      resource: { user: "alice" },
      expected: "granted",
    },
    {
      name: "reports missing when no required scope is held",
      held: ["read:users!user=alice"],
      required: ["admin:users"],
      resource: { user: "alice" },
      expected: "missing",
    },
    {
      name: "reports filtered when a held scope does not cover the resource",
      held: ["read:users!user=bob"],
      required: ["read:users"],
      resource: { user: "alice" },
      expected: "filtered",
    },
    {
      name: "grants a filtered scope on a resource-less endpoint",
      held: ["list:users!group=students"],
      required: ["list:users"],
      resource: undefined,
      expected: "granted",
    },
    {
      name: "reports missing on a resource-less endpoint",
      held: ["read:users"],
      required: ["list:users"],
      resource: undefined,
      expected: "missing",
    },
  ];
  for (const row of rows) {
    await t.step(`checkScopes() ${row.name}`, () => {
      const parsed = parseScopes(row.held);
      const got = checkScopes(parsed, {
        required: row.required,
        resource: row.resource,
        groupsOf,
      });
      assert.equal(got, row.expected);
    });
  }
});

Deno.test("intersectScopes()", async (t) => {
  const rows: {
    name: string;
    token: string[];
    owner: string[];
    expected: string[];
  }[] = [
    {
      name: "keeps a token filter when the owner holds the scope unfiltered",
      token: ["servers!user=bob"],
      owner: ["servers"],
      expected: ["servers!user=bob"],
    },
    {
      name: "narrows an unfiltered token scope to the owner's filter",
      token: ["servers"],
      owner: ["servers!user=alice"],
      expected: ["servers!user=alice"],
    },
    {
      name: "keeps a token server filter under the owner's user filter",
      token: ["servers!server=alice/x"],
      owner: ["servers!user=alice"],
      expected: ["servers!server=alice/x"],
    },
    {
      name: "keeps the owner's server filter under a token user filter",
      token: ["access:servers!user=alice"],
      owner: ["access:servers!server=alice/"],
      expected: ["access:servers!server=alice/"],
    },
    {
      name: "keeps a token user filter under an owner group holding the user",
      token: ["read:users!user=alice"],
      owner: ["read:users!group=students"],
      expected: ["read:users!user=alice"],
    },
    {
      name: "drops a token user filter under an owner group without the user",
      token: ["read:users!user=bob"],
      owner: ["read:users!group=students"],
      expected: [],
    },
    {
      name:
        "keeps the owner's user filter under a token group holding the user",
      token: ["read:users!group=students"],
      owner: ["read:users!user=alice"],
      expected: ["read:users!user=alice"],
    },
    {
      name:
        "keeps a token server filter under an owner group holding its owner",
      token: ["servers!server=alice/gpu"],
      owner: ["servers!group=students"],
      expected: ["servers!server=alice/gpu"],
    },
    {
      name: "keeps a common group filter",
      token: ["read:users!group=students"],
      owner: ["read:users!group=students"],
      expected: ["read:users!group=students"],
    },
    {
      name: "drops a scope the owner does not hold",
      token: ["proxy", "read:hub"],
      owner: ["read:hub"],
      expected: ["read:hub"],
    },
    {
      name: "drops a filter for another user",
      token: ["servers!user=bob"],
      owner: ["servers!user=alice"],
      expected: [],
    },
  ];
  for (const row of rows) {
    await t.step(`intersectScopes() ${row.name}`, () => {
      const token = new Set(row.token);
      const got = intersectScopes(token, {
        owner: new Set(row.owner),
        groupsOf,
      });
      assert.deepEqual(sorted(got), sorted(row.expected));
    });
  }

  await t.step(
    "intersectScopes() yields the 5.x server token of JupyterHub's RBAC docs",
    () => {
      const token = expandScopes(
        [
          "users:activity!user",
          "access:servers!server",
          "access:servers!server=alice/", // the client's access scope
          ...identifyScopes(ALICE),
        ],
        { owner: ALICE, clientServer: "alice/" },
      );
      const owner = expandScopes(["self"], { owner: ALICE });
      assert.deepEqual(
        scopesForResponse(intersectScopes(token, { owner, groupsOf })),
        [
          "access:servers!server=alice/",
          "read:users:activity!user=alice",
          "read:users:groups!user=alice",
          "read:users:name!user=alice",
          "users:activity!user=alice",
        ],
      );
    },
  );
});

Deno.test("scopesForResponse()", async (t) => {
  await t.step("scopesForResponse() sorts the scopes", () => {
    assert.deepEqual(
      scopesForResponse(new Set(["users", "admin-ui", "read:users!user=a"])),
      ["admin-ui", "read:users!user=a", "users"],
    );
  });
});

Deno.test("scopeDocMarkdown()", async (t) => {
  const doc = scopeDocMarkdown();
  await t.step("scopeDocMarkdown() starts with a table header", () => {
    assert.match(doc, /^\| Scope \| Description \| Subscopes \|/);
  });
  await t.step("scopeDocMarkdown() has one row per scope", () => {
    const rows = doc.trimEnd().split("\n").slice(2);
    assert.equal(rows.length, Object.keys(SCOPE_TABLE).length);
  });
  await t.step("scopeDocMarkdown() lists subscopes", () => {
    assert.match(doc, /\| `read:servers` \| [^|]+ \| `read:users:name` \|/);
  });
});
