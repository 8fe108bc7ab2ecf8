/**
 * `onehub export <target>`: the hub written out for another JupyterHub.
 * Targets are a table ({@linkcode EXPORT_TARGETS}); each parses its own
 * options after the target word.
 *
 * - `jupyterhub`: the live state pushed into a running JupyterHub 5
 *   (export_jupyterhub_command.ts).
 * - `z2jh`: `DIR/values.yaml` for the Zero to JupyterHub Helm chart and
 *   `DIR/MIGRATION.md` (hub/migrate/z2jh.ts maps; this file reads the
 *   config and the database read-only, checks the output folder, and
 *   writes both files only when everything before succeeded).
 *
 * Errors and exit statuses: a missing or unknown target, an unknown flag
 * or a stray word is a {@linkcode UsageError} (exit 2, with the help); an
 * unusable config, database or output folder, or files that exist without
 * `--force`, is a {@linkcode ConfigError} (exit 1, nothing written).
 *
 * @module
 */
import { join } from "node:path";
import type { HubConfig } from "../config/mod.ts";
import { oauthOn } from "../config/mod.ts";
import { ConfigError, UsageError } from "../errors.ts";
import { discoverEndpoints } from "../migrate/oidc_discovery.ts";
import {
  EMPTY_SNAPSHOT,
  type HubSnapshot,
  readSnapshot,
} from "../migrate/snapshot.ts";
import { exportZ2jh, Z2JH_CHART_VERSION } from "../migrate/z2jh.ts";
import {
  EXPORT_JUPYTERHUB_HELP,
  exportJupyterhub,
} from "./export_jupyterhub_command.ts";
import {
  type ExportSource,
  renderMigrationMd,
  renderValuesYaml,
} from "../migrate/z2jh_render.ts";
import { type Command, COMMON_OPTIONS, parseCommandArgs } from "./_command.ts";
import { configFrom, openConfiguredDbReadOnly } from "./_context.ts";
import { printErr, printOut } from "./_print.ts";
import { defaultConfigPath } from "../config/file.ts";

/** Where `export z2jh` writes without `--out`. */
export const DEFAULT_OUT = "onehub-z2jh";

const Z2JH_HELP =
  `Usage: onehub export z2jh [--out DIR] [--include-secrets] [--force] [--config PATH]

Writes DIR/values.yaml, the values of the Zero to JupyterHub Helm chart
${Z2JH_CHART_VERSION} (JupyterHub 5 on Kubernetes) that reproduce this hub as closely as
JupyterHub allows (authenticator, allowed users and admins, groups, roles,
profiles and limits, services, the idle culler, the announcement, course
files, HTTPS), and DIR/MIGRATION.md: what to fill in before installing, the
helm command, what moved, and what did not (home directories, API tokens,
sessions) with what to do. Reads the config file and the database; changes
neither.

Options:
  --out DIR           Folder for the two files, made when missing (default: ${DEFAULT_OUT})
  --include-secrets   Write the OAuth client secret, services' API tokens and the
                      dummy password in clear (default: REPLACE-ME placeholders)
  --force             Replace values.yaml and MIGRATION.md already in DIR
  --config PATH       Config file (default: $ONEHUB_CONFIG, else /etc/onehub/config.yaml)
  -h, --help          Show this help

Exit status: 0 written, 1 unusable config, database or folder (nothing
written), 2 wrong usage.`;

/** One `onehub export` target. */
interface ExportTarget {
  summary: string;
  help: string;
  run(args: string[]): Promise<number>;
}

/** The export targets, by the word after `onehub export`. */
export const EXPORT_TARGETS: Readonly<Record<string, ExportTarget>> = {
  z2jh: {
    summary: "values.yaml and MIGRATION.md for Zero to JupyterHub (Kubernetes)",
    help: Z2JH_HELP,
    run: runZ2jh,
  },
  jupyterhub: {
    summary:
      "users, groups and shares pushed into a running JupyterHub 5 (REST API)",
    help: EXPORT_JUPYTERHUB_HELP,
    run: (args) => exportJupyterhub(args),
  },
};

const TARGET_LIST = Object.keys(EXPORT_TARGETS).join(", ");

const HELP = `Usage: onehub export <target> [options]

Writes the hub out for another JupyterHub. Targets:
${
  Object.entries(EXPORT_TARGETS).map(([name, t]) =>
    `  ${name.padEnd(12)}${t.summary}`
  ).join("\n")
}

"onehub export <target> --help" shows a target's options.`;

async function runExport(args: string[]): Promise<number> {
  const [first, ...rest] = args;
  if (first === undefined || first === "-h" || first === "--help") {
    if (first === undefined) {
      throw new UsageError(`Missing target; expected one of: ${TARGET_LIST}`);
    }
    printOut(HELP);
    return 0;
  }
  const target = Object.hasOwn(EXPORT_TARGETS, first)
    ? EXPORT_TARGETS[first]
    : undefined;
  if (!target) {
    throw new UsageError(
      `Unknown export target "${first}"; expected one of: ${TARGET_LIST}`,
    );
  }
  if (rest.includes("-h") || rest.includes("--help")) {
    printOut(target.help);
    return 0;
  }
  try {
    return await target.run(rest);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    // The target's own usage, not the list of targets.
    printErr(`onehub export ${first}: ${error.message}\n\n${target.help}`);
    return 2;
  }
}

const Z2JH_OPTIONS = {
  ...COMMON_OPTIONS,
  out: { type: "string" },
  "include-secrets": { type: "boolean" },
  force: { type: "boolean" },
} as const;

/** `onehub export z2jh`. */
async function runZ2jh(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, Z2JH_OPTIONS);
  if (positionals.length) {
    throw new UsageError(
      `"onehub export z2jh" takes no arguments, got "${
        positionals[0]
      }"; give the folder with --out DIR`,
    );
  }
  const dir = values.out ?? DEFAULT_OUT;
  if (dir === "") throw new UsageError("--out needs a folder, e.g. --out z2jh");
  const files = [join(dir, "values.yaml"), join(dir, "MIGRATION.md")];
  await checkOutput(dir, files, values.force ?? false);
  const config = await configFrom(values.config);
  const at = new Date();
  const { snapshot, dbPath } = await readHubSnapshot(config, at);
  const includeSecrets = values["include-secrets"] ?? false;
  const discovery = oauthOn(config) && config.auth.oauth.preset === "generic"
    ? await discoverEndpoints(config.auth.oauth.issuer)
    : null;
  const result = exportZ2jh({ config, snapshot }, {
    includeSecrets,
    discovery,
  });
  const source: ExportSource = {
    configPath: values.config ?? defaultConfigPath(Deno.env.toObject()),
    dbPath,
    at,
    includeSecrets,
  };
  const texts = [
    await renderValuesYaml(result, source),
    renderMigrationMd(result, source),
  ];
  await writeFiles(dir, { files, texts, secret: includeSecrets });
  const fill = result.notes.filter((n) => n.topic === "fill").length;
  printOut(
    `Wrote ${files[0]} and ${
      files[1]
    } (Zero to JupyterHub ${Z2JH_CHART_VERSION}).\n` +
      (fill
        ? `${fill} value(s) to fill in before installing (REPLACE-ME): see ${
          files[1]
        }, section 1.`
        : `Read ${files[1]} before installing.`),
  );
  return 0;
}

/**
 * The output folder must be a folder (or not exist yet) and hold neither
 * file unless `force`.
 *
 * @throws {ConfigError} naming the path and the way out.
 */
async function checkOutput(
  dir: string,
  files: readonly string[],
  force: boolean,
): Promise<void> {
  const info = await Deno.stat(dir).catch((error) => {
    if (error instanceof Deno.errors.NotFound) return null;
    throw new ConfigError(`Cannot use --out ${dir}: ${error.message}`);
  });
  if (info && !info.isDirectory) {
    throw new ConfigError(
      `--out ${dir} is a file, not a folder: give a folder (made when missing), e.g. --out ${DEFAULT_OUT}`,
    );
  }
  if (!info || force) return;
  for (const file of files) {
    const there = await Deno.lstat(file).then(() => true, () => false);
    if (there) {
      throw new ConfigError(
        `${file} already exists: pass --force to replace it, or choose another folder with --out`,
      );
    }
  }
}

/** The database's snapshot (read-only), or the empty one when the hub has no database yet. */
async function readHubSnapshot(
  config: HubConfig,
  now: Date,
): Promise<{ snapshot: HubSnapshot; dbPath: string | null }> {
  const handle = await openConfiguredDbReadOnly(config);
  if (!handle) return { snapshot: EMPTY_SNAPSHOT, dbPath: null };
  try {
    return {
      snapshot: await readSnapshot(handle.db, now),
      dbPath: handle.path,
    };
  } finally {
    await handle.close();
  }
}

/** Writes each file through a temporary one in `dir` (made when missing), so none is left half written. */
async function writeFiles(
  dir: string,
  what: { files: readonly string[]; texts: readonly string[]; secret: boolean },
): Promise<void> {
  try {
    await Deno.mkdir(dir, { recursive: true });
    for (const [i, file] of what.files.entries()) {
      const temp = `${file}.tmp-${Deno.pid}`;
      await Deno.writeTextFile(temp, what.texts[i]!, {
        mode: what.secret ? 0o600 : 0o644,
      });
      await Deno.rename(temp, file);
    }
  } catch (error) {
    throw new ConfigError(
      `Cannot write to ${dir}: ${
        (error as Error).message
      }; choose another folder with --out`,
    );
  }
}

/** The export command. */
export const exportCommand: Command = {
  name: "export",
  summary:
    "Write the hub out for another JupyterHub (z2jh: Kubernetes; jupyterhub: a running one)",
  help: HELP,
  ownHelp: true,
  run: runExport,
};
