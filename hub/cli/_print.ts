/**
 * The CLI's only way to write to the terminal (so `no-console` holds
 * everywhere else).
 *
 * @module
 */

const encoder = new TextEncoder();

/** Writes a line to stdout. */
export function printOut(text: string): void {
  Deno.stdout.writeSync(
    encoder.encode(text.endsWith("\n") ? text : text + "\n"),
  );
}

/** Writes a line to stderr. */
export function printErr(text: string): void {
  Deno.stderr.writeSync(
    encoder.encode(text.endsWith("\n") ? text : text + "\n"),
  );
}
