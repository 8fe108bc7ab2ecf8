/**
 * The hub's configuration. One schema table, {@linkcode CONFIG_KEYS}, is
 * the single source of every key: its YAML path, kind, validation and error
 * text, default, `ONEHUB_*` env name, docs line, whether a reload applies
 * it, and the field of {@linkcode HubConfig} it resolves to. `HubConfig`
 * (written out in types.ts, checked against the table), {@linkcode resolveConfig}, {@linkcode toRawConfig}, the env names and
 * `onehub config keys` are all derived from the table.
 *
 * {@linkcode resolveConfig} merges defaults < file < env < flags, validates
 * every value (naming the key, the value and the accepted form), runs the
 * keys' cross-checks and returns a fully resolved configuration.
 *
 * This file assembles the table from its sections (keys/) and lists what
 * the rest of the hub imports; the engine is schema.ts, dotted-path editing
 * edit.ts, facts derived from a resolved configuration derived.ts.
 *
 * Pure: no file or env access here (see file.ts and cli/).
 *
 * @module
 */
import { ACCESS_KEYS, defineConfiguredScopes } from "./keys/access.ts";
import { API_KEYS } from "./keys/api.ts";
import { AUTH_KEYS } from "./keys/auth.ts";
import { COURSE_FILES_KEYS } from "./keys/course_files.ts";
import { HTTPS_KEYS } from "./keys/https.ts";
import { HUB_KEYS } from "./keys/hub.ts";
import { GROUP_LIMIT_KEYS, SERVER_LIMIT_KEYS } from "./keys/limits.ts";
import {
  SESSION_EVENT_METRIC_KEYS,
  SHARING_ANNOUNCEMENT_KEYS,
} from "./keys/misc.ts";
import { PROXY_KEYS } from "./keys/proxy.ts";
import { SERVICES_KEYS } from "./keys/services.ts";
import { SPAWNER_KEYS } from "./keys/spawner.ts";
import { USERS_KEYS } from "./keys/users.ts";
import type { RawConfig } from "./edit.ts";
import { type ConfigLayers, ConfigSchema, type KeySpec } from "./schema.ts";
import type { HubConfig } from "./types.ts";

// Dotted-path editing: RawConfig, getAt, setAt, unsetAt, leafKeys, isPlainObject…
export * from "./edit.ts";
export {
  type ConfigLayers,
  type ConfigValues,
  envName,
  type KeyKind,
  type KeySpec,
  kindText,
  parseValueText,
  type SourcedText,
  type SourcedValue,
  validateValue,
} from "./schema.ts";
export { lingerLimits, oauthOn } from "./derived.ts";
export { isGitBranchName, isGitUrl } from "./keys/course_files.ts";
export { parseCpu, parseMemory } from "./keys/limits.ts";
export { ENV_KEEP_DEFAULT } from "./keys/spawner.ts";
/**
 * The fully resolved configuration, written out in types.ts (one field per
 * key of {@linkcode CONFIG_KEYS}, nothing optional);
 * tests/hub/config/types_test.ts keeps it equal to the type the table
 * derives.
 */
export type { HubConfig } from "./types.ts";

/**
 * Every configuration key. Dotted paths are the YAML nesting. The order is
 * the order of `onehub config keys`, docs/config.md and the checks, so a
 * section may come in two runs (`limits.*`, `session.*`).
 */
export const CONFIG_KEYS = [
  ...HUB_KEYS,
  ...AUTH_KEYS,
  ...USERS_KEYS,
  ...API_KEYS,
  ...PROXY_KEYS,
  ...HTTPS_KEYS,
  ...SPAWNER_KEYS,
  ...SERVER_LIMIT_KEYS,
  ...SESSION_EVENT_METRIC_KEYS,
  ...GROUP_LIMIT_KEYS,
  ...COURSE_FILES_KEYS,
  ...SHARING_ANNOUNCEMENT_KEYS,
  ...ACCESS_KEYS,
  ...SERVICES_KEYS,
] as const satisfies readonly KeySpec[];

const SCHEMA = new ConfigSchema({
  keys: CONFIG_KEYS,
  beforeChecks: defineConfiguredScopes,
});

/** Looks up a key's spec. */
export function keySpec(key: string): KeySpec | undefined {
  return SCHEMA.keySpec(key);
}

/**
 * Keys a running hub applies on reload (`onehub config reload`, SIGHUP): the
 * rows marked `reload: "live"`, each read when a request, login or spawn
 * needs it. Every other key (ports, addresses, paths, the authenticator, the
 * proxy, HTTPS, the spawner type, logging, the throttle and PAM pool,
 * polling intervals, `spawner.user_prefix`, which names the Unix accounts of
 * running servers) is set up once at start and needs a restart.
 */
export const RELOADABLE_KEYS: ReadonlySet<string> = SCHEMA.reloadable;

/** Whether a running hub needs a restart to apply `key`. */
export function needsRestart(key: string): boolean {
  return !RELOADABLE_KEYS.has(key);
}

/**
 * Validates a whole file-shaped object: every leaf must be a known key with a
 * valid value. Returns the canonical copy.
 */
export function validateRaw(raw: RawConfig, source: string): RawConfig {
  return SCHEMA.validateRaw(raw, source);
}

/** The closest known key to a mistyped one, if any is close enough. */
export function suggestKey(key: string): string | undefined {
  return SCHEMA.suggestKey(key);
}

/** `Unknown key "x" in source` with a suggestion and the way to list keys. */
export function unknownKeyMessage(key: string, source: string): string {
  return SCHEMA.unknownKeyMessage(key, source);
}

/**
 * Merges defaults < file < env < flags, runs each key's check and resolves
 * each key into its {@linkcode HubConfig} field.
 *
 * @throws {ConfigError} on any unknown key, invalid value or failed check.
 */
export function resolveConfig(layers: ConfigLayers = {}): HubConfig {
  return SCHEMA.resolve(layers) as unknown as HubConfig;
}

/**
 * The resolved configuration in file shape: snake_case dotted keys, derived
 * values filled in (`db_path`, `cookie_secret_file`, normalised `base_url`).
 * `leafKeys(toRawConfig(c))` lists exactly the keys of {@linkcode CONFIG_KEYS}.
 */
export function toRawConfig(config: HubConfig): RawConfig {
  return SCHEMA.toRaw(config as unknown as RawConfig);
}
