/**
 * The `users.*` keys: who may log in and who is an admin.
 *
 * @module
 */
import { invalid, type KeySpec } from "../schema.ts";

function checkPattern(value: string): string | null {
  if (value === "") return null;
  try {
    new RegExp(value);
    return null;
  } catch (error) {
    return invalid("users.username_pattern", {
      value,
      expected: `a regular expression: ${(error as Error).message}`,
    });
  }
}

/** The `users.*` keys, in table order. */
export const USERS_KEYS = [
  {
    key: "users.allowed",
    field: "users.allowed",
    kind: "list",
    default: [],
    reload: "live",
    doc: "Users allowed to log in",
  },
  {
    key: "users.blocked",
    field: "users.blocked",
    kind: "list",
    default: [],
    reload: "live",
    doc: "Users never allowed to log in",
  },
  {
    key: "users.admin",
    field: "users.admin",
    kind: "list",
    default: [],
    reload: "live",
    doc: "Admin users (always allowed)",
  },
  {
    key: "users.allow_all",
    field: "users.allowAll",
    kind: "bool",
    default: false,
    reload: "live",
    doc:
      "Allow every user the authenticator accepts (dummy auth with no allowed list implies it)",
  },
  {
    key: "users.allow_existing",
    field: "users.allowExisting",
    kind: "bool",
    default: true,
    reload: "live",
    doc: "Allow users that exist in the hub database (added by an admin)",
  },
  {
    key: "users.username_pattern",
    field: "users.usernamePattern",
    kind: "string",
    default: "",
    reload: "live",
    doc: "Regular expression every username must match",
    check: checkPattern,
  },
] as const satisfies readonly KeySpec[];
