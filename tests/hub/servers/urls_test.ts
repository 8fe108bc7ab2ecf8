/**
 * Where a server lives (hub/servers/urls.ts), and `subdomain_host` through
 * the hub: route keys with the user's host, the environment and OAuth
 * client of a spawned server, the API's URLs, and the hub refusing to
 * serve on a user's host.
 */
import assert from "node:assert/strict";
import {
  hubRouteKey,
  isUserHost,
  serverLocation,
  userLabel,
  userOrigin,
} from "../../../hub/servers/urls.ts";
import { getUser } from "../../../hub/db/users.ts";
import { fakeHub } from "../../_helpers/test_hub.ts";

const SUB = { baseUrl: "/", subdomainHost: "https://hub.example.org" };
const FLAT = { baseUrl: "/", subdomainHost: "" };

Deno.test("userLabel() keeps valid DNS labels, IDNA-encodes unicode and hashes the rest (JupyterHub 5's idna hook)", () => {
  assert.equal(userLabel("alice"), "alice");
  assert.equal(userLabel("ohsd-661be0"), "ohsd-661be0");
  assert.equal(userLabel("josé"), "xn--jos-dma");
  const hashed = [
    "a.b@c",
    "a--b",
    "123",
    "-x",
    "under_score",
    "x".repeat(64),
    "xn--jos-dma",
  ];
  for (const name of hashed) {
    assert.match(userLabel(name), /^u-[a-z0-9]{1,8}--[0-9a-f]{7}$/, name);
  }
  assert.equal(userLabel("a.b@c"), userLabel("a.b@c"), "stable");
  assert.notEqual(userLabel("a.b@c"), userLabel("a.b@d"), "no collisions");
  assert.notEqual(userLabel("xn--jos-dma"), userLabel("josé"));
  assert.match(userLabel("@@@"), /^u-x--/);
});

Deno.test("serverLocation(): one origin without subdomain_host, the user's own host with it", () => {
  assert.deepEqual(serverLocation(FLAT, "alice", ""), {
    prefix: "/user/alice/",
    origin: "",
    url: "/user/alice/",
    routeKey: "/user/alice",
  });
  assert.deepEqual(serverLocation(SUB, "alice", "gpu"), {
    prefix: "/user/alice/gpu/",
    origin: "https://alice.hub.example.org",
    url: "https://alice.hub.example.org/user/alice/gpu/",
    routeKey: "/alice.hub.example.org/user/alice/gpu",
  });
  const jh = { baseUrl: "/jh/", subdomainHost: "http://hub.localhost:8000" };
  assert.equal(
    serverLocation(jh, "a@b", "").url,
    `http://${userLabel("a@b")}.hub.localhost:8000/jh/user/a@b/`,
  );
  assert.equal(userOrigin(FLAT, "alice"), "");
  assert.equal(
    hubRouteKey(SUB, "/services/grader/"),
    "/hub.example.org/services/grader",
  );
  assert.equal(hubRouteKey(FLAT, "/services/grader/"), "/services/grader");
});

Deno.test("isUserHost(): names under the hub's host, any port; never the hub's own or a look-alike", () => {
  assert.equal(isUserHost(SUB, "alice.hub.example.org"), true);
  assert.equal(isUserHost(SUB, "ALICE.hub.example.org:8443"), true);
  assert.equal(isUserHost(SUB, "alice.hub.example.org."), true);
  assert.equal(isUserHost(SUB, "hub.example.org"), false);
  assert.equal(isUserHost(SUB, "evilhub.example.org"), false);
  assert.equal(isUserHost(SUB, "127.0.0.1:8081"), false);
  assert.equal(isUserHost(FLAT, "alice.hub.example.org"), false);
});

Deno.test("with subdomain_host a server is routed, told and shown at its own host, and the hub serves nothing there", async (t) => {
  await using hub = await fakeHub({
    "subdomain_host": "https://hub.example.org",
  });
  const daemon = (await getUser(hub.handle.db, "daemon"))!;
  await hub.servers.start(daemon, "");
  assert.equal(
    await hub.servers.waitReady("daemon", "", { timeoutMs: 10_000 }),
    true,
  );
  const own = "https://daemon.hub.example.org/user/daemon/";

  await t.step("the proxy route names the user's host", async () => {
    assert.deepEqual(
      hub.proxy!.routes.list().map((r) => r.prefix),
      ["/daemon.hub.example.org/user/daemon"],
    );
    // As JupyterHub shows host routes: the host first, no leading slash.
    await hub.addUser("teacher", { admin: true });
    const token = await hub.tokenFor("teacher", ["proxy"]);
    const table = await (await hub.request("/hub/api/proxy", { token })).json();
    assert.deepEqual(Object.keys(table), [
      "daemon.hub.example.org/user/daemon/",
    ]);
  });

  await t.step(
    "the server's environment and OAuth client use full URLs",
    async () => {
      const env = hub.fake.lastRequest("daemon")!.env;
      assert.equal(env.JUPYTERHUB_HOST, "https://hub.example.org");
      assert.equal(env.JUPYTERHUB_OAUTH_CALLBACK_URL, `${own}oauth_callback`);
      assert.equal(env.JUPYTERHUB_PUBLIC_URL, own);
      assert.equal(
        env.JUPYTERHUB_PUBLIC_HUB_URL,
        "https://hub.example.org/hub/",
      );
      assert.equal(env.JUPYTERHUB_SERVICE_PREFIX, "/user/daemon/");
      const client = await hub.handle.db.selectFrom("oauth_clients")
        .select("redirect_uri").where(
          "identifier",
          "=",
          "jupyterhub-user-daemon",
        )
        .executeTakeFirstOrThrow();
      assert.equal(client.redirect_uri, `${own}oauth_callback`);
    },
  );

  await t.step("the API gives the server's full URL", async () => {
    const token = await hub.tokenFor("daemon");
    const model = await (await hub.request("/hub/api/user", { token })).json();
    assert.equal(model.server, own);
    assert.equal(model.servers[""].url, own);
    assert.equal(model.servers[""].full_url, own);
  });

  await t.step(
    "on a user's host the hub redirects GETs to its own host and refuses the rest",
    async () => {
      const host = { host: "daemon.hub.example.org" };
      const get = await hub.request("/hub/login?next=%2Fhub%2Fhome", {
        headers: host,
        redirect: "manual",
      });
      assert.equal(get.status, 302);
      assert.equal(
        get.headers.get("location"),
        "https://hub.example.org/hub/login?next=%2Fhub%2Fhome",
      );
      const post = await hub.request("/hub/api/users/daemon/tokens", {
        method: "POST",
        headers: host,
        json: {},
      });
      assert.equal(post.status, 404);
      assert.match((await post.json()).message, /https:\/\/hub\.example\.org/);
      const onHub = await hub.request("/hub/login", {
        headers: { host: "hub.example.org" },
      });
      assert.equal(onHub.status, 200);
      await onHub.body?.cancel();
    },
  );

  await t.step(
    "a running server's unrouted request is sent to its host, not back to the hub",
    async () => {
      const { cookie } = await hub.login("daemon");
      const res = await hub.request("/hub/user/daemon/tree", {
        headers: { cookie, host: "hub.example.org" },
        redirect: "manual",
      });
      assert.equal(res.status, 302);
      assert.equal(
        res.headers.get("location"),
        "https://daemon.hub.example.org/user/daemon/tree?redirects=1",
      );
    },
  );
});
