/**
 * What `deno compile` needs of the code (tools/compile.sh): nothing read
 * beside the script at run time, no test-only package in the binary's
 * module graph, and, where the runtime base can be had, a binary that runs.
 */
import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { REPO_ROOT } from "./_helpers/paths.ts";
import { printErr } from "../hub/cli/_print.ts";

async function* sources(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) yield* sources(path);
    else if (entry.name.endsWith(".ts")) yield path;
  }
}

/**
 * Where a file may locate itself: pam.ts finds main.ts beside hub/ to run
 * the PAM helper under `deno run` only (a compiled binary re-executes
 * itself; see pamHelperArgv).
 */
const ALLOWED = new Set(["hub/auth/pam/mod.ts"]);

Deno.test("the program reads no file beside its own source at run time (compile-safe)", async () => {
  const self = /import\.meta\.(url|dirname|filename)|Deno\.mainModule/;
  const offenders: string[] = [];
  const files = [join(REPO_ROOT, "main.ts")];
  for (const dir of ["hub", "proxy", "spawners", "templates"]) {
    for await (const f of sources(join(REPO_ROOT, dir))) files.push(f);
  }
  for (const file of files) {
    const rel = relative(REPO_ROOT, file);
    const code = (await Deno.readTextFile(file)).split("\n")
      .filter((l) => !/^\s*(\*|\/\/)/.test(l)).join("\n");
    if (self.test(code) && !ALLOWED.has(rel)) offenders.push(rel);
  }
  assert.deepEqual(offenders, []);
  const pam = await Deno.readTextFile(join(REPO_ROOT, "hub/auth/pam/mod.ts"));
  assert.match(
    pam,
    /if \(options\.standalone \?\? Deno\.build\.standalone\) \{\n\s+return \[execPath, "pam-helper"\];\n\s+\}\n\s+const main = fileURLToPath\(new URL\("\.\.\/\.\.\/\.\.\/main\.ts", import\.meta\.url\)\);/,
    "pam.ts locates main.ts only when not compiled",
  );
});

Deno.test("static assets are text imports in the module graph, which deno compile embeds", async () => {
  const imports: string[] = [];
  for await (const file of sources(join(REPO_ROOT, "templates"))) {
    const code = await Deno.readTextFile(file);
    for (
      const m of code.matchAll(
        /from\s+"([^"]+)"\s+with\s*\{\s*type:\s*"text"\s*\}/g,
      )
    ) {
      imports.push(relative(REPO_ROOT, join(file, "..", m[1]!)));
    }
  }
  assert.ok(imports.length > 0);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", join(REPO_ROOT, "main.ts")],
    stdout: "piped",
  }).output();
  const graph = new Set(
    (JSON.parse(new TextDecoder().decode(out.stdout)).modules as Array<
      { specifier: string }
    >)
      .map((m) => m.specifier),
  );
  for (const path of imports) {
    assert.ok(
      path.startsWith("templates/static/"),
      `${path}: text imports come from templates/static/`,
    );
    assert.ok(
      graph.has(`file://${join(REPO_ROOT, path)}`),
      `${path} is in main.ts's module graph`,
    );
  }
});

Deno.test("the binary's module graph holds no test-only package", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", join(REPO_ROOT, "main.ts")],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout));
  // The packages main.ts's graph reaches (npmPackages lists the whole
  // resolution of deno.json, test-only packages included).
  const npm = (info.modules as Array<{ npmPackage?: string }>)
    .map((m) => m.npmPackage).filter((p): p is string => p !== undefined);
  assert.ok(npm.some((p) => p.startsWith("hono@")), npm.join(", "));
  assert.deepEqual(npm.filter((p) => p.startsWith("playwright")), []);
  const locals = (info.modules as Array<{ specifier: string }>)
    .map((m) => m.specifier).filter((s) => s.startsWith("file:"))
    .map((s) => relative(REPO_ROOT, new URL(s).pathname));
  assert.deepEqual(locals.filter((s) => s.startsWith("tests/")), []);
});

Deno.test("the compiled binary runs its commands (when deno compile can run here)", async (t) => {
  const built = await new Deno.Command("bash", {
    args: [join(REPO_ROOT, "tools/compile.sh")],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (built.code !== 0) {
    // The reason line (deno may print a backtrace after its "error:" line).
    const lines = new TextDecoder().decode(built.stderr).trim().split("\n");
    const why = lines.find((l) => /cannot compile here|error/.test(l));
    printErr(`compile_test: binary not tested: ${why ?? lines.at(-1)}`);
    assert.ok(why, `compile.sh failed without saying why: ${lines.join("\n")}`);
    return;
  }
  const binary = join(REPO_ROOT, "dist/onehub");
  await t.step("version", async () => {
    const r = await new Deno.Command(binary, { args: ["version"] }).output();
    assert.equal(r.code, 0);
    assert.match(new TextDecoder().decode(r.stdout), /onehub/);
  });
  await t.step(
    "pam-helper answers a bad request as the helper does",
    async () => {
      const child = new Deno.Command(binary, {
        args: ["pam-helper"],
        stdin: "piped",
        stdout: "piped",
      }).spawn();
      const w = child.stdin.getWriter();
      await w.write(new TextEncoder().encode("not json\n"));
      await w.close();
      const r = await child.output();
      assert.equal(r.code, 2);
      assert.match(new TextDecoder().decode(r.stdout), /"stage":"setup"/);
    },
  );
});
