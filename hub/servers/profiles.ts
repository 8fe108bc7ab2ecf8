/**
 * Server profiles and per-group limits (pure: no I/O). A profile is a
 * choice on the spawn form ("Small", "Large (GPU course)") with its own
 * limits, default URL and environment, open to everyone or to some groups;
 * `limits.groups` raises the limits of a group's members (the most generous
 * of their groups wins). {@linkcode resolveSpawn} turns a user's groups and
 * the `user_options` of a start (form or REST) into what the spawner gets,
 * or a 400 naming what was wrong.
 *
 * ```yaml
 * profiles:
 *   - slug: small
 *     display_name: Small
 *     description: 1 CPU, 2 GB
 *     default: true
 *     limits: { memory: 2G, cpu: 1 }
 *   - slug: large
 *     display_name: Large
 *     limits: { memory: 8G, cpu: 4 }
 *     default_url: /lab
 *     environment: { COURSE: ml }
 *     groups: [ml-course]
 * limits:
 *   groups:
 *     staff: { memory: 8G, cpu: 4 }
 * ```
 *
 * @module
 */
import { ConfigError, HubError, quote } from "../errors.ts";

/** A limit set: bytes of memory, CPU cores, processes. */
export interface Limits {
  memoryBytes?: number;
  cpu?: number;
  tasks?: number;
}

/** One profile of `profiles`. */
export interface Profile {
  slug: string;
  displayName: string;
  description: string;
  default: boolean;
  limits: Limits;
  defaultUrl: string;
  environment: Record<string, string>;
  /** Groups allowed to pick it; empty = everyone. */
  groups: string[];
}

const PROFILE_KEYS = [
  "slug",
  "display_name",
  "description",
  "default",
  "limits",
  "default_url",
  "environment",
  "groups",
];

function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/**
 * Bytes of a memory size: bytes, or a number with K, M, G or T (powers of
 * 1024, as JupyterHub's `mem_limit`); null when the text is not a size.
 */
export function sizeInBytes(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?\s*$/i.exec(text);
  if (!m) return null;
  // "" (bytes) is power 0: indexOf("") would say 0 and make it K.
  const power = m[2] ? "KMGT".indexOf(m[2].toUpperCase()) + 1 : 0;
  return Math.floor(Number(m[1]) * 1024 ** power);
}

/** A size {@linkcode sizeInBytes} reads back: the largest of K, M, G, T that divides `bytes`, e.g. "256M"; else bytes. */
export function sizeText(bytes: number): string {
  let power = 0;
  while (power < 4 && bytes > 0 && bytes % 1024 ** (power + 1) === 0) power++;
  return `${bytes / 1024 ** power}${power ? "KMGT"[power - 1] : ""}`;
}

/** CPU cores of a text such as "1.5" (more than 0, at most 1024); null otherwise. */
export function coreCount(text: string): number | null {
  const cpu = Number(text);
  return /^\s*\d+(\.\d+)?\s*$/.test(text) && cpu > 0 && cpu <= 1024
    ? cpu
    : null;
}

/** Parses `{memory, cpu, tasks}`; `where` names it in errors. */
export function parseLimits(raw: unknown, where: string): Limits {
  if (raw === undefined || raw === null) return {};
  if (!isMapping(raw)) {
    throw new ConfigError(
      `Invalid ${where}: expected a mapping of memory, cpu, tasks`,
    );
  }
  const out: Limits = {};
  for (const [key, value] of Object.entries(raw)) {
    const text = String(value);
    if (key === "memory") {
      const bytes = sizeInBytes(text);
      if (bytes === null) {
        throw new ConfigError(
          `Invalid ${where}: memory ${
            quote(value)
          }; expected bytes or a size such as "512M" or "2G"`,
        );
      }
      out.memoryBytes = bytes;
    } else if (key === "cpu") {
      const cpu = coreCount(text);
      if (cpu === null) {
        throw new ConfigError(
          `Invalid ${where}: cpu ${
            quote(value)
          }; expected a number of cores such as 1 or 1.5`,
        );
      }
      out.cpu = cpu;
    } else if (key === "tasks") {
      if (!Number.isInteger(value) || (value as number) < 16) {
        throw new ConfigError(
          `Invalid ${where}: tasks ${
            quote(value)
          }; expected a whole number of processes, at least 16`,
        );
      }
      out.tasks = value as number;
    } else {
      throw new ConfigError(
        `Invalid ${where}: unknown limit "${key}"; the limits are memory, cpu, tasks`,
      );
    }
  }
  return out;
}

function strings(value: unknown, where: string): string[] {
  if (value === undefined) return [];
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) {
    return [...value];
  }
  throw new ConfigError(`Invalid ${where}: expected a list of strings`);
}

/** A profile's slug and its only keys, or a ConfigError naming the profile by number. */
function profileSlug(raw: unknown, index: number): string {
  if (!isMapping(raw)) {
    throw new ConfigError(
      `Invalid profile #${
        index + 1
      } in "profiles": expected a mapping with "slug" and "display_name"`,
    );
  }
  const slug = raw.slug;
  if (typeof slug !== "string" || !/^[a-z0-9][a-z0-9_-]{0,62}$/.test(slug)) {
    throw new ConfigError(
      `Invalid profile #${index + 1} in "profiles": "slug" is ${
        quote(slug)
      }; expected lowercase letters, digits, "-" or "_" (at most 63)`,
    );
  }
  const unknown = Object.keys(raw).find((k) => !PROFILE_KEYS.includes(k));
  if (unknown) {
    throw new ConfigError(
      `Invalid profile "${slug}" in "profiles": unknown key "${unknown}"; the keys are ${
        PROFILE_KEYS.join(", ")
      }`,
    );
  }
  return slug;
}

/** A profile's `environment`: NAME → "text". */
function profileEnvironment(
  raw: Record<string, unknown>,
  where: string,
): Record<string, string> {
  const env = raw.environment ?? {};
  if (
    !isMapping(env) ||
    Object.entries(env).some(([k, v]) =>
      typeof v !== "string" || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)
    )
  ) {
    throw new ConfigError(
      `Invalid ${where}: "environment" must map NAME to "text"`,
    );
  }
  return env as Record<string, string>;
}

function parseProfile(raw: unknown, index: number): Profile {
  const slug = profileSlug(raw, index);
  const fields = raw as Record<string, unknown>;
  const where = `profile "${slug}" in "profiles"`;
  const text = (key: string) => {
    const v = fields[key] ?? "";
    if (typeof v !== "string") {
      throw new ConfigError(`Invalid ${where}: "${key}" must be a string`);
    }
    return v;
  };
  const environment = profileEnvironment(fields, where);
  const defaultUrl = text("default_url");
  if (defaultUrl && !defaultUrl.startsWith("/")) {
    throw new ConfigError(
      `Invalid ${where}: "default_url" is ${
        quote(defaultUrl)
      }; expected a path such as "/lab"`,
    );
  }
  if (fields.default !== undefined && typeof fields.default !== "boolean") {
    throw new ConfigError(`Invalid ${where}: "default" must be true or false`);
  }
  return {
    slug,
    displayName: text("display_name") || slug,
    description: text("description"),
    default: fields.default === true,
    limits: parseLimits(fields.limits, `limits of ${where}`),
    defaultUrl,
    environment,
    groups: strings(fields.groups, `"groups" of ${where}`),
  };
}

/**
 * Checks `profiles`.
 *
 * @throws {ConfigError} naming the profile, the key and the accepted form.
 */
export function parseProfiles(raw: readonly unknown[]): Profile[] {
  const profiles = raw.map(parseProfile);
  const seen = new Set<string>();
  for (const p of profiles) {
    if (seen.has(p.slug)) {
      throw new ConfigError(
        `Invalid profile "${p.slug}" in "profiles": the slug is used twice`,
      );
    }
    seen.add(p.slug);
  }
  if (profiles.filter((p) => p.default).length > 1) {
    throw new ConfigError(
      'Invalid "profiles": more than one has "default: true"',
    );
  }
  return profiles;
}

/** Parses `limits.groups` (group name → limits). */
export function parseGroupLimits(
  raw: Record<string, unknown>,
): Record<string, Limits> {
  return Object.fromEntries(
    Object.entries(raw).map((
      [group, limits],
    ) => [
      group,
      parseLimits(limits, `limits of group "${group}" in "limits.groups"`),
    ]),
  );
}

/** The profiles a user in `groups` may pick. */
export function profilesFor(
  profiles: readonly Profile[],
  groups: readonly string[],
): Profile[] {
  return profiles.filter((p) =>
    p.groups.length === 0 || p.groups.some((g) => groups.includes(g))
  );
}

/** The most generous of several limit sets, key by key (a missing key: no limit, which wins). */
function mostGenerous(sets: readonly Limits[]): Limits {
  const out: Limits = {};
  for (const key of ["memoryBytes", "cpu", "tasks"] as const) {
    const values = sets.map((s) => s[key]);
    if (values.length && values.every((v) => v !== undefined)) {
      out[key] = Math.max(...(values as number[]));
    }
  }
  return out;
}

/** What a spawn gets from the config, the user's groups and the start's options. */
export interface SpawnChoice {
  /** The chosen profile's slug, or null without profiles. */
  profile: string | null;
  limits: Limits;
  defaultUrl: string;
  environment: Record<string, string>;
}

/** The profile slug of `user_options` (`"large"` or the form's `["large"]`). */
function chosenSlug(options: Record<string, unknown>): string | undefined {
  const value = options.profile;
  if (value === undefined) return undefined;
  const slug = Array.isArray(value) && value.length === 1 ? value[0] : value;
  if (typeof slug !== "string") {
    throw new HubError(
      400,
      `"profile" must be a profile's slug, got ${quote(value)}`,
    );
  }
  return slug;
}

/**
 * Resolves a start: global limits, raised by the user's groups' limits,
 * replaced by the chosen profile's (when it sets them).
 *
 * @throws {HubError} 400 for a profile that does not exist or that the user may not pick.
 */
export function resolveSpawn(input: {
  profiles: readonly Profile[];
  groupLimits: Readonly<Record<string, Limits>>;
  global: Limits;
  defaultUrl: string;
  groups: readonly string[];
  userOptions: Record<string, unknown>;
}): SpawnChoice {
  const fromGroups = input.groups.filter((g) => g in input.groupLimits)
    .map((g) => input.groupLimits[g]!);
  const base = fromGroups.length
    ? { ...input.global, ...mostGenerous(fromGroups) }
    : { ...input.global };
  const choice: SpawnChoice = {
    profile: null,
    limits: base,
    defaultUrl: input.defaultUrl,
    environment: {},
  };
  if (input.profiles.length === 0) return choice;
  const open = profilesFor(input.profiles, input.groups);
  const slug = chosenSlug(input.userOptions);
  const profile = slug === undefined
    ? open.find((p) => p.default) ?? open[0]
    : open.find((p) => p.slug === slug);
  if (!profile) {
    const exists = input.profiles.some((p) => p.slug === slug);
    throw new HubError(
      400,
      slug === undefined
        ? "No server profile is open to you: ask an admin to add you to a group that may use one"
        : exists
        ? `The profile "${slug}" is not available to you; choose one of: ${
          open.map((p) => p.slug).join(", ") || "none"
        }`
        : `No profile named ${quote(slug)}; choose one of: ${
          open.map((p) => p.slug).join(", ") || "none"
        }`,
    );
  }
  return {
    profile: profile.slug,
    limits: { ...base, ...profile.limits },
    defaultUrl: profile.defaultUrl || input.defaultUrl,
    environment: profile.environment,
  };
}
