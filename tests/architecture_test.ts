/**
 * Enforces the one-way dependency rule of docs/architecture.md by reading
 * every .ts file's imports:
 * - proxy/ imports nothing from hub/, spawners/, templates/;
 * - spawners/ imports nothing from hub/, proxy/, templates/;
 * - templates/ imports nothing from hub/, proxy/, spawners/;
 * - hub/ reaches proxy/, spawners/, templates/ only through their mod.ts;
 * - inside hub/, every file has a layer (HUB_LAYERS: by folder, on purpose,
 *   never by default), a layer never imports a higher layer, and the L3
 *   siblings (api/, pages/, oauth_provider/) never import each other;
 * - no module imports itself through others (type imports included);
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
    const lineStart = text.lastIndexOf("\n", m.index) + 1;
    const line = text.slice(lineStart, m.index).trim();
    // An import inside a doc comment (an @example) is not an import.
    if (line.startsWith("*") || line.startsWith("//")) continue;
    const spec = m[1] ?? m[2]!;
    if (spec.startsWith(".")) {
      out.push(relative(ROOT, resolve(dirname(file), spec)));
    }
  }
  return out;
}

/**
 * The layer of every part of hub/, by folder or file (the longest prefix
 * that matches wins). Every hub/ file must match one: a new folder gets its
 * layer here, on purpose, not by default.
 * - L0 leaf modules: import no other layer (config schema, rbac, errors, …);
 * - L1 the database (`db/`);
 * - L2 services over the database (auth, servers, services, https, the
 *   config→database syncs, the event log);
 * - L3 the web layer (middleware, API, pages, the OAuth provider);
 * - L4 the app and the composition root (`app.ts`, `mod.ts`);
 * - L5 the command line (`cli/`).
 */
export const HUB_LAYERS: ReadonlyArray<
  readonly [prefix: string, layer: number]
> = [
  ["hub/concurrency.ts", 0],
  ["hub/csp.ts", 0],
  ["hub/errors.ts", 0],
  ["hub/net.ts", 0],
  ["hub/next_url.ts", 0],
  ["hub/priority.ts", 0],
  ["hub/secrets.ts", 0],
  ["hub/version.ts", 0],
  // The key table, its schema engine and the file: pure but for reading
  // and writing the config file itself.
  ["hub/config/", 0],
  // The config's two syncs into the database.
  ["hub/config/users.ts", 2],
  ["hub/config/access.ts", 2],
  ["hub/rbac/", 0],
  ["hub/observe/log.ts", 0],
  ["hub/observe/metrics.ts", 0],
  ["hub/observe/events.ts", 2],
  // Pure: where a server lives, its environment, profiles and limits.
  ["hub/servers/urls.ts", 0],
  ["hub/servers/single_user_env.ts", 0],
  ["hub/servers/profiles.ts", 0],
  ["hub/servers/", 2],
  // Pure: checks `services.list` for the config.
  ["hub/services/spec.ts", 0],
  ["hub/services/", 2],
  ["hub/db/", 1],
  ["hub/announcement.ts", 2],
  ["hub/auth/", 2],
  ["hub/https/", 2],
  // Moving a hub to or from JupyterHub (Zero to JupyterHub values, the REST
  // API): pure mappings, snapshots and writes of onehub's database.
  ["hub/migrate/", 2],
  ["hub/middleware/", 3],
  ["hub/api/", 3],
  ["hub/pages/", 3],
  ["hub/oauth_provider/", 3],
  ["hub/app.ts", 4],
  ["hub/mod.ts", 4],
  ["hub/cli/", 5],
];

/** Layer of a hub/ file (L0 leaf … L5 cli), or null when HUB_LAYERS names none. */
export function hubLayer(path: string): number | null {
  let best: readonly [string, number] | null = null;
  for (const entry of HUB_LAYERS) {
    const [prefix] = entry;
    const matches = prefix.endsWith("/")
      ? path.startsWith(prefix)
      : path === prefix;
    if (matches && (!best || prefix.length > best[0].length)) best = entry;
  }
  return best ? best[1] : null;
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
    const [la, lb] = [hubLayer(from), hubLayer(to)];
    if (la === null || lb === null) return "a hub/ file without a layer";
    if (lb > la) return `layer L${la} must not import layer L${lb}`;
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

/** The import graph of the product code: file → the files it imports. */
async function importGraph(): Promise<Map<string, string[]>> {
  const graph = new Map<string, string[]>();
  for (const dir of ["hub", "proxy", "spawners", "templates"]) {
    for await (const file of walk(join(ROOT, dir))) {
      graph.set(relative(ROOT, file), await importsOf(file));
    }
  }
  graph.set("main.ts", await importsOf(join(ROOT, "main.ts")));
  return graph;
}

/** The groups of files that import each other in a circle (Tarjan's strongly connected components of two or more). */
export function importCycles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const group: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      group.push(w);
    } while (w !== v);
    if (group.length > 1) cycles.push(group.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return cycles;
}

Deno.test("importCycles() finds a circle, also one through a third file, and passes a chain", () => {
  const graph = (edges: Record<string, string[]>) =>
    new Map(Object.entries(edges));
  assert.deepEqual(importCycles(graph({ a: ["b"], b: ["a"] })), [["a", "b"]]);
  assert.deepEqual(
    importCycles(graph({ a: ["b"], b: ["c"], c: ["a"], d: ["a"] })),
    [["a", "b", "c"]],
  );
  assert.deepEqual(importCycles(graph({ a: ["b"], b: ["c"], c: [] })), []);
});

Deno.test("no product module imports itself through others (type imports too: shared types go in a _types.ts)", async () => {
  assert.deepEqual(importCycles(await importGraph()), []);
});

Deno.test("every hub/ file has a layer in HUB_LAYERS", async () => {
  const missing: string[] = [];
  for await (const file of walk(join(ROOT, "hub"))) {
    const path = relative(ROOT, file);
    if (hubLayer(path) === null) missing.push(path);
  }
  assert.deepEqual(
    missing,
    [],
    "give the folder or file its layer in HUB_LAYERS",
  );
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
