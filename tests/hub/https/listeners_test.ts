/** The names of the Let's Encrypt certificate (hub/https/listeners.ts). */
import assert from "node:assert/strict";
import {
  certificateNames,
  MAX_CERT_NAMES,
} from "../../../hub/https/listeners.ts";
import { createLogger } from "../../../hub/observe/log.ts";

Deno.test("certificateNames(): configured names first, users' hosts sorted, no repeats, at most 100 (and it says so)", () => {
  const lines: string[] = [];
  const logger = createLogger({ level: "info", write: (l) => lines.push(l) });
  assert.deepEqual(
    certificateNames(["hub.example.org"], {
      more: ["bob.hub.example.org", "alice.hub.example.org", "hub.example.org"],
      logger,
    }),
    ["hub.example.org", "alice.hub.example.org", "bob.hub.example.org"],
  );
  assert.equal(lines.length, 0);
  const many = Array.from({ length: 120 }, (_, i) => `u${i}.hub.example.org`);
  const names = certificateNames(["hub.example.org"], {
    more: many,
    logger,
  });
  assert.equal(names.length, MAX_CERT_NAMES);
  assert.equal(names[0], "hub.example.org");
  assert.match(lines.join("\n"), /too many names.*wildcard certificate/);
});
