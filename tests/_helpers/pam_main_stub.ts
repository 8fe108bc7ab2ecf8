/**
 * Stands in for `main.ts pam-helper` in PAM tests: dispatches straight to
 * the real `pam-helper` command, so tests exercise the real helper without
 * depending on the CLI entry point. Usage:
 * `deno run --allow-ffi --allow-read pam_main_stub.ts pam-helper`.
 *
 * @module
 */
import { pamHelperCommand } from "../../hub/cli/pam_helper_command.ts";

if (Deno.args[0] !== pamHelperCommand.name) {
  throw new Error(`Run with "${pamHelperCommand.name}" as the first argument`);
}
Deno.exit(await pamHelperCommand.run(Deno.args.slice(1)));
