/**
 * docs/compat.md (tools/compat_docs.ts) cannot drift: it is what the
 * generator writes now, every row onehub lacks says why, and every test
 * it names exists.
 */
import assert from "node:assert/strict";
import {
  compatDocument,
  endpointRows,
  environmentRows,
  scopeRows,
} from "../../tools/compat_docs.ts";
import { repoPath } from "../_helpers/paths.ts";

Deno.test("docs/compat.md matches the code (run `deno task docs:compat` after changing it)", async () => {
  assert.equal(
    await Deno.readTextFile(repoPath("docs/compat.md")),
    compatDocument(),
  );
});

Deno.test("docs/compat.md: every ❌ has a reason, every ✅ a test, every named test exists", async () => {
  const rows = [...endpointRows(), ...environmentRows(), ...scopeRows()];
  for (const row of rows) {
    if (!row.served) assert.ok(row.evidence.note, `${row.what}: why not?`);
    else assert.ok(row.evidence.tests.length, `${row.what}: which test?`);
    for (const test of row.evidence.tests) {
      assert.ok(
        (await Deno.stat(repoPath(test)).catch(() => null))?.isFile,
        `${row.what}: ${test} does not exist`,
      );
    }
  }
});
