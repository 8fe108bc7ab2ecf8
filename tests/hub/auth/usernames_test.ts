import assert from "node:assert/strict";
import {
  type AllowRules,
  effectiveAllowRules,
  isAllowed,
  normalizeUsername,
  serverNameProblem,
  usernameProblem,
} from "../../../hub/auth/usernames.ts";

Deno.test("usernameProblem() accepts valid names and says why others are refused", async (t) => {
  const rows: Array<[boolean, string, string]> = [
    [true, "alice", ""],
    [true, "a.b-c_d@example.org", ""],
    [false, "", ""],
    [false, "a/b", ""],
    [false, " alice", ""],
    [false, "alice ", ""],
    [false, "..", ""],
    [false, ".", ""],
    [false, "a\u0000b", ""],
    [false, "x".repeat(10_000), ""],
    [true, "x".repeat(128), ""],
    [true, "alice", "^[a-z]+$"],
    [false, "alice1", "^[a-z]+$"],
  ];
  for (const [ok, name, pattern] of rows) {
    await t.step(
      `${JSON.stringify(name.slice(0, 20))} with ${JSON.stringify(pattern)}`,
      () => {
        const problem = usernameProblem(name, pattern);
        assert.equal(problem === null, ok, problem ?? "");
        if (!ok) assert.match(problem!, /^it /);
      },
    );
  }
});

Deno.test("normalizeUsername() lower-cases", () => {
  assert.equal(normalizeUsername("Alice"), "alice");
});

Deno.test("isAllowed() follows JupyterHub 5's allow rules", async (t) => {
  const base: AllowRules = {
    allowed: [],
    blocked: [],
    admin: [],
    allowAll: false,
    allowExisting: true,
  };
  const rows: Array<[string, Partial<AllowRules>, boolean, boolean]> = [
    ["nobody allowed without allow config", {}, false, false],
    ["allow_all lets anyone in", { allowAll: true }, false, true],
    [
      "blocked wins over allow_all",
      { allowAll: true, blocked: ["alice"] },
      false,
      false,
    ],
    ["allowed list", { allowed: ["alice"] }, false, true],
    ["admin list implies allowed", { admin: ["alice"] }, false, true],
    ["existing users with allow_existing", {}, true, true],
    [
      "existing users without allow_existing",
      { allowExisting: false },
      true,
      false,
    ],
    [
      "blocked beats allowed",
      { allowed: ["alice"], blocked: ["alice"] },
      false,
      false,
    ],
  ];
  for (const [label, rules, exists, expected] of rows) {
    await t.step(
      label,
      () =>
        assert.equal(
          isAllowed("alice", {
            rules: { ...base, ...rules },
            existsInDb: exists,
          }),
          expected,
        ),
    );
  }
});

Deno.test("effectiveAllowRules() lets everyone in with dummy auth and no allowed list", () => {
  const rules = {
    allowed: [],
    blocked: [],
    admin: [],
    allowAll: false,
    allowExisting: true,
  };
  assert.equal(effectiveAllowRules("dummy", rules).allowAll, true);
  assert.equal(effectiveAllowRules("pam", rules).allowAll, false);
  assert.equal(
    effectiveAllowRules("dummy", { ...rules, allowed: ["a"] }).allowAll,
    false,
  );
});

Deno.test("serverNameProblem() names the rule a server name breaks", async (t) => {
  const rows: Array<[string, string | null]> = [
    ["", null],
    ["gpu", null],
    ["my server", null],
    ["..", 'it is "." or ".."'],
    [".", 'it is "." or ".."'],
    ["a/b", 'it contains "/"'],
    ["a\u0000b", "it contains control characters"],
    ["a\u007fb", "it contains control characters"],
    [" gpu", "it starts or ends with whitespace"],
    ["x".repeat(256), "it is longer than 255 characters"],
  ];
  for (const [name, problem] of rows) {
    await t.step(JSON.stringify(name.slice(0, 20)), () => {
      assert.equal(serverNameProblem(name), problem);
    });
  }
});
