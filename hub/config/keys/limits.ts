/**
 * The `limits.*` keys (a server's memory, CPU and tasks; limits by group)
 * and `profiles`, with the parsers of their sizes.
 *
 * @module
 */
import { invalid, type KeySpec } from "../schema.ts";
import { ConfigError } from "../../errors.ts";
import {
  coreCount,
  type Limits,
  parseGroupLimits,
  parseProfiles,
  type Profile,
  sizeInBytes,
} from "../../servers/profiles.ts";

/** How to read one limit's text, for {@linkcode parseLimit}. */
interface LimitText {
  /** The key, for the error. */
  key: string;
  /** The text's number, or null when it has none. */
  parse: (text: string) => number | null;
  /** The accepted form, for the error. */
  expected: string;
}

/** A limit's number through `parse`; "" → null. @throws {ConfigError} naming the key and the accepted form. */
function parseLimit(
  text: string,
  { key, parse, expected }: LimitText,
): number | null {
  if (text.trim() === "") return null;
  const value = parse(text);
  if (value === null) {
    throw new ConfigError(invalid(key, { value: text, expected }));
  }
  return value;
}

/**
 * Parses the memory size of `key`: bytes, or a number with K, M, G or T
 * (powers of 1024, as JupyterHub's `mem_limit`). "" → null.
 *
 * @throws {ConfigError} naming the key and the accepted form.
 */
export function parseMemorySize(text: string, key: string): number | null {
  return parseLimit(text, {
    key,
    parse: sizeInBytes,
    expected: 'bytes or a size such as "512M" or "2G"',
  });
}

/** Parses `limits.memory` ({@linkcode parseMemorySize}); "" → null. @throws {ConfigError} */
export function parseMemory(text: string): number | null {
  return parseMemorySize(text, "limits.memory");
}

/** Parses a CPU limit in cores ("1.5"); "" → null. @throws {ConfigError} */
export function parseCpu(text: string): number | null {
  return parseLimit(text, {
    key: "limits.cpu",
    parse: coreCount,
    expected: 'a number of cores such as "1" or "1.5"',
  });
}

/** The file form of a limit set. */
function limitsToRaw(l: Limits): Record<string, unknown> {
  return {
    ...(l.memoryBytes !== undefined ? { memory: String(l.memoryBytes) } : {}),
    ...(l.cpu !== undefined ? { cpu: l.cpu } : {}),
    ...(l.tasks !== undefined ? { tasks: l.tasks } : {}),
  };
}

/** `limits.memory` and `limits.cpu`, in table order (after the spawner's keys). */
export const SERVER_LIMIT_KEYS = [
  {
    key: "limits.memory",
    field: "limits.memoryBytes",
    kind: "string",
    numbers: true,
    default: "",
    reload: "live",
    doc: 'Memory per server, e.g. "2G" (systemd spawner enforces it)',
    resolve: parseMemory,
    toRaw: (v: number | null) => v === null ? "" : String(v),
  },
  {
    key: "limits.cpu",
    field: "limits.cpu",
    kind: "string",
    numbers: true,
    default: "",
    reload: "live",
    doc: 'CPU cores per server, e.g. "1.5" (systemd spawner enforces it)',
    resolve: parseCpu,
    toRaw: (v: number | null) => v === null ? "" : String(v),
  },
] as const satisfies readonly KeySpec[];

/** `limits.tasks`, `limits.groups` and `profiles`, in table order (after `metrics.*`). */
export const GROUP_LIMIT_KEYS = [
  {
    key: "limits.tasks",
    field: "limits.tasks",
    kind: "int",
    default: 0,
    min: 0,
    max: 1000000,
    reload: "live",
    doc: "Processes and threads per server (systemd TasksMax; 0 = no limit)",
  },
  {
    key: "limits.groups",
    field: "limits.groups",
    kind: "mapping",
    default: {},
    reload: "live",
    doc:
      'Limits by group: {students: {memory: "2G", cpu: 1, tasks: 512}}; the most generous of a user\'s groups wins',
    resolve: (v) => parseGroupLimits(v),
    toRaw: (v: Record<string, Limits>) =>
      Object.fromEntries(
        Object.entries(v).map(([g, l]) => [g, limitsToRaw(l)]),
      ),
  },
  {
    key: "profiles",
    field: "profiles",
    kind: "records",
    default: [],
    reload: "live",
    doc:
      "Server profiles offered on the spawn page: slug, display_name, description, default, limits, default_url, environment, groups (see README)",
    resolve: (v) => parseProfiles(v),
    toRaw: (v: Profile[]) =>
      v.map((p) => ({
        slug: p.slug,
        "display_name": p.displayName,
        description: p.description,
        default: p.default,
        limits: limitsToRaw(p.limits),
        "default_url": p.defaultUrl,
        environment: p.environment,
        groups: p.groups,
      })),
  },
] as const satisfies readonly KeySpec[];
