/**
 * Table-driven error cases for the hub's REST API tests:
 * - `assertError(res, status, pattern)`: the response is JupyterHub's error
 *   body `{"status": N, "message": "…"}` with that status and a useful
 *   message matching `pattern`; returns the message.
 * - `ErrorCase`: one row of a table: the request (`send: "POST /hub/api/users"`,
 *   `token`, `json` or a `raw` body) and the error it must get.
 * - `caseName(row)`: the row as a sentence, "POST /hub/api/users answers 403
 *   without admin:users", so a table still reads as a specification.
 * - `assertErrorCase(hub, row)`: sends one row and checks its answer.
 * - `assertAnswer(hub, { send, token, json, status })`: sends a request and
 *   checks only its status (a success, mostly), discarding the body.
 * - `errorSteps(t, hub, rows, { after })`: each row as its own `t.step`,
 *   then `after(row)` (e.g. "the database is unchanged").
 *
 * @module
 */
import assert from "node:assert/strict";
import type { TestHub } from "./test_hub.ts";

/**
 * Asserts a JupyterHub error response: the status, a JSON body with exactly
 * `status` and `message`, and a message matching `pattern`.
 */
export async function assertError(
  res: Response,
  status: number,
  pattern?: RegExp,
): Promise<string> {
  const text = await res.text();
  assert.equal(
    res.status,
    status,
    `expected ${status}, got ${res.status}: ${text}`,
  );
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
  const parsed = JSON.parse(text) as Record<string, unknown>;
  assert.deepEqual(Object.keys(parsed).sort(), ["message", "status"]);
  assert.equal(parsed.status, status);
  assert.equal(typeof parsed.message, "string");
  const message = parsed.message as string;
  assert.ok(message.length > 0, "error message is empty");
  if (pattern) assert.match(message, pattern);
  return message;
}

/** One request the API must refuse, and the error it must answer. */
export interface ErrorCase {
  /** The request line: "POST /hub/api/users" (a bare path is a GET). */
  send: string;
  /** Sent as `Authorization: token …`; no credentials when absent. */
  token?: string;
  /** A body sent as JSON. */
  json?: unknown;
  /** A body sent as it is, labelled `application/json` (bad JSON, bad bytes). */
  raw?: BodyInit;
  /** More request headers. */
  headers?: Record<string, string>;
  /** The status the answer must have. */
  status: number;
  /** What the error message must match (any non-empty message when absent). */
  message?: RegExp;
  /** The end of the step's name: "without admin:users". */
  why?: string;
}

/** The row as the step's name: "POST /hub/api/users answers 403 without admin:users". */
export function caseName(row: ErrorCase): string {
  const request = row.send.includes(" ") ? row.send : `GET ${row.send}`;
  const why = row.why ? ` ${row.why}` : "";
  return `${request} answers ${row.status}${why}`;
}

/** Sends the row's request to `hub`. */
export function sendCase(hub: TestHub, row: ErrorCase): Promise<Response> {
  const [method, path] = row.send.includes(" ")
    ? row.send.split(" ", 2) as [string, string]
    : ["GET", row.send];
  const headers = {
    ...(row.raw !== undefined ? { "content-type": "application/json" } : {}),
    ...row.headers,
  };
  return hub.request(path, {
    method,
    headers,
    ...(row.token !== undefined ? { token: row.token } : {}),
    ...(row.json !== undefined ? { json: row.json } : {}),
    ...(row.raw !== undefined ? { body: row.raw } : {}),
  });
}

/** Sends the row's request and asserts its error; returns the message. */
export async function assertErrorCase(
  hub: TestHub,
  row: ErrorCase,
): Promise<string> {
  return await assertError(await sendCase(hub, row), row.status, row.message);
}

/** Sends the row's request and asserts its status only, discarding the body. */
export async function assertAnswer(
  hub: TestHub,
  row: ErrorCase,
): Promise<void> {
  const res = await sendCase(hub, row);
  await res.body?.cancel();
  assert.equal(res.status, row.status, `${row.send}: ${res.status}`);
}

/**
 * Runs each row as a step named by `caseName`, then `after(row)` in the same
 * step (what a refused request must leave as it was).
 */
export async function errorSteps(
  t: Deno.TestContext,
  hub: TestHub,
  rows: ErrorCase[],
  options: { after?: (row: ErrorCase) => Promise<void> } = {},
): Promise<void> {
  for (const row of rows) {
    await t.step(caseName(row), async () => {
      await assertErrorCase(hub, row);
      await options.after?.(row);
    });
  }
}
