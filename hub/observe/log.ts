/**
 * One-line structured logger. Every line is `time level message key=value…`
 * on stderr. Untrusted input goes through {@linkcode truncate}; secrets never
 * reach the logger (callers pass names, never passwords or tokens).
 *
 * @module
 */

/** Log levels, lowest first. */
export type LogLevel = "debug" | "info" | "warn" | "error";

const ORDER: Record<LogLevel, number> = {
  debug: 0,
  info: 1,
  warn: 2,
  error: 3,
};

/** A logger bound to a minimum level. */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** Shortens untrusted text for a log line and removes control characters. */
export function truncate(text: string, max = 120): string {
  // deno-lint-ignore no-control-regex
  const clean = text.replace(/[\u0000-\u001f\u007f]/g, "?");
  return clean.length > max
    ? `${clean.slice(0, max)}…(${clean.length})`
    : clean;
}

/** Control characters (C0, DEL, C1) and Unicode line/paragraph separators. */
// deno-lint-ignore no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/** `text` with every control character written as `\\uXXXX`: one line, no terminal escapes. */
export function escapeControl(text: string): string {
  return text.replace(
    UNSAFE,
    (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** A field value: quoted (JSON, so control characters are escaped) when it needs it. */
export function formatValue(value: unknown): string {
  if (value instanceof Error) return JSON.stringify(value.message);
  const text = typeof value === "string" ? value : JSON.stringify(value);
  if (text === undefined) return "undefined";
  if (text === "") return '""';
  UNSAFE.lastIndex = 0;
  return /[\s"=]/.test(text) || UNSAFE.test(text)
    ? escapeControl(JSON.stringify(text))
    : text;
}

/** Options for {@linkcode createLogger}. */
export interface LoggerOptions {
  /** @default {"info"} */
  level?: LogLevel;
  /** Where lines go. @default {writes to stderr} */
  write?: (line: string) => void;
  /** @default {() => new Date()} */
  now?: () => Date;
}

const encoder = new TextEncoder();

/** Creates a logger writing one line per call. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const min = ORDER[options.level ?? "info"];
  const write = options.write ??
    ((line: string) => Deno.stderr.writeSync(encoder.encode(line + "\n")));
  const now = options.now ?? (() => new Date());
  const emit =
    (level: LogLevel) =>
    (message: string, fields: Record<string, unknown> = {}) => {
      if (ORDER[level] < min) return;
      const parts = [
        now().toISOString(),
        level.toUpperCase().padEnd(5),
        escapeControl(message),
      ];
      for (const [k, v] of Object.entries(fields)) {
        if (v !== undefined) parts.push(`${k}=${formatValue(v)}`);
      }
      write(parts.join(" "));
    };
  return {
    debug: emit("debug"),
    info: emit("info"),
    warn: emit("warn"),
    error: emit("error"),
  };
}

/** A logger that drops everything (tests). */
export const silentLogger: Logger = createLogger({ write: () => {} });
