/**
 * The `auth.*` keys: the authenticator, its OAuth provider (keys/oauth.ts),
 * the PAM helpers, the failed-login throttle and dummy auth.
 *
 * @module
 */
import type { KeySpec } from "../schema.ts";
import { OAUTH_KEYS } from "./oauth.ts";

/** The `auth.*` keys (but `auth.crypt_key_file`, in keys/hub.ts), in table order. */
export const AUTH_KEYS = [
  {
    key: "auth.type",
    field: "auth.type",
    kind: "enum",
    default: "pam",
    values: ["pam", "dummy", "oauth"],
    reload: "restart",
    doc:
      "Authenticator: pam (Linux accounts), dummy (trials), oauth (only the auth.oauth provider)",
  },
  ...OAUTH_KEYS,
  {
    key: "auth.pam.service",
    field: "auth.pam.service",
    kind: "string",
    default: "onehub",
    reload: "restart",
    doc: "PAM service name (/etc/pam.d/<service> must exist)",
  },
  {
    key: "auth.pam.timeout",
    field: "auth.pam.timeoutSeconds",
    kind: "int",
    default: 10,
    min: 1,
    max: 120,
    reload: "restart",
    doc: "Seconds before a PAM check is abandoned",
  },
  {
    key: "auth.pam.concurrency",
    field: "auth.pam.concurrency",
    kind: "int",
    default: 4,
    min: 1,
    max: 64,
    reload: "restart",
    doc:
      "PAM helper processes checking passwords at once (kept warm, ~40 MB each)",
  },
  {
    key: "auth.pam.queue_size",
    field: "auth.pam.queueSize",
    kind: "int",
    default: 32,
    min: 0,
    max: 10000,
    reload: "restart",
    doc:
      "Logins waiting for a PAM helper, at most; more get 429 with Retry-After",
  },
  {
    key: "auth.throttle.enabled",
    field: "auth.throttle.enabled",
    kind: "bool",
    default: true,
    reload: "restart",
    doc: "Throttle failed logins per client address and per username",
  },
  {
    key: "auth.throttle.address_failures",
    field: "auth.throttle.addressFailures",
    kind: "int",
    default: 10,
    min: 1,
    max: 100000,
    reload: "restart",
    doc:
      "Failed logins an address may make within auth.throttle.window before it must wait",
  },
  {
    key: "auth.throttle.user_failures",
    field: "auth.throttle.userFailures",
    kind: "int",
    default: 5,
    min: 1,
    max: 100000,
    reload: "restart",
    doc:
      "Failed logins for one username within auth.throttle.window before addresses that failed must wait",
  },
  {
    key: "auth.throttle.user_hard_limit",
    field: "auth.throttle.userHardLimit",
    kind: "int",
    default: 30,
    min: 1,
    max: 100000,
    reload: "restart",
    doc:
      "Failed logins for one username within auth.throttle.window after which every address must wait, fresh ones too (a hard cap on guesses per name)",
  },
  {
    key: "auth.throttle.base_delay",
    field: "auth.throttle.baseDelaySeconds",
    kind: "int",
    default: 2,
    min: 1,
    max: 3600,
    reload: "restart",
    doc:
      "Seconds of the first wait after the free failures; doubles with each further failure",
  },
  {
    key: "auth.throttle.max_delay",
    field: "auth.throttle.maxDelaySeconds",
    kind: "int",
    default: 900,
    min: 1,
    max: 86400,
    reload: "restart",
    doc: "Longest wait in seconds",
  },
  {
    key: "auth.throttle.window",
    field: "auth.throttle.windowSeconds",
    kind: "int",
    default: 900,
    min: 1,
    max: 86400,
    reload: "restart",
    doc: "Seconds a failed login is remembered",
  },
  {
    key: "auth.dummy.password",
    field: "auth.dummy.password",
    kind: "string",
    default: "",
    reload: "restart",
    doc: "Shared password for dummy auth; empty accepts any password",
  },
  {
    key: "auth.dummy.allow_public",
    field: "auth.dummy.allowPublic",
    kind: "bool",
    default: false,
    reload: "restart",
    doc:
      "Let dummy auth serve on a non-loopback address (unsafe: anyone can log in)",
  },
] as const satisfies readonly KeySpec[];
