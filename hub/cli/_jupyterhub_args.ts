/**
 * The arguments `onehub export jupyterhub` and `onehub import jupyterhub`
 * share: `--url`, `--token` (or `$JUPYTERHUB_API_TOKEN`), `--dry-run`,
 * `--config`, checked; and the client they make of them.
 *
 * @module
 */
import { UsageError } from "../errors.ts";
import { isLoopbackUrl } from "../net.ts";
import {
  apiUrlOf,
  JupyterHubApiError,
  JupyterHubClient,
} from "../migrate/jupyterhub_api.ts";
import { COMMON_OPTIONS, parseCommandFlags } from "./_command.ts";

/** The options text both commands' help shows. */
export const JUPYTERHUB_OPTIONS_HELP =
  `  --url URL        The JupyterHub's address (http://host:8000/, or …/hub/api/)
  --token TOKEN    An API token of an admin of that JupyterHub; without it,
                   $JUPYTERHUB_API_TOKEN (which keeps it out of "ps")
  --dry-run        Print the plan; change nothing
  --config PATH    onehub's config file (default: $ONEHUB_CONFIG, else /etc/onehub/config.yaml)
  -h, --help       Show this help`;

const OPTIONS = {
  ...COMMON_OPTIONS,
  url: { type: "string" },
  token: { type: "string" },
  "dry-run": { type: "boolean" },
} as const;

/** What both commands were asked. */
export interface JupyterHubArgs {
  url: string;
  token: string;
  dryRun: boolean;
  config: string | undefined;
  help: boolean;
}

/**
 * Parses and checks the arguments (after `export jupyterhub` / `import
 * jupyterhub`).
 *
 * @throws {UsageError} for a missing or malformed --url, no token, an
 *   unknown flag or a stray word.
 */
export function parseJupyterHubArgs(
  args: string[],
  env: Record<string, string | undefined>,
): JupyterHubArgs {
  const { values } = parseCommandFlags(args, OPTIONS);
  if (values.help) {
    return { url: "", token: "", dryRun: false, config: undefined, help: true };
  }
  if (!values.url) {
    throw new UsageError(
      "--url is missing: give the JupyterHub's address, e.g. --url http://jupyterhub.example.org/",
    );
  }
  try {
    apiUrlOf(values.url);
  } catch (error) {
    if (error instanceof JupyterHubApiError) {
      throw new UsageError(error.message);
    }
    throw error;
  }
  const token = values.token ?? env.JUPYTERHUB_API_TOKEN ?? "";
  if (!token.trim()) {
    throw new UsageError(
      "--token is missing: give an API token of an admin of that JupyterHub (--token or $JUPYTERHUB_API_TOKEN)",
    );
  }
  return {
    url: values.url,
    token: token.trim(),
    dryRun: values["dry-run"] ?? false,
    config: values.config,
    help: false,
  };
}

/**
 * The client both commands use: 30 s per request, pages of 200. Tells
 * `warn` first when the token would go out unencrypted
 * ({@linkcode clearTextWarning}).
 */
export function jupyterHubClient(
  args: JupyterHubArgs,
  warn: (line: string) => void,
): JupyterHubClient {
  const clear = clearTextWarning(args.url);
  if (clear) warn(clear);
  return new JupyterHubClient(args.url, { token: args.token });
}

/**
 * A warning when the token would cross the network unencrypted: an
 * `http://` URL whose host is not this machine. Null otherwise (https, or
 * loopback; an unparsable URL is the client's error to report).
 */
export function clearTextWarning(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== "http:" || isLoopbackUrl(parsed)) return null;
  return `warning: ${parsed.origin} is plain http: the API token crosses the network unencrypted; use the hub's https:// address if it has one`;
}
