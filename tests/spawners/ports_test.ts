/** freePort(): a port the kernel hands out, free again once returned. */
import assert from "node:assert/strict";
import { freePort, SpawnError } from "../../spawners/mod.ts";

Deno.test("freePort() returns a port that can be bound right away", async () => {
  const port = await freePort();
  assert.ok(Number.isInteger(port) && port > 0 && port < 65536);
  const listener = Deno.listen({ hostname: "127.0.0.1", port });
  listener.close();
});

Deno.test("freePort() rejects an address this machine does not have", async () => {
  await assert.rejects(freePort("192.0.2.1"), SpawnError); // TEST-NET-1
});
