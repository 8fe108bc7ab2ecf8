/**
 * The REST API's limits (`api.*`), the login cookie's lifetime
 * (`session.max_age`) and the cap on API token lifetimes (`tokens.*`).
 *
 * @module
 */
import { invalid, type KeySpec } from "../schema.ts";

/** The `api.*`, `session.max_age` and `tokens.*` keys, in table order. */
export const API_KEYS = [
  {
    key: "api.page_default_limit",
    field: "api.pageDefaultLimit",
    kind: "int",
    default: 50,
    min: 1,
    max: 10000,
    reload: "live",
    doc: "Default page size",
    check: (v, values) =>
      v > values.int("api.page_max_limit")
        ? invalid("api.page_default_limit", {
          value: v,
          expected: `at most api.page_max_limit (${
            values.int("api.page_max_limit")
          })`,
        })
        : null,
  },
  {
    key: "api.page_max_limit",
    field: "api.pageMaxLimit",
    kind: "int",
    default: 200,
    min: 1,
    max: 10000,
    reload: "live",
    doc: "Largest page size",
  },
  {
    key: "api.max_body_size",
    field: "api.maxBodySize",
    kind: "int",
    default: 1048576,
    min: 1024,
    max: 1073741824,
    reload: "live",
    doc: "Largest request body in bytes",
  },
  {
    key: "session.max_age",
    field: "session.maxAgeSeconds",
    kind: "int",
    default: 1209600,
    min: 60,
    max: 31536000,
    reload: "live",
    doc: "Login cookie lifetime in seconds",
  },
  {
    key: "tokens.max_expires_in",
    field: "tokens.maxExpiresInSeconds",
    kind: "int",
    default: 0,
    min: 0,
    max: 315360000,
    reload: "live",
    doc: "Cap (and default) for API token lifetimes in seconds; 0 = no cap",
  },
] as const satisfies readonly KeySpec[];
