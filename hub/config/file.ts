/**
 * The I/O shell around hub/config/mod.ts: read and parse the YAML config file,
 * write it back atomically (validated first, comments kept), serialise
 * concurrent edits with a lock file, load the resolved config, and create or
 * check the cookie secret file.
 *
 * Every failure a person can fix is a {@linkcode ConfigError} naming the file
 * and the fix; the CLI maps it to exit status 1.
 *
 * @module
 */
import { basename, dirname, join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import {
  getAt,
  type HubConfig,
  isPlainObject,
  leafKeys,
  type RawConfig,
  resolveConfig,
  validateRaw,
} from "./mod.ts";
import { ConfigError } from "../errors.ts";

type YamlLib = typeof import("yaml");
let yamlLib: Promise<YamlLib> | null = null;

/**
 * The YAML library, loaded on first use: it costs about 6 MiB and 15 ms at
 * start-up, and a hub whose config file is empty or missing never needs it.
 * (A literal dynamic import, which `deno compile` still embeds.)
 */
export function loadYaml(): Promise<YamlLib> {
  return yamlLib ??= import("yaml");
}

/** Where the config file lives unless `--config` or `ONEHUB_CONFIG` says otherwise. */
export const DEFAULT_CONFIG_PATH = "/etc/onehub/config.yaml";

/** The config path: `ONEHUB_CONFIG` when set and non-empty, else {@linkcode DEFAULT_CONFIG_PATH}. */
export function defaultConfigPath(
  env: Record<string, string | undefined>,
): string {
  return env.ONEHUB_CONFIG || DEFAULT_CONFIG_PATH;
}

/**
 * Parses config file text. An empty file (or one holding only comments) is `{}`.
 *
 * @param fileName used in error messages
 * @throws {ConfigError} on a YAML syntax error (with line and column) or a
 *   top level that is not a mapping.
 */
export async function parseConfigText(
  text: string,
  fileName: string,
): Promise<RawConfig> {
  // Blank or comment-only: nothing to parse (and no need to load the YAML library).
  if (text.split("\n").every((line) => /^\s*(#.*)?$/.test(line))) return {};
  const { parseDocument } = await loadYaml();
  const doc = parseDocument(text);
  const error = doc.errors[0];
  if (error) {
    const [line, col] = [error.linePos?.[0].line, error.linePos?.[0].col];
    const where = line === undefined ? "" : ` at line ${line}, column ${col}`;
    const [reason = "", ...context] = error.message.split("\n");
    throw new ConfigError(
      `Cannot parse ${fileName}${where}: ${
        reason.replace(/ at line \d+, column \d+:?$/, "")
      }; ` +
        `fix the YAML there (indent nested keys with spaces, not tabs; quote values containing ": " or " #")` +
        (context.join("\n").trim() ? `\n${context.join("\n").trimEnd()}` : ""),
    );
  }
  const value = doc.toJS({ maxAliasCount: 100 }) as unknown;
  if (value === null || value === undefined) return {};
  if (!isPlainObject(value)) {
    throw new ConfigError(
      `Invalid ${fileName}: the top level must be a mapping of keys to values, such as "http:\\n  port: 8000"; ` +
        `found ${Array.isArray(value) ? "a list" : JSON.stringify(value)}`,
    );
  }
  return value;
}

/**
 * Reads and parses the config file; a missing file is `{}` (all defaults).
 * The result is not validated (see `validateRaw`/`resolveConfig`), so a bad
 * value can still be shown and fixed with `onehub config`.
 *
 * @throws {ConfigError} on unreadable files and syntax errors.
 */
export async function readConfigFile(path: string): Promise<RawConfig> {
  const text = await readTextIfExists(path);
  return text === undefined ? {} : parseConfigText(text, path);
}

/**
 * Renders `raw` as YAML. When `previousText` is a parseable mapping, edits
 * it in place instead, so comments and key order the admin wrote survive
 * `onehub config set`. Falls back to a plain dump whenever the edited
 * document would not read back as exactly `raw`.
 */
export async function formatConfigYaml(
  raw: RawConfig,
  previousText = "",
): Promise<string> {
  const { isMap, parseDocument, stringify } = await loadYaml();
  const plain = stringify(raw);
  if (previousText.trim() === "") return plain;
  try {
    const doc = parseDocument(previousText);
    if (doc.errors.length > 0 || !isMap(doc.contents)) return plain;
    const before = doc.toJS() as RawConfig;
    for (const key of leafKeys(before)) {
      if (getAt(raw, key) !== undefined) continue;
      const parts = key.split(".");
      doc.deleteIn(parts);
      for (let i = parts.length - 1; i > 0; i--) {
        const parent = doc.getIn(parts.slice(0, i));
        if (!isMap(parent) || parent.items.length > 0) break;
        doc.deleteIn(parts.slice(0, i));
      }
    }
    for (const key of leafKeys(raw)) {
      const value = getAt(raw, key);
      if (!isDeepStrictEqual(getAt(before, key), value)) {
        doc.setIn(key.split("."), value);
      }
    }
    const text = String(doc);
    return isDeepStrictEqual(parseDocument(text).toJS() ?? {}, raw)
      ? text
      : plain;
  } catch {
    return plain; // e.g. a scalar where a section now goes
  }
}

/**
 * Validates `raw` (every key known and valid, cross-key rules included) and
 * only then writes it, atomically: a temp file in the same directory, fsync,
 * rename. A rejected edit leaves the old file untouched. The file is made
 * 0600 (it may hold a password); a missing parent directory is created 0755.
 *
 * @throws {ConfigError} naming the bad key, or when the file cannot be written.
 */
export async function writeConfigFile(
  path: string,
  raw: RawConfig,
): Promise<void> {
  const canonical = validateRaw(raw, path);
  resolveConfig({ file: canonical, fileName: path }); // public_url, pattern, page limits
  const previous = await readTextIfExists(path).catch(() => undefined);
  await writeFileAtomic(
    path,
    await formatConfigYaml(canonical, previous ?? ""),
    {
      mode: 0o600,
      dirMode: 0o755,
    },
  );
}

/** Options for {@linkcode loadConfig}. */
export interface LoadConfigOptions {
  /** The config file. @default defaultConfigPath(env) */
  path?: string;
  /** Environment (`ONEHUB_*` are read). @default Deno.env.toObject() */
  env?: Record<string, string>;
  /** Values from command-line flags, keyed by dotted key. @default {} */
  flags?: Record<string, unknown>;
}

/**
 * Reads the config file and resolves defaults < file < env < flags.
 *
 * @throws {ConfigError} on a bad file, unknown key or invalid value.
 */
export async function loadConfig(
  options: LoadConfigOptions = {},
): Promise<HubConfig> {
  const env = options.env ?? Deno.env.toObject();
  const path = options.path ?? defaultConfigPath(env);
  const file = await readConfigFile(path);
  return resolveConfig({
    file,
    fileName: path,
    env,
    flags: options.flags ?? {},
  });
}

/** Options for {@linkcode withConfigLock}. */
export interface ConfigLockOptions {
  /** The config file; the lock is `<path>.lock` beside it. */
  path: string;
  /** Give up waiting after this long. @default 15000 */
  timeoutMs?: number;
  /** A lock file older than this was left by a crashed run and is removed. @default 10000 */
  staleMs?: number;
}

/**
 * Runs `fn` while holding `<path>.lock`, so two `onehub config set` runs
 * (read, edit, write) cannot lose each other's update. The lock is a file
 * created with `createNew` (no flock); waiters retry every few milliseconds.
 *
 * @throws {ConfigError} when the lock stays taken for `timeoutMs`.
 */
export async function withConfigLock<T>(
  lock: ConfigLockOptions,
  fn: () => Promise<T>,
): Promise<T> {
  const lockPath = await takeConfigLock(lock);
  try {
    return await fn();
  } finally {
    await Deno.remove(lockPath).catch(() => {});
  }
}

/** Creates `lockPath` holding this pid; false when it exists already. */
async function createLockFile(lockPath: string): Promise<boolean> {
  try {
    const file = await Deno.open(lockPath, {
      write: true,
      createNew: true,
      mode: 0o600,
    });
    try {
      await file.write(new TextEncoder().encode(`${Deno.pid}\n`));
    } finally {
      file.close();
    }
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) return false;
    throw fileError(error, lockPath, "create");
  }
}

/** Milliseconds since the lock file was last written (0 when it is gone). */
function lockAgeMs(lockPath: string): Promise<number> {
  return Deno.stat(lockPath).then(
    (s) => Date.now() - (s.mtime?.getTime() ?? Date.now()),
    () => 0,
  );
}

/** Waits for `<path>.lock`, removing a stale one, and returns its path once held. */
async function takeConfigLock(
  { path, timeoutMs = 15_000, staleMs = 10_000 }: ConfigLockOptions,
): Promise<string> {
  const lockPath = `${path}.lock`;
  await makeDir(dirname(path), 0o755);
  const deadline = Date.now() + timeoutMs;
  while (!await createLockFile(lockPath)) {
    if (await lockAgeMs(lockPath) > staleMs) {
      await Deno.remove(lockPath).catch(() => {});
      continue;
    }
    if (Date.now() > deadline) {
      throw new ConfigError(
        `Cannot edit ${path}: another "onehub config" command holds ${lockPath}; ` +
          `wait for it to finish, or delete ${lockPath} if none is running`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 20));
  }
  return lockPath;
}

/** What a 32-byte secret file is for, in the errors about it. */
export interface SecretFileKind {
  /** "cookie secret", "auth state key". */
  what: string;
  /** What deleting the file (so a new one is made) costs. */
  deleting: string;
}

const COOKIE_SECRET: SecretFileKind = {
  what: "cookie secret",
  deleting: "this logs every user out",
};

/**
 * Returns the cookie secret (32 bytes), creating it when missing; see
 * {@linkcode ensureSecretFile}.
 */
export function ensureCookieSecret(path: string): Promise<Uint8Array> {
  return ensureSecretFile(path, COOKIE_SECRET);
}

/**
 * Returns a 32-byte secret kept in `path`, creating it when missing: random
 * bytes written as 64 hex characters to a 0600 file (parent created 0700).
 * Creation is no-clobber (hard link from a temp file), so two starting hubs
 * agree on one secret.
 *
 * @throws {ConfigError} when an existing file is accessible by group or
 *   others, or does not hold exactly 64 hex characters.
 */
export async function ensureSecretFile(
  path: string,
  kind: SecretFileKind,
): Promise<Uint8Array> {
  const existing = await readSecretFile(path, kind);
  if (existing) return existing;
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(
    "",
  );
  await makeDir(dirname(path), 0o700);
  const tmp = tempPath(path);
  try {
    await writeNewFile(tmp, `${hex}\n`, 0o600);
    await Deno.link(tmp, path);
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) {
      throw fileError(error, path, "write");
    }
    return (await readSecretFile(path, kind))!; // another process won the race
  } finally {
    await Deno.remove(tmp).catch(() => {});
  }
  return bytes;
}

/** The secret in `path`, or undefined when there is no such file. */
export async function readSecretFile(
  path: string,
  kind: SecretFileKind,
): Promise<Uint8Array | undefined> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw fileError(error, path, "read");
  }
  if (info.mode !== null && (info.mode & 0o077) !== 0) {
    const mode = (info.mode & 0o777).toString(8).padStart(4, "0");
    throw new ConfigError(
      `Refusing to use ${kind.what} ${path}: it is accessible by group or others (mode ${mode}); ` +
        `fix with "chmod 600 ${path}"`,
    );
  }
  const text = (await readTextIfExists(path) ?? "").trim();
  if (!/^[0-9a-fA-F]{64}$/.test(text)) {
    throw new ConfigError(
      `Invalid ${kind.what} in ${path}: expected 64 hex characters (32 bytes); ` +
        `fix by deleting the file so a new one is generated (${kind.deleting})`,
    );
  }
  return Uint8Array.from(text.match(/../g)!, (pair) => parseInt(pair, 16));
}

async function readTextIfExists(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw fileError(error, path, "read");
  }
}

/** Temp file, fsync, rename: readers see the old file or the new one. */
async function writeFileAtomic(
  path: string,
  text: string,
  options: { mode: number; dirMode: number },
): Promise<void> {
  await makeDir(dirname(path), options.dirMode);
  const tmp = tempPath(path);
  try {
    await writeNewFile(tmp, text, options.mode);
    await Deno.rename(tmp, path);
  } catch (error) {
    await Deno.remove(tmp).catch(() => {});
    throw fileError(error, path, "write");
  }
}

async function writeNewFile(
  path: string,
  text: string,
  mode: number,
): Promise<void> {
  const file = await Deno.open(path, { write: true, createNew: true, mode });
  try {
    const bytes = new TextEncoder().encode(text);
    for (let done = 0; done < bytes.length;) {
      done += await file.write(bytes.subarray(done));
    }
    // The umask applies at creation; set the exact mode we promise.
    if (Deno.build.os !== "windows") await Deno.chmod(path, mode);
    await file.sync();
  } finally {
    file.close();
  }
}

function tempPath(path: string): string {
  return join(
    dirname(path),
    `.${basename(path)}.${crypto.randomUUID().slice(0, 8)}.tmp`,
  );
}

async function makeDir(dir: string, mode: number): Promise<void> {
  try {
    await Deno.mkdir(dir, { recursive: true, mode });
  } catch (error) {
    throw fileError(error, dir, "create");
  }
}

/** Turns a permission problem into a ConfigError with the fix; passes others through. */
function fileError(
  error: unknown,
  path: string,
  verb: "read" | "write" | "create",
): unknown {
  if (error instanceof ConfigError) return error;
  if (
    error instanceof Deno.errors.PermissionDenied ||
    error instanceof Deno.errors.NotCapable
  ) {
    return new ConfigError(
      `Cannot ${verb} ${path}: permission denied; run the command as a user that may ${verb} it ` +
        `(usually root, e.g. "sudo onehub config …")`,
    );
  }
  if (error instanceof Deno.errors.IsADirectory) {
    return new ConfigError(
      `Cannot ${verb} ${path}: it is a directory; pass the path of a file`,
    );
  }
  return error;
}
