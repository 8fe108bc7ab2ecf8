/**
 * tools/lint/onehub_plugin.ts: `deno lint` with the plugin reports a
 * function over the limit by name, and lets one at the limit through.
 */
import assert from "node:assert/strict";
import { fromFileUrl } from "../_helpers/paths.ts";

const PLUGIN = fromFileUrl(
  new URL("../../tools/lint/onehub_plugin.ts", import.meta.url),
);

function functionOf(name: string, lines: number): string {
  const body = Array.from(
    { length: lines - 2 },
    (_, i) => `  const v${i} = ${i};`,
  );
  return [`export function ${name}(): void {`, ...body, "}"].join("\n");
}

async function lint(source: string): Promise<string> {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/deno.json`,
      JSON.stringify({
        lint: { plugins: [PLUGIN], rules: { exclude: ["no-unused-vars"] } },
      }),
    );
    await Deno.writeTextFile(`${dir}/mod.ts`, source);
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["lint", "--json", "--config", `${dir}/deno.json`, `${dir}/mod.ts`],
      stdout: "piped",
      stderr: "piped",
    }).output();
    return new TextDecoder().decode(out.stdout);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("max-function-lines names a function longer than 60 lines and passes one of 60", async () => {
  const report = JSON.parse(
    await lint(
      `${functionOf("tooLong", 61)}\n${functionOf("justRight", 60)}\n`,
    ),
  );
  const messages = report.diagnostics
    .filter((d: { code: string }) => d.code === "onehub/max-function-lines")
    .map((d: { message: string }) => d.message);
  assert.deepEqual(messages, ["tooLong is 61 lines (at most 60)"]);
});

Deno.test("max-positional-params names an exported function with three, lets db/c lead, an options object trail, and private ones be", async () => {
  const report = JSON.parse(
    await lint(
      [
        "export function three(a: number, b: number, c: number): void {}",
        "export function two(a: number, b: number): void {}",
        "export function query(db: object, a: number, b: number): void {}",
        "export const handler = (c: object, a: number, b: number): void => {};",
        "function inner(a: number, b: number, c: number): void {}",
        "export function named(a: number, b: number, options = {}): void {}",
        "export function typed(a: number, b: number, o: { x?: 1 }): void {}",
        "interface PutOptions { x?: 1 }",
        "export function put(a: number, b: number, o?: PutOptions): void {}",
        "export function four(a: number, b: number, c: number, options = {}): void {}",
        "export class Box {",
        "  put(a: number, b: number, c: number): void {}",
        "  #hidden(a: number, b: number, c: number): void {}",
        "}",
        "inner(1, 2, 3);",
      ].join("\n"),
    ),
  );
  const messages = report.diagnostics
    .filter((d: { code: string }) => d.code === "onehub/max-positional-params")
    .map((d: { message: string }) => d.message);
  assert.deepEqual(messages, [
    "three takes 3 positional parameters (at most 2)",
    "four takes 3 positional parameters (at most 2)",
    "put takes 3 positional parameters (at most 2)",
  ]);
});
