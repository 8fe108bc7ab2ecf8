/**
 * Dotted-path editing (hub/config/edit.ts): edits return copies, unset
 * prunes the sections it empties, reads past a scalar find nothing.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  getAt,
  leafKeys,
  pathParts,
  setAt,
  unsetAt,
} from "../../../hub/config/edit.ts";

Deno.test("setAt() and unsetAt() edit copies and prune empty sections", () => {
  const raw = { http: { port: 1 } };
  const set = setAt(raw, { key: "auth.pam.service", value: "x" });
  assert.deepEqual(set, { http: { port: 1 }, auth: { pam: { service: "x" } } });
  assert.deepEqual(raw, { http: { port: 1 } });
  assert.deepEqual(unsetAt(set, "auth.pam.service"), { http: { port: 1 } });
  assert.deepEqual(unsetAt(set, "no.such.key"), set);
  assert.equal(getAt(set, "auth.pam.service"), "x");
  assert.equal(getAt(set, "http.port.deeper"), undefined);
});

Deno.test("pathParts() and leafKeys() agree on dotted paths; empty mappings are leaves", () => {
  assert.deepEqual(pathParts("auth.pam.service"), ["auth", "pam", "service"]);
  assert.deepEqual(
    leafKeys({ auth: { pam: { service: "x" } }, http: {}, users: ["a"] }),
    ["auth.pam.service", "http", "users"],
  );
});
