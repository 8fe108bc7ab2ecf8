import assert from "node:assert/strict";
import { configDocument } from "../../tools/config_docs.ts";
import { CONFIG_KEYS } from "../../hub/config/mod.ts";
import { repoPath } from "../_helpers/paths.ts";

Deno.test("docs/config.md matches the key table (run `deno task docs:config` after changing it)", async () => {
  const text = await Deno.readTextFile(repoPath("docs/config.md"));
  assert.equal(text, configDocument());
  for (const k of CONFIG_KEYS) {
    assert.ok(text.includes(`| \`${k.key}\` |`), k.key);
  }
});
