/**
 * `errorWith(Type, ...parts)`: a matcher for `assert.throws` / `assert.rejects`
 * that wants an error of `Type` whose message contains every part (and says
 * which part it lacks).
 *
 * @module
 */
import assert from "node:assert/strict";

// deno-lint-ignore no-explicit-any
type ErrorClass = abstract new (...args: any[]) => Error;

/** The matcher: `assert.throws(fn, errorWith(ConfigError, '"http.port"', "65535"))`. */
export function errorWith(
  type: ErrorClass,
  ...parts: string[]
): (error: unknown) => true {
  return (error) => {
    assert.ok(error instanceof type, `expected ${type.name}, got ${error}`);
    for (const part of parts) {
      assert.ok(
        error.message.includes(part),
        `"${error.message}" lacks ${part}`,
      );
    }
    return true;
  };
}
