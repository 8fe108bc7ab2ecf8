/**
 * Typed errors for the hub. Anything in `hub/` throws {@linkcode HubError};
 * one `onError` handler (hub/app.ts) turns it into the JupyterHub error body
 * `{"status": N, "message": "…"}`. {@linkcode quote} is the one way a
 * message shows a value it got.
 *
 * @module
 */

/** Reason phrases used when an error carries no message of its own. */
const REASONS: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  413: "Payload Too Large",
  415: "Unsupported Media Type",
  424: "Failed Dependency",
  429: "Too Many Requests",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

/** Options for {@linkcode HubError}. */
export interface HubErrorOptions {
  /** Machine-readable code, e.g. `"invalid_json"`. */
  code?: string;
  /** The underlying error. */
  cause?: unknown;
  /** Extra response headers (e.g. `Retry-After`). */
  headers?: Record<string, string>;
}

/** An error that maps to an HTTP status and a message meant for the client. */
export class HubError extends Error {
  readonly status: number;
  readonly code: string;
  readonly headers: Record<string, string>;

  constructor(status: number, message?: string, options: HubErrorOptions = {}) {
    super(message ?? REASONS[status] ?? "Error", { cause: options.cause });
    this.name = "HubError";
    this.status = status;
    this.code = options.code ?? "error";
    this.headers = options.headers ?? {};
  }
}

/** The reason phrase for a status code ("Not Found"). */
export function reasonPhrase(status: number): string {
  return REASONS[status] ?? "Error";
}

/** A wrong command line: printed with the usage text, exit status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** A configuration problem: names the key, the value and the accepted form. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/**
 * A value as an error message shows it: JSON (so strings are quoted and
 * control characters escaped), cut after `max` characters with "…".
 *
 * @example
 * ```ts
 * quote("a/b"); // '"a/b"'
 * quote({ port: "x" }); // '{"port":"x"}'
 * ```
 */
export function quote(value: unknown, max = 60): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > max ? text.slice(0, max) + "…" : text;
}
