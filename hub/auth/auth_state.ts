/**
 * A user's `auth_state` (the sign-in provider's tokens and what it said of
 * the user) sealed at rest with AES-256-GCM, as JupyterHub encrypts it with
 * `JUPYTERHUB_CRYPT_KEY`. The key comes from `JUPYTERHUB_CRYPT_KEY` (32-byte
 * keys, hex or base64, `;`-separated: the first seals, all open, so a key
 * can be rotated) or from the 0600 file `auth.crypt_key_file`, made on the
 * first start.
 *
 * A sealed value is `v1:<key id>:<iv>:<ciphertext and tag>` (base64url),
 * bound to the user's row id (additional data), so a value copied onto
 * another user's row does not open. The key id (8 hex digits of a hash of
 * the key) lets the start refuse a database whose states no key opens,
 * instead of silently losing them.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { createCipheriv, createDecipheriv, createHash } from "node:crypto";
import { ensureSecretFile, readSecretFile } from "../config/file.ts";
import type { Db } from "../db/mod.ts";
import { storedAuthStates, updateUser } from "../db/users.ts";
import { ConfigError } from "../errors.ts";

const VERSION = "v1";

/** Whether `text` is a state stored in the clear (a JSON object, from before states were sealed). */
function isClear(text: string): boolean {
  return text.startsWith("{");
}

/** The key id of a key: 8 hex digits of SHA-256 over a label and the key. */
function keyIdOf(key: Uint8Array): string {
  return createHash("sha256").update("onehub auth_state key\0").update(key)
    .digest("hex").slice(0, 8);
}

function b64url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64url");
}

/**
 * The keys of a `JUPYTERHUB_CRYPT_KEY` value: `;`-separated, each 32 bytes
 * as 64 hex digits or as base64.
 *
 * @throws {ConfigError} naming the key that is not 32 bytes.
 */
export function parseCryptKeys(text: string, source: string): Uint8Array[] {
  const parts = text.split(";").map((p) => p.trim()).filter(Boolean);
  if (!parts.length) {
    throw new ConfigError(`${source} is empty: unset it or give a key`);
  }
  return parts.map((part, i) => {
    const bytes = /^[0-9a-fA-F]{64}$/.test(part)
      ? Buffer.from(part, "hex")
      : /^[A-Za-z0-9+/_-]{42,44}={0,2}$/.test(part)
      ? Buffer.from(part, "base64")
      : null;
    if (!bytes || bytes.length !== 32) {
      throw new ConfigError(
        `Key ${
          i + 1
        } of ${source} is not 32 bytes as 64 hex digits or base64: make one with "openssl rand -hex 32"`,
      );
    }
    return new Uint8Array(bytes);
  });
}

/** Seals and opens auth states; the first key seals, every key opens. */
export class AuthStateBox {
  readonly #keys: Map<string, Uint8Array>;
  readonly #sealId: string;

  constructor(keys: readonly Uint8Array[]) {
    if (!keys.length) throw new Error("AuthStateBox needs a key");
    this.#keys = new Map(keys.map((k) => [keyIdOf(k), k]));
    this.#sealId = keyIdOf(keys[0]!);
  }

  /** The ids of the keys this box opens with. */
  get keyIds(): string[] {
    return [...this.#keys.keys()];
  }

  /** `state` sealed for the user of row `userId`. */
  seal(userId: number, state: Record<string, unknown>): string {
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const cipher = createCipheriv(
      "aes-256-gcm",
      this.#keys.get(this.#sealId)!,
      iv,
    );
    cipher.setAAD(Buffer.from(`user:${userId}`));
    const body = Buffer.concat([
      cipher.update(JSON.stringify(state), "utf8"),
      cipher.final(),
      cipher.getAuthTag(),
    ]);
    return [VERSION, this.#sealId, b64url(iv), b64url(body)].join(":");
  }

  /**
   * The state in `text` (sealed by {@linkcode seal}; a JSON object written
   * before states were sealed is read as is), or null when there is none or
   * it does not open (another key, another user's row, damaged). A value
   * that does not open is treated as no state: the user signs in again.
   */
  open(userId: number, text: string | null): Record<string, unknown> | null {
    if (!text) return null;
    if (isClear(text)) return parseObject(text);
    const [version, keyId, iv, body] = text.split(":");
    const key = keyId ? this.#keys.get(keyId) : undefined;
    if (version !== VERSION || !key || !iv || !body) return null;
    try {
      const bytes = Buffer.from(body, "base64url");
      if (bytes.length < 16) return null;
      const decipher = createDecipheriv(
        "aes-256-gcm",
        key,
        Buffer.from(iv, "base64url"),
      );
      decipher.setAAD(Buffer.from(`user:${userId}`));
      decipher.setAuthTag(bytes.subarray(bytes.length - 16));
      const plain = Buffer.concat([
        decipher.update(bytes.subarray(0, bytes.length - 16)),
        decipher.final(),
      ]);
      return parseObject(plain.toString("utf8"));
    } catch {
      return null;
    }
  }

  /** Whether `text` is sealed with one of this box's keys (or is not sealed at all). */
  opensKeyOf(text: string): boolean {
    if (isClear(text)) return true;
    return this.#keys.has(text.split(":")[1] ?? "");
  }
}

function parseObject(text: string): Record<string, unknown> | null {
  try {
    const value = JSON.parse(text);
    return value && typeof value === "object" && !Array.isArray(value)
      ? value
      : null;
  } catch {
    return null;
  }
}

/**
 * A box whose key is derived from the cookie secret: for hubs built
 * without a loaded key (tests, embedders). `onehub serve` always loads
 * the key of `auth.crypt_key_file` or `JUPYTERHUB_CRYPT_KEY`.
 */
export function authStateBoxFromSecret(secret: Uint8Array): AuthStateBox {
  const key = createHash("sha256").update("onehub auth_state from cookie\0")
    .update(secret).digest();
  return new AuthStateBox([new Uint8Array(key)]);
}

const KEY_FILE = {
  what: "auth state key",
  deleting: "users' stored provider tokens are lost; they sign in again",
};

/** Where the key comes from at start. */
export interface AuthStateKeySource {
  /** `auth.crypt_key_file`. */
  keyFile: string;
  /** `JUPYTERHUB_CRYPT_KEY`, when set: it replaces the file. */
  envKey?: string | undefined;
}

/**
 * The box of a starting hub: the keys of `JUPYTERHUB_CRYPT_KEY`, else the
 * key file (made when missing). States stored before they were sealed are
 * sealed now.
 *
 * @throws {ConfigError} when stored states were sealed with a key that is
 *   not available (a lost key file, a changed `JUPYTERHUB_CRYPT_KEY`):
 *   starting anyway would drop them without a word.
 */
export async function loadAuthStateBox(
  db: Db,
  source: AuthStateKeySource,
): Promise<AuthStateBox> {
  const stored = await storedAuthStates(db);
  const sealed = stored.filter((r) => !isClear(r.auth_state));
  let keys: Uint8Array[];
  if (source.envKey !== undefined && source.envKey !== "") {
    keys = parseCryptKeys(source.envKey, "JUPYTERHUB_CRYPT_KEY");
  } else {
    const existing = await readSecretFile(source.keyFile, KEY_FILE);
    if (!existing && sealed.length) {
      throw unopenable(sealed.length, `${source.keyFile} is missing`, source);
    }
    keys = [existing ?? await ensureSecretFile(source.keyFile, KEY_FILE)];
  }
  const box = new AuthStateBox(keys);
  const strangers = sealed.filter((r) => !box.opensKeyOf(r.auth_state));
  if (strangers.length) {
    throw unopenable(
      strangers.length,
      source.envKey
        ? "JUPYTERHUB_CRYPT_KEY holds none of their keys"
        : `${source.keyFile} holds another key`,
      source,
    );
  }
  for (const row of stored) {
    if (!isClear(row.auth_state)) continue;
    const state = box.open(row.id, row.auth_state);
    await updateUser(db, row.id, {
      authState: state ? box.seal(row.id, state) : null,
    });
  }
  return box;
}

function unopenable(
  count: number,
  why: string,
  source: AuthStateKeySource,
): ConfigError {
  return new ConfigError(
    `${count} user${
      count === 1 ? " has an auth state" : "s have auth states"
    } (provider tokens) sealed with a key this hub does not have: ${why}. ` +
      `Restore ${source.keyFile} from a backup, or set JUPYTERHUB_CRYPT_KEY to the key they were sealed with; ` +
      `to drop those states instead (the users sign in again), run "onehub db forget-auth-state"`,
  );
}
