/**
 * hub/cli/_command.ts: `parseCommandArgs` keeps the words that are not
 * flags, `parseCommandFlags` refuses them; both turn node's parse errors
 * into a UsageError with node's first sentence.
 */
import assert from "node:assert/strict";
import {
  COMMON_OPTIONS,
  parseCommandArgs,
  parseCommandFlags,
} from "../../../hub/cli/_command.ts";
import { UsageError } from "../../../hub/errors.ts";

function usageError(message: string) {
  return (error: unknown) =>
    error instanceof UsageError && error.message === message;
}

Deno.test("parseCommandArgs returns flags and positionals", () => {
  const { values, positionals } = parseCommandArgs(
    ["add", "alice", "--config", "/tmp/c.yaml", "-h"],
    COMMON_OPTIONS,
  );
  assert.deepEqual(positionals, ["add", "alice"]);
  assert.equal(values.config, "/tmp/c.yaml");
  assert.equal(values.help, true);
});

Deno.test("parseCommandFlags returns flags and refuses positionals with node's message", () => {
  const { values } = parseCommandFlags(["--config", "x.yaml"], COMMON_OPTIONS);
  assert.equal(values.config, "x.yaml");
  assert.throws(
    () => parseCommandFlags(["extra"], COMMON_OPTIONS),
    usageError(
      "Unexpected argument 'extra'. This command does not take positional arguments",
    ),
  );
});

Deno.test("both parsers name an unknown or incomplete flag without node's advice", () => {
  for (const parse of [parseCommandArgs, parseCommandFlags]) {
    assert.throws(
      () => parse(["--bogus"], COMMON_OPTIONS),
      usageError("Unknown option '--bogus'"),
    );
    assert.throws(
      () => parse(["--config"], COMMON_OPTIONS),
      usageError("Option '--config <value>' argument missing"),
    );
  }
});
