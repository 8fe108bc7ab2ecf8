/**
 * Dotted-path editing of file-shaped config objects: read, set and unset the
 * value at `a.b.c`, and list every leaf path. Each edit returns a copy.
 *
 * @module
 */

/** A nested object as read from YAML (snake_case keys). */
export type RawConfig = Record<string, unknown>;

/** The parts of a dotted path: `"auth.pam.service"` → `["auth", "pam", "service"]`. */
export function pathParts(key: string): string[] {
  return key.split(".");
}

/** Reads the value at a dotted path of a nested object. */
export function getAt(obj: RawConfig, key: string): unknown {
  let cur: unknown = obj;
  for (const part of pathParts(key)) {
    if (cur === null || typeof cur !== "object" || Array.isArray(cur)) {
      return undefined;
    }
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** A value and the dotted path it goes to. */
export interface PathValue {
  /** The dotted path, e.g. `auth.pam.service`. */
  key: string;
  /** The value to set there. */
  value: unknown;
}

/** Returns a copy of `obj` with `value` set at the dotted path `key`. */
export function setAt(obj: RawConfig, { key, value }: PathValue): RawConfig {
  const parts = pathParts(key);
  const copy: RawConfig = structuredClone(obj);
  let cur: Record<string, unknown> = copy;
  for (const part of parts.slice(0, -1)) {
    const next = cur[part];
    if (next === null || typeof next !== "object" || Array.isArray(next)) {
      cur[part] = {};
    }
    cur = cur[part] as Record<string, unknown>;
  }
  cur[parts.at(-1)!] = value;
  return copy;
}

/** Returns a copy of `obj` without the dotted path (empty parents removed). */
export function unsetAt(obj: RawConfig, key: string): RawConfig {
  const copy: RawConfig = structuredClone(obj);
  const parts = pathParts(key);
  const stack: Record<string, unknown>[] = [copy];
  let cur: Record<string, unknown> = copy;
  for (const part of parts.slice(0, -1)) {
    const next = cur[part];
    if (next === null || typeof next !== "object" || Array.isArray(next)) {
      return copy;
    }
    cur = next as Record<string, unknown>;
    stack.push(cur);
  }
  delete cur[parts.at(-1)!];
  for (let i = parts.length - 2; i >= 0; i--) {
    const child = stack[i + 1]!;
    if (Object.keys(child).length === 0) delete stack[i]![parts[i]!];
  }
  return copy;
}

/** True for `{...}` objects (not arrays, sets, buffers or class instances). */
export function isPlainObject(value: unknown): value is RawConfig {
  if (value === null || typeof value !== "object") return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Lists every leaf path of a nested object. Arrays, scalars and empty
 * mappings are leaves (so `http: {}` is reported, not silently dropped).
 */
export function leafKeys(obj: RawConfig, prefix = ""): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(obj)) {
    const path = prefix ? `${prefix}.${k}` : k;
    if (isPlainObject(v) && Object.keys(v).length > 0) {
      out.push(...leafKeys(v, path));
    } else out.push(path);
  }
  return out;
}
