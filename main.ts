/**
 * onehub's entry point: hands the command line to hub/cli and exits with its
 * status. Nothing else lives here.
 *
 * The hidden `pam-helper` subcommand (the hub's PAM helpers, started by
 * hub/auth/pam_pool.ts) is dispatched before the rest of the CLI is loaded,
 * so each helper process stays small (literal dynamic imports, which
 * `deno compile` still embeds).
 *
 * @module
 */
if (import.meta.main) {
  if (Deno.args[0] === "pam-helper") {
    const { pamHelperCommand } = await import(
      "./hub/cli/pam_helper_command.ts"
    );
    Deno.exit(await pamHelperCommand.run(Deno.args.slice(1)));
  }
  const { runCli } = await import("./hub/cli/mod.ts");
  Deno.exit(await runCli(Deno.args));
}
