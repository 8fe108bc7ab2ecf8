/**
 * One query module per table (CONTRIBUTING.md, docs/architecture.md): in
 * hub/db/*.ts only a table's owner names it in `selectFrom`, `insertInto`,
 * `updateTable`, `deleteFrom` or `replaceInto`. Joins (`innerJoin`,
 * `leftJoin`) may name any table; the migrations are exempt. Every table a
 * migration creates must have an owner here, so a new table cannot go
 * unowned.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { repoPath } from "../../_helpers/paths.ts";

/** Each table and the one module (hub/db/<module>) that may query it. */
const OWNERS: Readonly<Record<string, string>> = {
  "api_tokens": "tokens.ts",
  events: "events.ts",
  groups: "groups.ts",
  "user_group_map": "groups.ts",
  "hub_state": "hub_state.ts",
  "login_sessions": "sessions.ts",
  "oauth_clients": "oauth.ts",
  "oauth_codes": "oauth.ts",
  roles: "roles.ts",
  "role_assignments": "roles.ts",
  routes: "routes.ts",
  servers: "servers.ts",
  services: "services.ts",
  shares: "shares.ts",
  "share_codes": "shares.ts",
  users: "users.ts",
};

/**
 * A kysely call that queries a table: the call and its first argument, a
 * quoted name (`"users as u"` too) or an array of them, across lines.
 */
const TABLE_QUERY =
  /\b(?:selectFrom|insertInto|updateTable|deleteFrom|replaceInto)\(\s*(\[[^\]]*\]|"[^"]*"|'[^']*'|`[^`]*`)/g;

/** The tables the kysely calls in `code` query, each as often as it is named. */
function tablesQueried(code: string): string[] {
  const out: string[] = [];
  for (const call of code.matchAll(TABLE_QUERY)) {
    for (const quoted of call[1]!.matchAll(/["'`]([^"'`]+)["'`]/g)) {
      out.push(quoted[1]!.trim().split(/\s+as\s+/)[0]!);
    }
  }
  return out;
}

const DB_DIR = repoPath("hub", "db");

async function filesIn(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile && e.name.endsWith(".ts")) out.push(e.name);
  }
  return out.sort();
}

Deno.test("TABLE_QUERY spots each kysely form that queries a table", () => {
  const code = [
    'db.selectFrom("users")',
    'trx.insertInto("groups").values({})',
    'db.updateTable("servers as s")',
    "db.deleteFrom('routes')",
    "db.replaceInto(`hub_state`)",
    'eb.selectFrom(\n  "user_group_map as m",\n)',
    'db.selectFrom(["shares as sh", "share_codes"])',
  ].join("\n");
  assert.deepEqual(tablesQueried(code), [
    "users",
    "groups",
    "servers",
    "routes",
    "hub_state",
    "user_group_map",
    "shares",
    "share_codes",
  ]);
  assert.deepEqual(
    tablesQueried(
      '.innerJoin("users as u", "u.id", "t.user_id").leftJoin("groups")',
    ),
    [],
  );
  assert.deepEqual(tablesQueried('needs("users"); selectFromX("users")'), []);
});

Deno.test("every table a migration creates has an owner module, and each owner exists", async () => {
  const created = new Set<string>();
  const migrations = join(DB_DIR, "migrations");
  for (const name of await filesIn(migrations)) {
    const text = await Deno.readTextFile(join(migrations, name));
    for (const m of text.matchAll(/createTable\(\s*["'`](\w+)["'`]/g)) {
      created.add(m[1]!);
    }
  }
  assert.ok(created.size > 0, "no createTable found in hub/db/migrations/");
  const unowned = [...created].filter((t) => !(t in OWNERS));
  assert.deepEqual(unowned, [], "add these tables to OWNERS with their module");
  assert.deepEqual(
    Object.keys(OWNERS).filter((t) => !created.has(t)),
    [],
    "OWNERS names tables no migration creates",
  );
  const modules = new Set(await filesIn(DB_DIR));
  for (const owner of new Set(Object.values(OWNERS))) {
    assert.ok(modules.has(owner), `hub/db/${owner} is missing`);
  }
});

Deno.test("each table is queried only by its owner module in hub/db/", async () => {
  const wrong: string[] = [];
  let seen = 0;
  for (const name of await filesIn(DB_DIR)) {
    const text = await Deno.readTextFile(join(DB_DIR, name));
    for (const table of tablesQueried(text)) {
      seen++;
      const owner = OWNERS[table];
      if (owner !== name) {
        wrong.push(
          `hub/db/${name} queries ${table}` +
            (owner
              ? ` (move it to hub/db/${owner})`
              : " (a table no one owns)"),
        );
      }
    }
  }
  assert.ok(seen > 0, "no kysely query found in hub/db/");
  assert.deepEqual(wrong, []);
});
