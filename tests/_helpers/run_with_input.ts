/**
 * `runWithInput(command, { args, input })`: runs a program with `input` on
 * its standard input and returns its output (code, stdout, stderr), for
 * tests that check our output with another tool (openssl, Python) or feed
 * a helper process.
 *
 * @module
 */

/** Runs `command` with `args`, writes `input` to its stdin, closes it, and waits for the output. */
export async function runWithInput(
  command: string,
  options: { args: string[]; input: string },
): Promise<Deno.CommandOutput> {
  const child = new Deno.Command(command, {
    args: options.args,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(options.input));
  await writer.close();
  return await child.output();
}
