import assert from "node:assert/strict";
import { Hono } from "hono";
import {
  clientMiddleware,
  type ClientOptions,
} from "../../../hub/middleware/client.ts";
import type { HubEnv } from "../../../hub/middleware/identity.ts";

/** What the middleware makes of a request from `peer` with `headers`. */
async function seen(
  options: ClientOptions,
  peer: string,
  headers: Record<string, string>,
) {
  const app = new Hono<HubEnv>();
  app.use("*", clientMiddleware(options));
  app.get("/", (c) => c.json(c.get("client")));
  const res = await app.request("/", { headers }, {
    remoteAddr: { hostname: peer },
  });
  return await res.json();
}

const builtin: ClientOptions = {
  proof: "s3cret-proof",
  trustedProxies: () => ["10.0.0.5"],
  believePeers: false,
};
const external: ClientOptions = { ...builtin, believePeers: true };
const forwarded = {
  "x-forwarded-for": "203.0.113.9",
  "x-forwarded-proto": "https",
};

Deno.test("clientView: X-Forwarded-* are believed only with onehub's proxy's proof, or from a trusted peer behind an external proxy", async (t) => {
  const rows: Array<
    [string, ClientOptions, string, Record<string, string>, unknown]
  > = [
    ["the proof: the forwarded client", builtin, "127.0.0.1", {
      ...forwarded,
      "x-onehub-proxy": "s3cret-proof",
    }, { address: "203.0.113.9", https: true, proxied: true }],
    [
      "no proof, loopback peer (a local process): the socket",
      builtin,
      "127.0.0.1",
      forwarded,
      {
        address: "127.0.0.1",
        https: false,
        proxied: false,
      },
    ],
    ["a wrong proof: the socket", builtin, "127.0.0.1", {
      ...forwarded,
      "x-onehub-proxy": "s3cret-proog",
    }, { address: "127.0.0.1", https: false, proxied: false }],
    [
      "built-in proxy: a trusted peer without the proof is still only a socket",
      builtin,
      "10.0.0.5",
      forwarded,
      {
        address: "10.0.0.5",
        https: false,
        proxied: false,
      },
    ],
    [
      "external proxy: a trusted peer is believed",
      external,
      "10.0.0.5",
      forwarded,
      {
        address: "203.0.113.9",
        https: true,
        proxied: true,
      },
    ],
    [
      "external proxy: an untrusted peer is not",
      external,
      "127.0.0.1",
      forwarded,
      {
        address: "127.0.0.1",
        https: false,
        proxied: false,
      },
    ],
    [
      "trusted hops on the right are skipped (nginx before the proxy)",
      builtin,
      "127.0.0.1",
      {
        "x-forwarded-for": "198.51.100.1, 203.0.113.9, 10.0.0.5",
        "x-onehub-proxy": "s3cret-proof",
      },
      { address: "203.0.113.9", https: false, proxied: true },
    ],
    [
      "no proof configured: nothing is believed by proof",
      {
        ...builtin,
        proof: null,
      },
      "127.0.0.1",
      { ...forwarded, "x-onehub-proxy": "" },
      {
        address: "127.0.0.1",
        https: false,
        proxied: false,
      },
    ],
  ];
  for (const [name, options, peer, headers, expected] of rows) {
    await t.step(name, async () => {
      assert.deepEqual(await seen(options, peer, headers), expected);
    });
  }
});
