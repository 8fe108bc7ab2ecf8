/** createSpawner(): the driver table. */
import assert from "node:assert/strict";
import { createSpawner, SpawnError } from "../../spawners/mod.ts";

Deno.test("createSpawner() returns the driver of each kind", () => {
  assert.equal(createSpawner("local").kind, "local");
  assert.equal(
    createSpawner("systemd", { systemctlPath: "/x" }).kind,
    "systemd",
  );
});

Deno.test("createSpawner() rejects an unknown kind from a config file", () => {
  assert.throws(
    () => createSpawner("docker" as "local"),
    (error: unknown) =>
      error instanceof SpawnError &&
      /use "local" or "systemd"/.test(error.reason),
  );
});
