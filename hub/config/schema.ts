/**
 * The schema engine behind the key table: the kinds a key may hold, the
 * shape of a row ({@linkcode KeySpec}), validation of one value, parsing of
 * value text (command line, environment), the resolved type a table derives
 * ({@linkcode ConfigOf}), and {@linkcode ConfigSchema}: a table's lookups,
 * file validation and the merge defaults < file < env < flags that
 * resolves a configuration.
 *
 * The table itself is assembled in mod.ts from the sections in keys/.
 * Pure: no file or env access here.
 *
 * @module
 */
import { ConfigError, quote } from "../errors.ts";
import {
  getAt,
  isPlainObject,
  leafKeys,
  type RawConfig,
  setAt,
  unsetAt,
} from "./edit.ts";

/** The kinds of value a key may hold. */
export type KeyKind =
  | "string"
  | "int"
  | "bool"
  | "list"
  | "enum"
  | "url_path"
  | "records"
  | "mapping";

/** The validated value of a key of each kind, as the file holds it. */
type RawOf<K extends KeyKind> = K extends "int" ? number
  : K extends "bool" ? boolean
  : K extends "list" ? readonly string[]
  : K extends "records" ? readonly Record<string, unknown>[]
  : K extends "mapping" ? Readonly<Record<string, unknown>>
  : string;

/** Typed reads of the merged raw values, for cross-key checks and derived fields. */
export interface ConfigValues {
  string(key: string): string;
  int(key: string): number;
  bool(key: string): boolean;
  list(key: string): readonly string[];
}

interface SpecOf<K extends KeyKind> {
  /** The dotted YAML path. */
  key: string;
  /** The dotted path of the resolved value in the resolved configuration (`HubConfig`). */
  field: string;
  kind: K;
  default: RawOf<K>;
  /** `live`: a reload applies it; `restart`: read once at start. */
  reload: "live" | "restart";
  /** One line for `onehub config keys` and the README. */
  doc: string;
  /** For "enum". */
  values?: readonly string[];
  /** For "int". */
  min?: number;
  max?: number;
  /** For "string": a YAML number is taken as its text (`cpu: 1.5`, `memory: 1073741824`). */
  numbers?: boolean;
  /** A cross-key or semantic check of the merged value: the error message, or null. */
  check?: (value: RawOf<K>, values: ConfigValues) => string | null;
  /** The resolved value (default: the validated raw value); may throw ConfigError. */
  resolve?: (value: RawOf<K>, values: ConfigValues) => unknown;
  /** The file form of a resolved value, when `resolve` changed its type. */
  toRaw?: (value: never) => RawOf<K>;
}

/** One row of the schema. */
export type KeySpec =
  | SpecOf<"string">
  | SpecOf<"int">
  | SpecOf<"bool">
  | SpecOf<"list">
  | SpecOf<"enum">
  | SpecOf<"url_path">
  | SpecOf<"records">
  | SpecOf<"mapping">;

/** A key's kind as people read it: `int 1..65535`, `enum a|b`, `url path`, `list`… */
export function kindText(k: KeySpec): string {
  return k.kind === "int"
    ? `int ${k.min}..${k.max}`
    : k.kind === "enum"
    ? `enum ${k.values!.join("|")}`
    : k.kind === "url_path"
    ? "url path"
    : k.kind;
}

/** What was wrong with a key's value, for {@linkcode invalid}. */
export interface InvalidValue {
  /** The value as given. */
  value: unknown;
  /** The accepted form, e.g. `an origin such as "https://hub.example.org"`. */
  expected: string;
}

/** `Invalid value for "key": value; expected …`, the one shape of value errors. */
export function invalid(
  key: string,
  { value, expected }: InvalidValue,
): string {
  return `Invalid value for "${key}": ${
    quote(value, 80)
  }; expected ${expected}`;
}

/** The resolved type of a row: what `resolve` returns, else its kind's value. */
type ResolvedOf<S> = S extends { resolve: (...args: never[]) => infer R } ? R
  : S extends { kind: "enum"; values: readonly (infer V)[] } ? V
  : S extends { kind: "list" } ? string[]
  : S extends { kind: infer K extends KeyKind } ? RawOf<K>
  : never;

/** `{a: {b: V}}` from "a.b" and V. */
type Nest<P extends string, V> = P extends `${infer H}.${infer R}`
  ? { [K in H]: Nest<R, V> }
  : { [K in P]: V };

type FieldOf<S> = S extends { field: infer F extends string }
  ? Nest<F, ResolvedOf<S>>
  : never;

type Intersect<U> = (U extends unknown ? (x: U) => void : never) extends
  (x: infer I) => void ? I
  : never;

type Expand<T> = T extends readonly unknown[] ? T
  : T extends object ? { [K in keyof T]: Expand<T[K]> }
  : T;

/**
 * The fully resolved configuration a table's rows derive: one field per key
 * (its `field` path), nothing optional.
 */
export type ConfigOf<Row> = Expand<Intersect<FieldOf<Row>>>;

/** The `ONEHUB_*` environment variable for a key: `http.port` → `ONEHUB_HTTP_PORT`. */
export function envName(key: string): string {
  return "ONEHUB_" + key.toUpperCase().replace(/\./g, "_");
}

function describe(spec: KeySpec): string {
  switch (spec.kind) {
    case "int":
      return `an integer from ${spec.min} to ${spec.max}`;
    case "bool":
      return "true or false";
    case "list":
      return "a list of strings";
    case "enum":
      return `one of ${spec.values!.map((v) => `"${v}"`).join(", ")}`;
    case "url_path":
      return 'a URL path such as "/" or "/jupyter/"';
    case "records":
      return "a list of mappings (in the environment or on the command line: JSON)";
    case "mapping":
      return "a mapping (in the environment or on the command line: JSON)";
    default:
      return "a string";
  }
}

/** A value for a key and where it came from (for the error message). */
export interface SourcedValue {
  /** The value as read (YAML, JSON, or parsed from text). */
  value: unknown;
  /** `config`, `the config file`, `environment variable ONEHUB_…`… @default "config" */
  source?: string;
}

/** A command-line or environment string for a key and where it came from. */
export interface SourcedText {
  /** The text as typed. */
  text: string;
  /** `command-line flags`, `environment variable ONEHUB_…`… */
  source: string;
}

/** A URL path in canonical form (leading and trailing "/"), or null when it is no path a browser keeps. */
function canonicalUrlPath(value: unknown): string | null {
  if (typeof value !== "string" || !/^\/?[A-Za-z0-9._~\-\/]*$/.test(value)) {
    return null;
  }
  // Browsers collapse "." and ".." segments, so such a prefix would never match.
  if (
    value.includes("//") ||
    value.split("/").some((s) => s === "." || s === "..")
  ) return null;
  const path = value.startsWith("/") ? value : "/" + value;
  return path.endsWith("/") ? path : path + "/";
}

/**
 * Checks one value against its key and returns it in canonical form.
 *
 * @throws {ConfigError} naming the key, the value and the accepted form.
 */
export function validateValue(
  spec: KeySpec,
  { value, source = "config" }: SourcedValue,
): unknown {
  const fail = (): never => {
    throw new ConfigError(
      `Invalid value for "${spec.key}" in ${source}: ${
        quote(value, 80)
      }; expected ${describe(spec)}`,
    );
  };
  switch (spec.kind) {
    case "string":
      if (spec.numbers && typeof value === "number" && Number.isFinite(value)) {
        return String(value);
      }
      return typeof value === "string" ? value : fail();
    case "int":
      if (typeof value !== "number" || !Number.isInteger(value)) return fail();
      if (value < spec.min! || value > spec.max!) return fail();
      return value;
    case "bool":
      return typeof value === "boolean" ? value : fail();
    case "list":
      if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) {
        return fail();
      }
      return [...value];
    case "enum":
      return typeof value === "string" && spec.values!.includes(value)
        ? value
        : fail();
    case "records":
      if (!Array.isArray(value) || !value.every(isPlainObject)) return fail();
      return structuredClone(value);
    case "mapping":
      return isPlainObject(value) ? structuredClone(value) : fail();
    case "url_path":
      return canonicalUrlPath(value) ?? fail();
  }
}

/**
 * Parses a command-line or environment string into a value for `spec`
 * (tljh-config rules: `true`/`false`, digits → integer; lists are
 * comma-separated).
 */
export function parseValueText(
  spec: KeySpec,
  { text, source }: SourcedText,
): unknown {
  const unparsed = () => validateValue(spec, { value: text, source });
  switch (spec.kind) {
    case "int":
      return /^-?\d+$/.test(text.trim()) ? Number(text.trim()) : unparsed();
    case "bool":
      if (/^(true|yes|1)$/i.test(text)) return true;
      if (/^(false|no|0)$/i.test(text)) return false;
      return unparsed();
    case "list":
      return text.split(",").map((s) => s.trim()).filter((s) => s !== "");
    case "records":
    case "mapping":
      try {
        return JSON.parse(text);
      } catch {
        return unparsed();
      }
    default:
      return text;
  }
}

function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(
        row[j]! + 1,
        next[j - 1]! + 1,
        row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    row = next;
  }
  return row[b.length]!;
}

/** Where each layer came from. */
export interface ConfigLayers {
  /** The parsed config file (may be empty). */
  file?: RawConfig;
  /** Name of the file, for error messages. */
  fileName?: string;
  /** Environment variables (only `ONEHUB_*` are read). */
  env?: Record<string, string>;
  /** Values from command-line flags, keyed by dotted key. */
  flags?: Record<string, unknown>;
}

/** Typed reads of merged values; a read of the wrong kind is a bug here, not bad input. */
function configValues(values: Map<string, unknown>): ConfigValues {
  const read = <T>(key: string, ok: (v: unknown) => boolean): T => {
    const value = values.get(key);
    if (!ok(value)) {
      throw new TypeError(`config key ${key} read as the wrong kind`);
    }
    return value as T;
  };
  return {
    string: (key) => read(key, (v) => typeof v === "string"),
    int: (key) => read(key, (v) => typeof v === "number"),
    bool: (key) => read(key, (v) => typeof v === "boolean"),
    list: (key) => read(key, Array.isArray),
  };
}

/** One key's merged raw value: its default < the validated file < env < flags. */
function layeredValue(
  spec: KeySpec,
  { file, layers }: { file: RawConfig; layers: ConfigLayers },
): unknown {
  let value: unknown = getAt(file, spec.key) ?? spec.default;
  const envText = layers.env?.[envName(spec.key)];
  if (envText !== undefined) {
    const source = `environment variable ${envName(spec.key)}`;
    const parsed = parseValueText(spec, { text: envText, source });
    value = validateValue(spec, { value: parsed, source });
  }
  if (layers.flags && spec.key in layers.flags) {
    value = validateValue(spec, {
      value: layers.flags[spec.key],
      source: "command-line flags",
    });
  }
  return value;
}

/** What a {@linkcode ConfigSchema} is made of. */
export interface ConfigSchemaOptions {
  /** The key table, in the order `onehub config keys` and the docs list it. */
  keys: readonly KeySpec[];
  /**
   * Runs on the merged raw values before any key's check (custom scopes
   * must exist before roles and token scopes name them); throws
   * ConfigError on a problem.
   */
  beforeChecks?: (merged: ReadonlyMap<string, unknown>) => void;
}

/**
 * A key table's operations: lookups, validation of a whole file, the
 * closest key to a mistyped one, and resolution of the layers defaults <
 * file < env < flags into the resolved (field-shaped) configuration.
 */
export class ConfigSchema {
  /** The rows, in table order. */
  readonly keys: readonly KeySpec[];
  /** The keys marked `reload: "live"`. */
  readonly reloadable: ReadonlySet<string>;
  readonly #beforeChecks: (merged: ReadonlyMap<string, unknown>) => void;

  /** A schema over `options.keys`. */
  constructor(options: ConfigSchemaOptions) {
    this.keys = options.keys;
    this.reloadable = new Set(
      this.keys.filter((k) => k.reload === "live").map((k) => k.key),
    );
    this.#beforeChecks = options.beforeChecks ?? (() => {});
  }

  /** Looks up a key's spec. */
  keySpec(key: string): KeySpec | undefined {
    return this.keys.find((k) => k.key === key);
  }

  /**
   * Validates a whole file-shaped object: every leaf must be a known key with a
   * valid value. Returns the canonical copy.
   */
  validateRaw(raw: RawConfig, source: string): RawConfig {
    if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
      throw new ConfigError(
        `Invalid ${source}: the top level must be a mapping of keys to values`,
      );
    }
    let out: RawConfig = {};
    // A "mapping" key holds free-form nesting (group names): take it whole.
    for (const spec of this.keys) {
      if (spec.kind !== "mapping") continue;
      const value = getAt(raw, spec.key);
      if (value === undefined || value === null) continue;
      out = setAt(out, {
        key: spec.key,
        value: validateValue(spec, { value, source }),
      });
      raw = unsetAt(raw, spec.key);
    }
    for (const key of leafKeys(raw)) {
      const value = getAt(raw, key);
      const spec = this.keySpec(key);
      if (spec) {
        if (value === null) continue; // `key: ~` means "use the default"
        out = setAt(out, {
          key,
          value: validateValue(spec, { value, source }),
        });
        continue;
      }
      // `base_url: {a: 1}`: a known key holding a mapping.
      const parent = this.keys.find((k) => key.startsWith(k.key + "."));
      if (parent) {
        validateValue(parent, { value: getAt(raw, parent.key), source });
      }
      // `http: 80` or `http: {}`: a section holding a scalar (or nothing).
      const child = this.keys.find((k) => k.key.startsWith(key + "."));
      if (child) {
        if (value === null || isPlainObject(value)) continue; // empty section
        throw new ConfigError(
          `Invalid value for "${key}" in ${source}: ${
            quote(value, 80)
          }; expected a mapping of keys such as "${child.key}"`,
        );
      }
      throw new ConfigError(this.unknownKeyMessage(key, source));
    }
    return out;
  }

  /** The closest known key to a mistyped one, if any is close enough. */
  suggestKey(key: string): string | undefined {
    let best: string | undefined;
    let bestDistance = Math.max(2, Math.floor(key.length / 4)) + 1;
    for (const spec of this.keys) {
      const last = spec.key.slice(spec.key.lastIndexOf(".") + 1);
      const d = key === last ? 0 : editDistance(key, spec.key);
      if (d < bestDistance) [best, bestDistance] = [spec.key, d];
    }
    return best;
  }

  /** `Unknown key "x" in source` with a suggestion and the way to list keys. */
  unknownKeyMessage(key: string, source: string): string {
    const guess = this.suggestKey(key);
    return `Unknown key "${key}" in ${source}; ${
      guess ? `did you mean "${guess}"? ` : ""
    }` +
      `run "onehub config keys" to list the accepted keys`;
  }

  /** The merged raw value of every key: defaults < file < env < flags. */
  #merge(layers: ConfigLayers): Map<string, unknown> {
    const file = this.validateRaw(
      layers.file ?? {},
      layers.fileName ?? "the config file",
    );
    for (const key of Object.keys(layers.flags ?? {})) {
      if (!this.keySpec(key)) {
        throw new ConfigError(
          this.unknownKeyMessage(key, "command-line flags"),
        );
      }
    }
    const values = new Map<string, unknown>();
    for (const spec of this.keys) {
      values.set(spec.key, layeredValue(spec, { file, layers }));
    }
    return values;
  }

  /**
   * Merges defaults < file < env < flags, runs each key's check and resolves
   * each key into its `field` path.
   *
   * @throws {ConfigError} on any unknown key, invalid value or failed check.
   */
  resolve(layers: ConfigLayers): RawConfig {
    const merged = this.#merge(layers);
    const values = configValues(merged);
    const specs = this.keys;
    this.#beforeChecks(merged);
    for (const spec of specs) {
      const problem = spec.check?.(merged.get(spec.key) as never, values);
      if (problem) throw new ConfigError(problem);
    }
    let config: RawConfig = {};
    for (const spec of specs) {
      const raw = merged.get(spec.key);
      const value = spec.resolve
        ? spec.resolve(raw as never, values)
        : structuredClone(raw);
      config = setAt(config, { key: spec.field, value });
    }
    return config;
  }

  /**
   * The resolved configuration in file shape: snake_case dotted keys, derived
   * values filled in (`db_path`, `cookie_secret_file`, normalised `base_url`).
   * `leafKeys(toRaw(c))` lists exactly the keys of the table.
   */
  toRaw(config: RawConfig): RawConfig {
    let raw: RawConfig = {};
    for (const spec of this.keys) {
      const value = getAt(config, spec.field);
      raw = setAt(raw, {
        key: spec.key,
        value: spec.toRaw ? spec.toRaw(value as never) : structuredClone(value),
      });
    }
    return raw;
  }
}
