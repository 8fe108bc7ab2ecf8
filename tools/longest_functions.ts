/**
 * Lists the longest product functions (not tests or benchmarks), longest
 * first, measured and named as the lint rule `onehub/max-function-lines`
 * does. For a refactor's note or commit body: run it before and after.
 *
 * ```sh
 * deno run -A tools/longest_functions.ts               # top 40 of this checkout
 * deno run -A tools/longest_functions.ts 20 /tmp/old   # top 20 of another one
 * ```
 *
 * @module
 */

const PRODUCT = ["main.ts", "hub", "proxy", "spawners", "templates"];

/** One function: where it is, its name and its length in lines. */
export interface FunctionLength {
  path: string;
  name: string;
  lines: number;
}

interface LintJson {
  diagnostics: { filename: string; code: string; message: string }[];
}

/** Every function under the product folders of `root`, longest first. */
export async function functionLengths(root: string): Promise<FunctionLength[]> {
  const dir = await Deno.makeTempDir();
  try {
    const plugin = new URL("./lint/measure_plugin.ts", import.meta.url).href;
    await Deno.writeTextFile(
      `${dir}/deno.json`,
      JSON.stringify({
        lint: { plugins: [plugin], rules: { tags: [], include: [] } },
        exclude: ["templates/static/"],
      }),
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["lint", "--json", "--config", `${dir}/deno.json`, ...PRODUCT],
      cwd: root,
      stdout: "piped",
      stderr: "null",
    }).output();
    const report: LintJson = JSON.parse(new TextDecoder().decode(out.stdout));
    const prefix = `${Deno.realPathSync(root)}/`;
    return report.diagnostics
      .filter((d) => d.code === "measure/function-length")
      .map((d) => {
        const [lines = "0", ...name] = d.message.split(" ");
        const file = d.filename.replace(/^file:\/\//, "");
        return {
          path: file.startsWith(prefix) ? file.slice(prefix.length) : file,
          name: name.join(" "),
          lines: Number(lines),
        };
      })
      .filter((f) => !f.path.includes("/static/"))
      .sort((a, b) => b.lines - a.lines || a.path.localeCompare(b.path));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  const count = Number(Deno.args[0] ?? 40);
  const root = Deno.args[1] ?? new URL("../", import.meta.url).pathname;
  const all = await functionLengths(root);
  const rows = all.slice(0, count).map((f, i) =>
    `${String(i + 1).padStart(3)}. ${
      String(f.lines).padStart(4)
    }  ${f.path}:${f.name}\n`
  );
  await Deno.stdout.write(new TextEncoder().encode(rows.join("")));
}
