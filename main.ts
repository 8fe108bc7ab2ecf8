/**
 * onehub's entry point: hands the command line to hub/cli and exits with its
 * status. Nothing else lives here.
 *
 * The hidden `pam-helper` subcommand (the hub's PAM helpers, started by
 * hub/auth/pam/pool.ts) and `proxy` (the proxy as its own process) are
 * dispatched before the rest of the CLI is loaded, so those processes stay
 * small (literal dynamic imports, which `deno compile` still embeds).
 *
 * @module
 */
if (import.meta.main) {
  if (Deno.args[0] === "pam-helper") {
    // Through runCommand, as every command: a bad flag is a usage error
    // (exit 2), not an uncaught exception.
    const [{ pamHelperCommand }, { runCommand }] = await Promise.all([
      import("./hub/cli/pam_helper_command.ts"),
      import("./hub/cli/_run.ts"),
    ]);
    Deno.exit(await runCommand(pamHelperCommand, Deno.args.slice(1)));
  }
  if (Deno.args[0] === "proxy") {
    // The proxy alone (proxy.mode: external) loads neither the hub nor the
    // other commands: ≈15 MiB less resident (docs/benchmarks.md, issue 16).
    const [{ proxyCommand }, { runCommand }] = await Promise.all([
      import("./hub/cli/proxy_command.ts"),
      import("./hub/cli/_run.ts"),
    ]);
    Deno.exit(await runCommand(proxyCommand, Deno.args.slice(1)));
  }
  const { runCli } = await import("./hub/cli/mod.ts");
  Deno.exit(await runCli(Deno.args));
}
