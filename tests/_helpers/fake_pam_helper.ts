/**
 * Stands in for the `pam-helper` subprocess in unit tests of
 * hub/auth/pam/mod.ts. It reads the request from stdin (except in `hang`) and
 * answers with canned output chosen by its first argument:
 *
 * - `answer <json> <exit>`: print `<json>` as one line, exit with `<exit>`
 * - `record <file>`: write `{ request, env, args }` to `<file>`, answer ok
 * - `hang <pidfile>`: write its pid to `<pidfile>` and never answer
 * - `noise`: print non-JSON lines, then a valid answer on the last line
 * - `crash`: print to stderr only and exit 3
 *
 * Run it with `deno run -A fake_pam_helper.ts <mode> …`.
 *
 * @module
 */
const [mode, first, second] = Deno.args;
const encoder = new TextEncoder();

function writeLine(stream: { writeSync(p: Uint8Array): number }, text: string) {
  stream.writeSync(encoder.encode(text + "\n"));
}

if (mode === "hang") {
  await Deno.writeTextFile(first ?? "", String(Deno.pid));
  setInterval(() => {}, 60_000);
} else {
  const input = await new Response(Deno.stdin.readable).text();
  if (mode === "answer") {
    writeLine(Deno.stdout, first ?? "");
    Deno.exit(Number(second ?? "0"));
  } else if (mode === "record") {
    await Deno.writeTextFile(
      first ?? "",
      JSON.stringify({
        request: JSON.parse(input),
        env: Deno.env.toObject(),
        cwd: Deno.cwd(),
      }),
    );
    writeLine(Deno.stdout, '{"ok":true}');
  } else if (mode === "noise") {
    writeLine(Deno.stdout, "Download https://example.invalid/module.ts");
    writeLine(Deno.stdout, "");
    writeLine(Deno.stdout, '{"ok":true}');
  } else if (mode === "crash") {
    writeLine(Deno.stderr, "error: Uncaught NotCapable: Requires ffi access");
    Deno.exit(3);
  } else {
    writeLine(Deno.stderr, `Unknown fake_pam_helper mode: ${mode}`);
    Deno.exit(4);
  }
}
