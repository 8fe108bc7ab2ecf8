/**
 * `onehub config`: read and edit the YAML config file with the verbs of
 * TLJH's `tljh-config` (`show`, `get`, `set`, `unset`, `add-item`,
 * `remove-item`) plus `keys`, which prints the schema table.
 *
 * Edits are pure ({@linkcode applyConfigEdit}); the shell around them takes
 * the config lock, reads the file, applies the edit and writes the file
 * atomically after validating it, so a bad value never reaches the disk.
 *
 * Errors and exit statuses (this command never prints its own errors):
 * - wrong usage (missing or unknown verb, unknown key, wrong number of
 *   arguments, unknown flag, `add-item` on a key that is not a list) throws
 *   {@linkcode UsageError}; the dispatcher prints it with the usage, exit 2;
 * - a bad value, an invalid or unreadable config file, `remove-item` of a
 *   value that is not in the list, or a held lock throws
 *   {@linkcode ConfigError}; the dispatcher prints the message, exit 1;
 * - `--help` prints help and returns 0; success returns 0.
 *
 * @module
 */
import { isDeepStrictEqual } from "node:util";
import {
  CONFIG_KEYS,
  envName,
  getAt,
  type HubConfig,
  type KeySpec,
  keySpec,
  kindText,
  needsRestart,
  parseValueText,
  type RawConfig,
  setAt,
  toRawConfig,
  unknownKeyMessage,
  unsetAt,
  validateValue,
} from "../config/mod.ts";
import {
  defaultConfigPath,
  loadConfig,
  loadYaml,
  readConfigFile,
  withConfigLock,
  writeConfigFile,
} from "../config/file.ts";
import { ConfigError, UsageError } from "../errors.ts";
import { type Command, COMMON_OPTIONS, parseCommandArgs } from "./_command.ts";
import { printErr, printOut } from "./_print.ts";
import {
  pidFilePath,
  type ReloadResult,
  reloadResultPath,
} from "./serve_reload.ts";

/** The hint printed after an edit of a key a running hub takes only at start. */
export const RESTART_HINT = "Restart onehub to apply: systemctl restart onehub";

/** The hint printed after an edit of a key a running hub can reload. */
export const RELOAD_HINT =
  "Apply it to the running hub: onehub config reload (or systemctl reload onehub)";

const SOURCE = "the command line";

interface VerbSpec {
  args: readonly string[];
  summary: string;
  details: string;
}

const VERBS: Record<string, VerbSpec> = {
  show: {
    args: [],
    summary: "Print the config file as YAML",
    details:
      "With --resolved, print every key with defaults, derived paths and\n" +
      "ONEHUB_* environment overrides of this shell applied (snake_case keys).",
  },
  get: {
    args: ["<key>"],
    summary: "Print a key's resolved value",
    details:
      "Defaults, the file and ONEHUB_* variables of this shell are applied.\n" +
      "Lists print comma-separated, the form `set` accepts.",
  },
  set: {
    args: ["<key>", "<value>"],
    summary: "Set a key in the config file",
    details:
      "Values: true/false for switches, digits for integers, comma-separated\n" +
      "items for lists (alice,bob), anything else as text. For a value that\n" +
      'starts with "-", put "--" before the key.',
  },
  unset: {
    args: ["<key>"],
    summary: "Remove a key from the config file (back to its default)",
    details: "Also removes a key the schema does not know, to clean up a file.",
  },
  "add-item": {
    args: ["<key>", "<value>"],
    summary: "Add a value to a list key",
    details: "Adding a value that is already in the list changes nothing.",
  },
  "remove-item": {
    args: ["<key>", "<value>"],
    summary: "Remove a value from a list key",
    details: "Removing a value that is not in the list is an error.",
  },
  keys: {
    args: [],
    summary:
      "List every key with its kind, default, environment variable and doc",
    details:
      'RELOAD says whether "onehub config reload" applies a key to a running\n' +
      'hub ("live") or it takes a restart ("restart").',
  },
  reload: {
    args: [],
    summary: "Apply the config file to the running hub (like systemctl reload)",
    details:
      "Sends SIGHUP to the hub (its pid is in DATA_DIR/onehub.pid) and prints\n" +
      "the keys it applied and those that need a restart. Sessions, proxy\n" +
      "routes and servers stay. An invalid file changes nothing (exit 1).",
  },
};

const VERB_LIST = Object.keys(VERBS).join(", ");

const HELP = `Usage: onehub config <verb> [arguments] [--config PATH]

Read and edit the onehub config file (YAML), like tljh-config.

Verbs:
${
  Object.entries(VERBS).map(([name, v]) =>
    `  ${`${name} ${v.args.join(" ")}`.padEnd(28)}${v.summary}`
  ).join("\n")
}

Options:
  --config PATH   Config file (default: $ONEHUB_CONFIG, else /etc/onehub/config.yaml)
  --resolved      With show: print the resolved config, defaults included
  -h, --help      Show this help; "onehub config <verb> --help" shows a verb's

Edits are validated before the file is written, and the file is replaced
atomically (mode 0600). ${RELOAD_HINT}; keys marked
"restart" in "onehub config keys" need: systemctl restart onehub

Exit status: 0 done, 1 invalid value or config file, 2 wrong usage.
`;

function verbHelp(name: string, verb: VerbSpec): string {
  const options = name === "show"
    ? "  --resolved      Print the resolved config, defaults included\n"
    : "";
  return `Usage: onehub config ${name}${
    verb.args.map((a) => ` ${a}`).join("")
  } [--config PATH]

${verb.summary}.${verb.details ? `\n${verb.details}` : ""}

Options:
${options}  --config PATH   Config file (default: $ONEHUB_CONFIG, else /etc/onehub/config.yaml)
  -h, --help      Show this help
${name === "keys" ? "" : '\nRun "onehub config keys" to list the keys.\n'}`;
}

/** One edit of the config file. */
export type ConfigEdit =
  | { verb: "set"; key: string; value: string }
  | { verb: "unset"; key: string }
  | { verb: "add-item"; key: string; value: string }
  | { verb: "remove-item"; key: string; value: string };

/** What {@linkcode applyConfigEdit} did. */
export interface EditResult {
  /** The edited copy (the input when nothing changed). */
  raw: RawConfig;
  /** False when the file already said so; nothing needs writing. */
  changed: boolean;
  /** One line for the admin, e.g. `Set "http.port" to 9000 (was 8000, the default)`. */
  message: string;
}

/**
 * Applies one edit to a copy of the file's contents. Pure.
 *
 * @throws {UsageError} for an unknown key or `add-item`/`remove-item` on a
 *   key that is not a list.
 * @throws {ConfigError} for a value the key does not accept, a list in the
 *   file that is not a list, or `remove-item` of an absent value.
 */
export function applyConfigEdit(raw: RawConfig, edit: ConfigEdit): EditResult {
  const current = getAt(raw, edit.key);
  if (edit.verb === "unset") return unsetKey(raw, edit.key, current);
  const spec = checkEdit(edit);
  if (edit.verb === "set") return setKey(raw, edit, { spec, current });
  const list = current === undefined
    ? spec.default as string[]
    : validateValue(spec, {
      value: current,
      source: "the config file",
    }) as string[];
  return edit.verb === "add-item"
    ? addItem(raw, edit, list)
    : removeItem(raw, edit, list);
}

/** `unset`: the key leaves the file; an unknown key that is not there is a usage error. */
function unsetKey(raw: RawConfig, key: string, current: unknown): EditResult {
  if (current === undefined) {
    if (!keySpec(key)) throw new UsageError(unknownKeyMessage(key, SOURCE));
    return {
      raw,
      changed: false,
      message: `"${key}" is not set in the file; nothing to unset`,
    };
  }
  const spec = keySpec(key);
  const after = spec ? `; now the default, ${show(spec.default)}` : "";
  return {
    raw: unsetAt(raw, key),
    changed: true,
    message: `Unset "${key}" (was ${show(current)}${after})`,
  };
}

/** `set`: the value parsed and validated; the same value changes nothing. */
function setKey(
  raw: RawConfig,
  edit: { key: string; value: string },
  { spec, current }: { spec: KeySpec; current: unknown },
): EditResult {
  const value = validateValue(spec, {
    value: parseValueText(spec, { text: edit.value, source: SOURCE }),
    source: SOURCE,
  });
  const was = current === undefined
    ? `${show(spec.default)}, the default`
    : show(current);
  if (isDeepStrictEqual(current, value)) {
    return {
      raw,
      changed: false,
      message: `"${edit.key}" is already ${show(value)}; nothing changed`,
    };
  }
  return {
    raw: setAt(raw, { key: edit.key, value }),
    changed: true,
    message: `Set "${edit.key}" to ${show(value)} (was ${was})`,
  };
}

/** `add-item`: the value appended to `list`; one already there changes nothing. */
function addItem(
  raw: RawConfig,
  { key, value: item }: { key: string; value: string },
  list: string[],
): EditResult {
  if (list.includes(item)) {
    return {
      raw,
      changed: false,
      message: `"${item}" is already in "${key}"; nothing changed`,
    };
  }
  const next = [...list, item];
  return {
    raw: setAt(raw, { key, value: next }),
    changed: true,
    message: `Added "${item}" to "${key}" (now ${show(next)})`,
  };
}

/** `remove-item`: the value taken out of `list`; one not there is an error. */
function removeItem(
  raw: RawConfig,
  { key, value: item }: { key: string; value: string },
  list: string[],
): EditResult {
  if (!list.includes(item)) {
    throw new ConfigError(
      `Cannot remove "${item}" from "${key}": it is not in the list (${
        show(list)
      }); ` +
        `check the spelling with "onehub config get ${key}"`,
    );
  }
  const next = list.filter((v) => v !== item);
  return {
    raw: setAt(raw, { key, value: next }),
    changed: true,
    message: `Removed "${item}" from "${key}" (now ${show(next)})`,
  };
}

/** Checks key and value without the file, so bad input is caught before locking. */
function checkEdit(edit: Exclude<ConfigEdit, { verb: "unset" }>): KeySpec {
  const spec = keySpec(edit.key);
  if (!spec) throw new UsageError(unknownKeyMessage(edit.key, SOURCE));
  if (edit.verb === "set") {
    validateValue(spec, {
      value: parseValueText(spec, { text: edit.value, source: SOURCE }),
      source: SOURCE,
    });
    return spec;
  }
  if (spec.kind !== "list") {
    throw new UsageError(
      `"${edit.key}" is not a list, so "${edit.verb}" does not apply; use "onehub config set ${edit.key} <value>"`,
    );
  }
  if (edit.value.trim() === "") {
    throw new ConfigError(
      `Invalid item for "${edit.key}" in ${SOURCE}: ""; expected a non-empty string`,
    );
  }
  return spec;
}

/** Formats a value for messages as JSON: `"text"`, `8000`, `["a","b"]`. */
function show(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

/** Formats a resolved value for `get`: the same text `set` accepts. */
function formatForGet(value: unknown): string {
  if (Array.isArray(value)) {
    return value.every((v) => typeof v === "string")
      ? value.join(",")
      : JSON.stringify(value);
  }
  return String(value);
}

/** The `keys` table: one row per key, padded columns, doc last. */
export function formatKeysTable(
  keys: readonly KeySpec[] = CONFIG_KEYS,
): string {
  const rows = [
    ["KEY", "KIND", "DEFAULT", "ENVIRONMENT", "RELOAD", "DOC"],
    ...keys.map((k) => [
      k.key,
      kindText(k),
      JSON.stringify(k.default),
      envName(k.key),
      needsRestart(k.key) ? "restart" : "live",
      k.doc,
    ]),
  ];
  const widths = [0, 1, 2, 3, 4].map((i) =>
    Math.max(...rows.map((r) => r[i]!.length))
  );
  return rows.map((r) =>
    r.map((cell, i) => (i < 5 ? cell.padEnd(widths[i]!) : cell)).join("  ")
  ).join("\n");
}

/** What the command reaches for, passed in so tests need no real env or terminal. */
export interface ConfigCommandDeps {
  /** Environment for `ONEHUB_CONFIG` and `ONEHUB_*` overrides. @default Deno.env.toObject() */
  env?: Record<string, string>;
  /** Writes a line to stdout. @default printOut */
  out?: (text: string) => void;
  /** Writes a line to stderr (notes, never errors). @default printErr */
  err?: (text: string) => void;
}

/** Builds the `onehub config` command over `deps`. */
export function createConfigCommand(deps: ConfigCommandDeps = {}): Command {
  return {
    name: "config",
    ownHelp: true,
    summary: "Show and edit the config file (like tljh-config)",
    help: HELP,
    run: (args) => runConfig(args, deps),
  };
}

/** `onehub config`, wired to the real environment and terminal. */
export const configCommand: Command = createConfigCommand();

/** The verb and its arguments, checked against the verb's usage. */
function parseVerb(
  positionals: string[],
  resolved: boolean | undefined,
): { name: string; verb: VerbSpec; rest: string[] } {
  const [name, ...rest] = positionals;
  const verb = name !== undefined && Object.hasOwn(VERBS, name)
    ? VERBS[name]
    : undefined;
  if (!name || !verb) {
    throw new UsageError(`Missing verb; expected one of: ${VERB_LIST}`);
  }
  if (rest.length !== verb.args.length) {
    const usage = `onehub config ${name}${
      verb.args.map((a) => ` ${a}`).join("")
    }`;
    throw new UsageError(
      `"onehub config ${name}" takes ${verb.args.length || "no"} argument${
        verb.args.length === 1 ? "" : "s"
      }, ` +
        `got ${rest.length}; usage: ${usage}`,
    );
  }
  if (resolved && name !== "show") {
    throw new UsageError('--resolved only applies to "onehub config show"');
  }
  return { name, verb, rest };
}

/** The verbs that only read: show, keys, reload, get. Null for an editing verb. */
async function runReadVerb(
  name: string,
  key: string,
  ctx: {
    path: string;
    env: Record<string, string>;
    resolved: boolean;
    deps: ConfigCommandDeps;
  },
): Promise<number | null> {
  const { path, env } = ctx;
  const out = ctx.deps.out ?? printOut;
  switch (name) {
    case "show": {
      const shown = ctx.resolved
        ? toRawConfig(await loadConfig({ path, env }))
        : await readConfigFile(path);
      out((await loadYaml()).stringify(shown));
      return 0;
    }
    case "keys":
      out(formatKeysTable());
      return 0;
    case "reload": {
      let config: HubConfig;
      try {
        config = await loadConfig({ path, env });
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        throw new ConfigError(
          `The hub kept its config, nothing was sent: ${error.message}`,
        );
      }
      return await requestReload(config, out);
    }
    case "get": {
      if (!keySpec(key)) throw new UsageError(unknownKeyMessage(key, SOURCE));
      const config = await loadConfig({ path, env });
      if (env[envName(key)] !== undefined) {
        (ctx.deps.err ?? printErr)(
          `Note: ${envName(key)} is set and overrides ${path}`,
        );
      }
      out(formatForGet(getAt(toRawConfig(config), key)));
      return 0;
    }
  }
  return null;
}

/** set, unset, add-item, remove-item: checked, then written under the lock; says reload or restart. */
async function runEditVerb(
  name: string,
  key: string,
  value: string,
  path: string,
  out: (text: string) => void,
): Promise<number> {
  const edit =
    (name === "unset"
      ? { verb: name, key }
      : { verb: name, key, value }) as ConfigEdit;
  // Reject bad input before taking the lock (which creates the directory).
  if (edit.verb !== "unset") checkEdit(edit);
  else if (
    !keySpec(key) && getAt(await readConfigFile(path), key) === undefined
  ) {
    throw new UsageError(unknownKeyMessage(key, SOURCE));
  }
  const result = await withConfigLock({ path }, async () => {
    const edited = applyConfigEdit(await readConfigFile(path), edit);
    if (edited.changed) await writeConfigFile(path, edited.raw);
    return edited;
  });
  out(result.message);
  if (result.changed) out(needsRestart(key) ? RESTART_HINT : RELOAD_HINT);
  return 0;
}

async function runConfig(
  args: string[],
  deps: ConfigCommandDeps,
): Promise<number> {
  const out = deps.out ?? printOut;
  const { values, positionals } = parseCommandArgs(args, {
    ...COMMON_OPTIONS,
    resolved: { type: "boolean" },
  });
  const first = positionals[0];
  const known = first !== undefined && Object.hasOwn(VERBS, first);
  if (first !== undefined && !known) {
    throw new UsageError(
      `Unknown verb "${first}"; expected one of: ${VERB_LIST}`,
    );
  }
  if (values.help) {
    out(first && known ? verbHelp(first, VERBS[first]!) : HELP);
    return 0;
  }
  const { name, rest } = parseVerb(positionals, values.resolved);
  const env = deps.env ?? Deno.env.toObject();
  const path = values.config ?? defaultConfigPath(env);
  if (path === "") {
    throw new UsageError(
      "--config needs a file path, e.g. --config /etc/onehub/config.yaml",
    );
  }
  const [key = "", value = ""] = rest;
  const read = await runReadVerb(name, key, {
    path,
    env,
    resolved: values.resolved ?? false,
    deps,
  });
  return read ?? await runEditVerb(name, key, value, path, out);
}

/**
 * `onehub config reload`: SIGHUP to the serving hub, then its outcome from
 * `reload.json` (hub/cli/serve_reload.ts).
 *
 * @throws {ConfigError} when no hub runs or the reload failed.
 */
async function requestReload(
  config: HubConfig,
  out: (text: string) => void,
): Promise<number> {
  const pidFile = pidFilePath(config);
  const text = await Deno.readTextFile(pidFile).catch(() => null);
  const pid = Number(text?.trim());
  if (!text || !Number.isInteger(pid) || pid <= 1) {
    throw new ConfigError(
      `No running hub found: ${pidFile} does not exist; start it (systemctl start onehub), which reads the file anyway`,
    );
  }
  const cmdline = await Deno.readTextFile(`/proc/${pid}/cmdline`).catch(
    () => "",
  );
  if (!cmdline.includes("serve") && !cmdline.includes("onehub")) {
    throw new ConfigError(
      `No running hub found: process ${pid} from ${pidFile} is not onehub serve (a stale file); start the hub`,
    );
  }
  const resultFile = reloadResultPath(config);
  await Deno.remove(resultFile).catch(() => {});
  Deno.kill(pid, "SIGHUP");
  for (let i = 0; i < 200; i++) {
    await new Promise((r) => setTimeout(r, 50));
    const raw = await Deno.readTextFile(resultFile).catch(() => null);
    if (!raw) continue;
    let result: ReloadResult;
    try {
      result = JSON.parse(raw) as ReloadResult;
    } catch {
      continue; // being written
    }
    if (result.error) {
      throw new ConfigError(
        `The hub kept its config: ${result.error}`,
      );
    }
    out(
      result.applied.length
        ? `Applied: ${result.applied.join(", ")}`
        : "Nothing to apply: the running hub already has this config",
    );
    if (result.restartNeeded.length) {
      out(
        `Not applied (needs systemctl restart onehub): ${
          result.restartNeeded.join(", ")
        }`,
      );
    }
    return 0;
  }
  throw new ConfigError(
    `The hub (pid ${pid}) did not answer the reload within 10 s: see its log (journalctl -u onehub)`,
  );
}
