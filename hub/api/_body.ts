/**
 * Reading and checking JSON request bodies: strict UTF-8 (400), JSON
 * syntax (400), and small shape checks whose messages say what to send
 * instead. Sizes are bounded once, before any route runs, by
 * hub/middleware/body_limit.ts.
 *
 * @module
 */
import { quote } from "../errors.ts";
import type { Context } from "hono";
import { HubError } from "../errors.ts";

/**
 * Reads the body as JSON. Empty body → `undefined`. The size is already
 * bounded by the body limit middleware (hub/middleware/body_limit.ts).
 *
 * @throws {HubError} 400 for bad UTF-8 or JSON.
 */
export async function readJson(c: Context): Promise<unknown> {
  const text = await readText(c);
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new HubError(400, "Invalid JSON in body of request", {
      code: "invalid_json",
    });
  }
}

/** Reads the (already bounded) body as strict UTF-8 text. */
export async function readText(c: Context): Promise<string> {
  if (!c.req.raw.body) return "";
  const bytes = await c.req.arrayBuffer();
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new HubError(
      400,
      "Request body is not valid UTF-8: send JSON encoded as UTF-8",
      { code: "bad_utf8" },
    );
  }
}

/** A JSON object or a 400 saying so. */
export function expectObject(
  value: unknown,
  what = "body",
): Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new HubError(400, `The ${what} must be a JSON object`);
  }
  return value as Record<string, unknown>;
}

/** 400 when the object has keys outside `allowed`. */
export function onlyKeys(
  obj: Record<string, unknown>,
  allowed: readonly string[],
): void {
  const bad = Object.keys(obj).filter((k) => !allowed.includes(k));
  if (bad.length) {
    throw new HubError(
      400,
      `Invalid JSON keys: ${
        bad.map((k) => JSON.stringify(k.slice(0, 60))).join(", ")
      }; allowed keys are ${allowed.join(", ")}`,
    );
  }
}

/** What {@linkcode readObject} accepts. */
export interface ObjectShape {
  /** The keys the body may have; any other is a 400 naming it. */
  allowed: readonly string[];
  /** An empty body reads as `{}` (else it is a 400). @default {false} */
  optional?: boolean;
}

/** Reads the body as a JSON object with only `shape.allowed` keys; 400 otherwise. */
export async function readObject(
  c: Context,
  shape: ObjectShape,
): Promise<Record<string, unknown>> {
  const value = await readJson(c);
  const body = expectObject(shape.optional ? value ?? {} : value);
  onlyKeys(body, shape.allowed);
  return body;
}

/** A list of strings or a 400 naming the field (`field`, or `{ field, max }` for another bound than 1000). */
export function stringList(
  value: unknown,
  named: string | { field: string; max?: number },
): string[] {
  const { field, max = 1000 } = typeof named === "string"
    ? { field: named }
    : named;
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) {
    throw new HubError(400, `"${field}" must be a list of strings`);
  }
  if (value.length > max) {
    throw new HubError(
      400,
      `"${field}" has ${value.length} entries; send at most ${max}`,
    );
  }
  return value as string[];
}

/** A boolean or a 400 naming the field. */
export function boolField(value: unknown, field: string): boolean {
  if (typeof value !== "boolean") {
    throw new HubError(
      400,
      `"${field}" must be true or false, got ${short(value)}`,
    );
  }
  return value;
}

/** A value as an error message shows it: hub/errors.ts's {@linkcode quote} (60 characters). */
export const short: (value: unknown) => string = (value) => quote(value);
