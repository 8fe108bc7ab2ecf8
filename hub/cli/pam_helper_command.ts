/**
 * The hidden `pam-helper` subcommand: the hub (hub/auth/pam/mod.ts) starts this
 * same program with it for every PAM login. It reads one JSON request from
 * stdin, runs hub/auth/pam/helper.ts and prints one JSON line.
 *
 * @module
 */
import {
  PAM_HELPER_EXIT_BAD_INPUT,
  PAM_HELPER_MAX_INPUT,
  runPamHelper,
} from "../auth/pam/helper.ts";
import { type Command, parseCommandFlags } from "./_command.ts";
import { printOut } from "./_print.ts";

const HELP = `Usage: onehub pam-helper [--serve]

Internal: checks one login through PAM for the hub. Reads
{"service", "username", "password", "rhost"} as JSON on stdin and prints
{"ok": true} or {"ok": false, "stage", "code", "message"} on stdout.
Exit status: 0 accepted, 1 refused or PAM unusable, 2 bad input.
With --serve it answers one request line after another until stdin ends
(the hub keeps a few such helpers warm) and exits 0, or 2 on a line over
the size limit.
Needs --allow-ffi and --allow-read under \`deno run\`.`;

/** Reads all of `stream` as UTF-8, or null when it exceeds `max` bytes. */
async function readAll(
  stream: ReadableStream<Uint8Array>,
  max: number,
): Promise<string | null> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += chunk.length;
    if (size > max) return null;
    chunks.push(chunk);
  }
  const all = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.length;
    chunk.fill(0);
  }
  const text = new TextDecoder().decode(all);
  all.fill(0);
  return text;
}

const TOO_LONG = JSON.stringify({
  ok: false,
  stage: "setup",
  code: -1,
  message:
    `Send at most ${PAM_HELPER_MAX_INPUT} bytes a line on stdin: the input is longer`,
});

/** `--serve`: one answer line per request line, until stdin ends. */
async function serveLines(): Promise<number> {
  const encoder = new TextEncoder();
  let pending = new Uint8Array(0);
  for await (const chunk of Deno.stdin.readable) {
    const joined = new Uint8Array(pending.length + chunk.length);
    joined.set(pending);
    joined.set(chunk, pending.length);
    pending.fill(0);
    chunk.fill(0);
    let start = 0;
    for (;;) {
      const end = joined.indexOf(0x0a, start);
      if (end < 0) break;
      const line = new TextDecoder().decode(joined.subarray(start, end));
      joined.fill(0, start, end);
      start = end + 1;
      if (line.trim() === "") continue;
      const { result } = await runPamHelper(line);
      await Deno.stdout.write(encoder.encode(JSON.stringify(result) + "\n"));
    }
    pending = joined.slice(start);
    joined.fill(0);
    if (pending.length > PAM_HELPER_MAX_INPUT) {
      printOut(TOO_LONG);
      return PAM_HELPER_EXIT_BAD_INPUT;
    }
  }
  return 0;
}

/** `onehub pam-helper`: one PAM check, request on stdin, JSON on stdout. */
export const pamHelperCommand: Command = {
  name: "pam-helper",
  summary: "Check one login through PAM (started by the hub)",
  help: HELP,
  hidden: true,
  async run(args: string[]): Promise<number> {
    const { values } = parseCommandFlags(args, {
      help: { type: "boolean", short: "h" },
      serve: { type: "boolean" },
    });
    if (values.help) {
      printOut(HELP);
      return 0;
    }
    if (values.serve) return await serveLines();
    const input = await readAll(Deno.stdin.readable, PAM_HELPER_MAX_INPUT);
    if (input === null) {
      printOut(JSON.stringify({
        ok: false,
        stage: "setup",
        code: -1,
        message:
          `Send at most ${PAM_HELPER_MAX_INPUT} bytes on stdin: the input is longer`,
      }));
      return PAM_HELPER_EXIT_BAD_INPUT;
    }
    const { result, exitCode } = await runPamHelper(input);
    printOut(JSON.stringify(result));
    return exitCode;
  },
};
