import assert from "node:assert/strict";
import { createLogger, formatValue } from "../../../hub/observe/log.ts";

Deno.test("log lines escape control characters in messages and fields: one line, no terminal escapes", () => {
  const lines: string[] = [];
  const logger = createLogger({
    write: (line) => lines.push(line),
    now: () => new Date(0),
  });
  logger.warn("login failed\nFAKE ENTRY", {
    user: "ev\u001b[31mil\u0000",
    note: "a\u2028b",
    plain: "alice",
  });
  assert.equal(lines.length, 1);
  const line = lines[0]!;
  // deno-lint-ignore no-control-regex
  assert.doesNotMatch(line, /[\u0000-\u001f\u007f-\u009f\u2028]/);
  assert.match(line, /login failed\\u000aFAKE ENTRY/);
  assert.match(line, /user="ev\\u001b\[31mil\\u0000"/);
  assert.match(line, /note="a\\u2028b"/);
  assert.match(line, / plain=alice$/);
});

Deno.test("formatValue() leaves simple values bare and quotes the rest", () => {
  const rows: Array<[unknown, string]> = [
    ["alice", "alice"],
    [42, "42"],
    ["two words", '"two words"'],
    ["a=b", '"a=b"'],
    ["\u0085", '"\\u0085"'],
  ];
  for (const [value, expected] of rows) {
    assert.equal(formatValue(value), expected);
  }
});
