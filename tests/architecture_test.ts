/**
 * Enforces the one-way dependency rule of docs/architecture.md by reading
 * every .ts file's imports:
 * - proxy/ imports nothing from hub/, spawners/, templates/;
 * - spawners/ imports nothing from hub/, proxy/, templates/;
 * - templates/ imports nothing from hub/, proxy/, spawners/;
 * - hub/ reaches proxy/, spawners/, templates/ only through their mod.ts;
 * - inside hub/, a layer never imports a higher layer, and the L3 siblings
 *   (api/, pages/, oauth_provider/) never import each other;
 * - nothing but main.ts and hub/cli/ itself imports hub/cli/;
 * - only hub/db/servers.ts (and the migrations) query the `servers` table,
 *   and no code outside hub/db/ writes SQL (kysely) at all;
 * - no inline script, style or event handler in templates/ or hub/.
 */
import assert from "node:assert/strict";
import { dirname, join, relative, resolve } from "node:path";
import { fromFileUrl } from "./_helpers/paths.ts";

const ROOT = resolve(dirname(fromFileUrl(import.meta.url)), "..");

async function* walk(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) yield* walk(path);
    else if (entry.name.endsWith(".ts")) yield path;
  }
}

const IMPORT =
  /(?:import|export)\s[^;]*?from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;

/** Relative imports of a file, as repo-relative paths. */
async function importsOf(file: string): Promise<string[]> {
  const text = await Deno.readTextFile(file);
  const out: string[] = [];
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2]!;
    if (spec.startsWith(".")) {
      out.push(relative(ROOT, resolve(dirname(file), spec)));
    }
  }
  return out;
}

/** The pure modules of hub/ (layer 0). */
const L0 = new Set(
  [
    "config/mod.ts",
    "config/file.ts",
    "config/schema.ts",
    "config/edit.ts",
    "config/derived.ts",
    "config/types.ts",
    "csp.ts",
    "errors.ts",
    "observe/log.ts",
    "rbac/scopes.ts",
    "rbac/roles.ts",
    "secrets.ts",
    "next_url.ts",
    "servers/single_user_env.ts",
    "version.ts",
    "net.ts",
    "servers/urls.ts",
    "concurrency.ts",
    // Pure: checks `services.list` for config.ts.
    "services/spec.ts",
    // Pure: checks `roles` and `groups` for config.ts.
    "rbac/access_spec.ts",
    // Pure: profiles and group limits, and a spawn's resolution.
    "servers/profiles.ts",
  ].map((f) => `hub/${f}`),
);

/** Layer of a hub/ file (L0 pure … L5 cli). */
export function hubLayer(path: string): number {
  if (path.startsWith("hub/cli/")) return 5;
  if (path === "hub/mod.ts" || path === "hub/app.ts") return 4;
  if (/^hub\/(middleware|api|pages|oauth_provider)\//.test(path)) return 3;
  if (path.startsWith("hub/db/")) return 1;
  if (L0.has(path) || path.startsWith("hub/config/keys/")) return 0; // the key table's sections
  return 2; // auth/ and the services at the top of hub/ (routes.ts, servers.ts, …)
}

function l3Group(path: string): string | null {
  return /^hub\/(api|pages|oauth_provider)\//.exec(path)?.[1] ?? null;
}

/** The rule a single import breaks, or null. */
export function violation(from: string, to: string): string | null {
  const top = (p: string) => p.split("/")[0]!;
  const [a, b] = [top(from), top(to)];
  if (
    b === "hub" && to.startsWith("hub/cli/") && !from.startsWith("hub/cli/") &&
    from !== "main.ts"
  ) {
    return "only main.ts imports hub/cli";
  }
  if (a === "tests" || a === "bench" || from === "main.ts") return null;
  const foreign: Record<string, string[]> = {
    proxy: ["hub", "spawners", "templates"],
    spawners: ["hub", "proxy", "templates"],
    templates: ["hub", "proxy", "spawners"],
  };
  if (foreign[a]?.includes(b)) return `${a}/ must not import ${b}/`;
  if (
    a === "hub" && ["proxy", "spawners", "templates"].includes(b) &&
    !to.endsWith(`${b}/mod.ts`)
  ) {
    return `hub/ imports ${b}/ only through ${b}/mod.ts`;
  }
  if (a === "hub" && b === "hub") {
    if (hubLayer(to) > hubLayer(from)) {
      return `layer L${hubLayer(from)} must not import layer L${hubLayer(to)}`;
    }
    const [ga, gb] = [l3Group(from), l3Group(to)];
    if (ga && gb && ga !== gb) {
      return `hub/${ga}/ must not import its sibling hub/${gb}/`;
    }
  }
  return null;
}

Deno.test("violation() flags each forbidden import kind", async (t) => {
  const rows: Array<[string, string, boolean]> = [
    ["proxy/mod.ts", "hub/errors.ts", true],
    ["spawners/mod.ts", "proxy/mod.ts", true],
    ["templates/login.ts", "hub/config/mod.ts", true],
    ["hub/mod.ts", "proxy/route_table.ts", true],
    ["hub/mod.ts", "proxy/mod.ts", false],
    ["hub/db/users.ts", "hub/auth/identity.ts", true],
    ["hub/api/users.ts", "hub/pages/login.ts", true],
    ["hub/api/users.ts", "hub/middleware/identity.ts", false],
    ["hub/auth/identity.ts", "hub/cli/mod.ts", true],
    ["main.ts", "hub/cli/mod.ts", false],
    ["tests/hub/x_test.ts", "proxy/headers.ts", false],
  ];
  for (const [from, to, bad] of rows) {
    await t.step(
      `${from} -> ${to}`,
      () => assert.equal(violation(from, to) !== null, bad),
    );
  }
});

Deno.test("every import in the repository follows the one-way dependency rule", async () => {
  const problems: string[] = [];
  for (const dir of ["hub", "proxy", "spawners", "templates"]) {
    try {
      await Deno.stat(join(ROOT, dir));
    } catch {
      continue;
    }
    for await (const file of walk(join(ROOT, dir))) {
      const from = relative(ROOT, file);
      for (const to of await importsOf(file)) {
        const why = violation(from, to);
        if (why) problems.push(`${from} -> ${to}: ${why}`);
      }
    }
  }
  for (const to of await importsOf(join(ROOT, "main.ts"))) {
    const why = violation("main.ts", to);
    if (why) problems.push(`main.ts -> ${to}: ${why}`);
  }
  assert.deepEqual(problems, []);
});

/** A kysely query naming the `servers` table (`selectFrom("servers")`, `updateTable("servers as s")`…). */
const SERVERS_QUERY =
  /\b(?:selectFrom|updateTable|insertInto|deleteFrom|replaceInto|innerJoin|leftJoin)\(\s*["']servers(?:\s+as\s+\w+)?["']/;

/** Files that may query `servers` directly: its query module and the migrations that made it. */
function mayQueryServers(path: string): boolean {
  return path === "hub/db/servers.ts" || path.startsWith("hub/db/migrations/");
}

Deno.test("SERVERS_QUERY spots each kysely form that names the table", () => {
  for (
    const code of [
      'db.selectFrom("servers")',
      "db.updateTable('servers')",
      'db.insertInto("servers")',
      'db.deleteFrom("servers as s")',
      'q.innerJoin("servers", "servers.user_id", "users.id")',
    ]
  ) assert.match(code, SERVERS_QUERY, code);
  assert.doesNotMatch('needs("servers")', SERVERS_QUERY);
});

Deno.test("only hub/db/servers.ts queries the servers table", async () => {
  const problems: string[] = [];
  for (const dir of ["hub", "proxy", "spawners", "templates"]) {
    for await (const file of walk(join(ROOT, dir))) {
      const path = relative(ROOT, file);
      if (mayQueryServers(path)) continue;
      const lines = (await Deno.readTextFile(file)).split("\n");
      lines.forEach((line, i) => {
        if (SERVERS_QUERY.test(line)) {
          problems.push(`${path}:${i + 1}: ${line.trim()}`);
        }
      });
    }
  }
  assert.deepEqual(problems, [], "use the functions of hub/db/servers.ts");
});

/** A kysely query of any table, or kysely itself. */
const ANY_QUERY =
  /\b(?:selectFrom|updateTable|insertInto|deleteFrom|replaceInto)\(|from\s+["']kysely["']|\bsql`/;

Deno.test("SQL lives in hub/db/ only: every table has its query module there", async () => {
  const problems: string[] = [];
  for (const dir of ["hub", "proxy", "spawners", "templates"]) {
    for await (const file of walk(join(ROOT, dir))) {
      const path = relative(ROOT, file);
      if (path.startsWith("hub/db/")) continue;
      const lines = (await Deno.readTextFile(file)).split("\n");
      lines.forEach((line, i) => {
        if (ANY_QUERY.test(line)) {
          problems.push(`${path}:${i + 1}: ${line.trim()}`);
        }
      });
    }
  }
  assert.deepEqual(
    problems,
    [],
    "add a function to the table's hub/db/ module",
  );
});

/** A `<script>` without `src` that is not a JSON data block, an inline style or a `style=` attribute. */
const INLINE_CODE =
  /<script(?![^>]*\bsrc=)(?![^>]*type="application\/json")[^>]*>|<style\b|\sstyle="|\son[a-z]+="/;

Deno.test("INLINE_CODE spots inline scripts, styles and handlers but not linked scripts or data", () => {
  for (
    const bad of [
      "<script>",
      '<script type="module">',
      "<style>",
      '<p style="x">',
      '<a onclick="f()">',
    ]
  ) {
    assert.match(bad, INLINE_CODE, bad);
  }
  for (
    const good of [
      '<script type="module" src="/a.js">',
      '<script id="d" type="application/json">',
    ]
  ) {
    assert.doesNotMatch(good, INLINE_CODE, good);
  }
});

Deno.test("templates hold no inline script or style: browser code lives in templates/client/", async () => {
  const problems: string[] = [];
  for (const dir of ["templates", "hub"]) {
    for await (const file of walk(join(ROOT, dir))) {
      const path = relative(ROOT, file);
      if (path.startsWith("templates/client/")) continue;
      const lines = (await Deno.readTextFile(file)).split("\n");
      lines.forEach((line, i) => {
        if (INLINE_CODE.test(line)) {
          problems.push(`${path}:${i + 1}: ${line.trim()}`);
        }
      });
    }
  }
  assert.deepEqual(problems, []);
});
