import assert from "node:assert/strict";
import { scopesDocument } from "../../tools/scope_docs.ts";
import { repoPath } from "../_helpers/paths.ts";

Deno.test("docs/scopes.md matches the scope table (run `deno task docs:scopes` after changing it)", async () => {
  assert.equal(
    await Deno.readTextFile(repoPath("docs/scopes.md")),
    scopesDocument(),
  );
});
