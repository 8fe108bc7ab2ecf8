import assert from "node:assert/strict";
import { safeNextUrl } from "../../hub/next_url.ts";

Deno.test("safeNextUrl() keeps only targets on this hub", async (t) => {
  const rows: Array<[string | null, string, string, string | null]> = [
    // candidate, baseUrl, publicOrigin, expected
    ["/hub/home", "/", "", "/hub/home"],
    ["/user/alice/lab?x=1#y", "/", "", "/user/alice/lab?x=1#y"],
    [null, "/", "", null],
    ["", "/", "", null],
    ["//evil.example/x", "/", "", null],
    ["/\\evil.example", "/", "", null],
    ["https://evil.example/hub/", "/", "", null],
    ["javascript:alert(1)", "/", "", null],
    ["hub/home", "/", "", null],
    ["/hub/../../etc", "/", "", null],
    ["/%2e%2e/x", "/", "", null],
    ["/%2F%2Fevil.example", "/", "", null],
    ["/hub/home\r\nSet-Cookie: x", "/", "", null],
    ["/jupyter/hub/home", "/jupyter/", "", "/jupyter/hub/home"],
    ["/other/hub/home", "/jupyter/", "", null],
    [
      "https://hub.example.org/hub/home",
      "/",
      "https://hub.example.org",
      "/hub/home",
    ],
    [
      "https://hub.example.org.evil/hub/home",
      "/",
      "https://hub.example.org",
      null,
    ],
    ["/" + "a".repeat(3000), "/", "", null],
  ];
  for (const [candidate, baseUrl, publicOrigin, expected] of rows) {
    await t.step(
      `${JSON.stringify(candidate)} under ${baseUrl} ${publicOrigin}`,
      () => {
        assert.equal(
          safeNextUrl(candidate, { baseUrl, publicOrigin }),
          expected,
        );
      },
    );
  }
});

Deno.test("safeNextUrl() with subdomain_host takes a user's host as its path, and nothing else", () => {
  const options = {
    baseUrl: "/",
    publicOrigin: "https://hub.example.org",
    subdomainHost: "https://hub.example.org",
  };
  const rows: Array<[string, string | null]> = [
    ["https://alice.hub.example.org/user/alice/lab?x=1", "/user/alice/lab?x=1"],
    ["https://hub.example.org/hub/home", "/hub/home"],
    ["http://alice.hub.example.org/user/alice/", null], // another scheme
    ["https://alice.hub.example.org:444/user/alice/", null], // another port
    ["https://evilhub.example.org/user/alice/", null],
    ["https://alice.hub.example.org.evil/user/alice/", null],
    ["https://x@alice.hub.example.org/user/alice/", null],
  ];
  for (const [candidate, expected] of rows) {
    assert.equal(safeNextUrl(candidate, options), expected, candidate);
  }
  assert.equal(
    safeNextUrl("https://alice.hub.example.org/user/alice/", {
      ...options,
      subdomainHost: "",
    }),
    null,
  );
});
