/**
 * Roles and groups from the config file, checked (pure: no I/O):
 *
 * ```yaml
 * groups:                      # JupyterHub's load_groups
 *   students:
 *     users: [ada, brian]
 *     properties: { course: intro }
 * roles:                       # JupyterHub's load_roles
 *   - name: teaching-assistant
 *     description: Helps the students
 *     scopes: [list:users, "read:users!group=students",
 *              "access:servers!group=students", "admin:servers!group=students"]
 *     users: [tom]
 *     groups: []
 *     services: []
 * ```
 *
 * Errors name the key, the role or group, and what is accepted. Whether
 * the members exist is checked when they are applied (hub/config/access.ts).
 *
 * @module
 */
import { ConfigError, quote } from "../errors.ts";
import { ROLE_NAME_PATTERN } from "./roles.ts";
import { ScopeError, validateScopes } from "./scopes.ts";

/** One role of `roles`. */
export interface RoleSpec {
  name: string;
  description: string;
  scopes: string[];
  users: string[];
  groups: string[];
  services: string[];
}

/** One group of `groups`. */
export interface GroupSpec {
  name: string;
  users: string[];
  properties: Record<string, unknown>;
}

/** Roles onehub keeps as they are: redefining them is refused. */
const FIXED_ROLES = new Set(["admin"]);
const ROLE_KEYS = [
  "name",
  "description",
  "scopes",
  "users",
  "groups",
  "services",
];

/** Group names follow the username rules: 1–128 characters, no `/`, no control characters, trimmed. */
export function groupNameProblem(name: string): string | null {
  if (name.length === 0) return "it is empty";
  if (name.length > 128) return "it is longer than 128 characters";
  if (name.includes("/")) return 'it contains "/"';
  if (name !== name.trim()) return "it starts or ends with whitespace";
  // deno-lint-ignore no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) {
    return "it contains control characters";
  }
  if (name === "." || name === "..") return 'it is "." or ".."';
  if (!name.isWellFormed()) return "it is not valid Unicode";
  return null;
}

function strings(value: unknown, where: string, key: string): string[] {
  if (value === undefined) return [];
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) {
    return [...value];
  }
  throw new ConfigError(
    `Invalid ${where}: "${key}" is ${quote(value)}; expected a list of strings`,
  );
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function parseRole(raw: unknown, index: number): RoleSpec {
  if (!isMapping(raw)) {
    throw new ConfigError(
      `Invalid role #${index + 1} in "roles": ${
        quote(raw)
      }; expected a mapping with "name" and "scopes"`,
    );
  }
  const name = raw.name;
  if (typeof name !== "string" || !ROLE_NAME_PATTERN.test(name)) {
    throw new ConfigError(
      `Invalid role #${index + 1} in "roles": "name" is ${
        quote(name)
      }; expected 3–255 characters: a lowercase letter, then letters, digits or -_~., ending with a letter or digit`,
    );
  }
  const where = `role "${name}" in "roles"`;
  const unknown = Object.keys(raw).find((k) => !ROLE_KEYS.includes(k));
  if (unknown) {
    throw new ConfigError(
      `Invalid ${where}: unknown key "${unknown}"; the keys are ${
        ROLE_KEYS.join(", ")
      }`,
    );
  }
  if (FIXED_ROLES.has(name)) {
    throw new ConfigError(
      `Invalid ${where}: the admin role is built in; give admins with users.admin, or define a role of another name`,
    );
  }
  if (raw.description !== undefined && typeof raw.description !== "string") {
    throw new ConfigError(`Invalid ${where}: "description" must be a string`);
  }
  const scopes = strings(raw.scopes, where, "scopes");
  try {
    validateScopes(scopes, { subject: `role '${name}'` });
  } catch (error) {
    if (!(error instanceof ScopeError)) throw error;
    throw new ConfigError(`Invalid ${where}: ${error.message}`);
  }
  return {
    name,
    description: (raw.description as string | undefined) ?? "",
    scopes,
    users: strings(raw.users, where, "users"),
    groups: strings(raw.groups, where, "groups"),
    services: strings(raw.services, where, "services"),
  };
}

/**
 * Checks `roles`.
 *
 * @throws {ConfigError} naming the role, the key and the accepted form.
 */
export function parseRoles(raw: readonly unknown[]): RoleSpec[] {
  const roles = raw.map(parseRole);
  const seen = new Set<string>();
  for (const r of roles) {
    if (seen.has(r.name)) {
      throw new ConfigError(
        `Invalid role "${r.name}" in "roles": the name is used twice`,
      );
    }
    seen.add(r.name);
  }
  return roles;
}

/**
 * Checks `groups` (a mapping of group name → `{users, properties}`).
 *
 * @throws {ConfigError} naming the group, the key and the accepted form.
 */
export function parseGroups(raw: Record<string, unknown>): GroupSpec[] {
  return Object.entries(raw).map(([name, value]) => {
    const problem = groupNameProblem(name);
    if (problem) {
      throw new ConfigError(
        `Invalid group name ${quote(name)} in "groups": ${problem}`,
      );
    }
    const where = `group "${name}" in "groups"`;
    const spec = value ?? {};
    if (!isMapping(spec)) {
      throw new ConfigError(
        `Invalid ${where}: ${
          quote(value)
        }; expected a mapping with "users" and/or "properties"`,
      );
    }
    const unknown = Object.keys(spec).find((k) =>
      k !== "users" && k !== "properties"
    );
    if (unknown) {
      throw new ConfigError(
        `Invalid ${where}: unknown key "${unknown}"; the keys are users, properties`,
      );
    }
    const properties = spec.properties ?? {};
    if (!isMapping(properties)) {
      throw new ConfigError(`Invalid ${where}: "properties" must be a mapping`);
    }
    return {
      name,
      users: strings(spec.users, where, "users"),
      properties: { ...properties },
    };
  });
}
