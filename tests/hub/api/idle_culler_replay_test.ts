/**
 * The external `jupyterhub-idle-culler` (1.x) against onehub's API: its
 * calls replayed in its order and shapes (hub-api.md §7), as a service
 * with the scopes the culler documents, against a hub with running (fake)
 * servers and small pages so `next.url` must be followed.
 */
import assert from "node:assert/strict";
import { type FakeHub, fakeHub } from "../../_helpers/test_hub.ts";
import { applyServices } from "../../../hub/services/registry.ts";
import { getUser } from "../../../hub/db/users.ts";
import { touchServerActivity } from "../../../hub/db/servers.ts";
import { assertAnswer } from "../../_helpers/api_cases.ts";

const CULLER_TOKEN = "idle-culler-token-0123456789";
const PAGINATED = { Accept: "application/jupyterhub-pagination+json" };

type UserModel = {
  name: string;
  admin: boolean;
  "last_activity": string | null;
  created: string;
  servers?: Record<string, {
    name: string;
    pending: string | null;
    ready: boolean;
    url: string;
    started: string | null;
    "last_activity": string | null;
  }>;
};

/** The culler's fetch loop: a first page, then every `next.url` (absolute URLs, as the hub gives them). */
async function fetchPaginated(
  hub: FakeHub,
  path: string,
): Promise<UserModel[]> {
  const users: UserModel[] = [];
  let url: string | null = `http://127.0.0.1:8000/hub/api${path}`;
  let pages = 0;
  while (url) {
    const res = await hub.request(new URL(url).pathname + new URL(url).search, {
      token: CULLER_TOKEN,
      headers: PAGINATED,
    });
    assert.equal(res.status, 200, `GET ${url}`);
    const page = await res.json();
    assert.ok(Array.isArray(page.items), "the pagination envelope");
    users.push(...page.items);
    url = page._pagination.next?.url ?? null;
    pages++;
  }
  assert.ok(pages > 1, "small pages: next.url was followed");
  return users;
}

Deno.test("jupyterhub-idle-culler's calls, replayed: version, paginated ready users, server and user deletion", async () => {
  await using hub = await fakeHub({
    spawner: { "named_servers": true },
    services: {
      list: [{
        name: "idle-culler",
        "api_token": CULLER_TOKEN,
        scopes: [
          "list:users",
          "read:users:activity",
          "read:servers",
          "delete:servers",
          "admin:users",
        ],
      }],
    },
  });
  await applyServices(
    { db: hub.handle.db, baseUrl: "/", now: hub.now },
    hub.config.services,
  );
  for (const name of ["sys", "nobody", "games"]) await hub.addUser(name);
  const start = async (name: string, server = "") => {
    const row = (await getUser(hub.handle.db, name))!;
    await hub.servers.start(row, server);
    assert.equal(
      await hub.servers.waitReady(name, server, { timeoutMs: 5000 }),
      true,
    );
    return row;
  };
  const daemon = await start("daemon");
  await start("bin");
  await start("bin", "gpu");
  await start("sys");
  // daemon is busy; the others have been idle since they started.
  await touchServerActivity(
    hub.handle.db,
    { userId: daemon.id, name: "" },
    new Date(hub.now.getTime() + 3600_000).toISOString(),
  );

  // 1. GET {api_url}/ → version.
  const root = await hub.request("/hub/api/", { token: CULLER_TOKEN });
  assert.match((await root.json()).version, /^\d+\.\d+\.\d+/);

  // 2. (--cull-users) GET /users?state=inactive, paginated.
  const inactive = await fetchPaginated(hub, "/users?state=inactive&limit=1");
  assert.deepEqual(inactive.map((u) => u.name).sort(), ["games", "nobody"]);

  // 3. GET /users?state=ready, paginated; read what the culler reads.
  const ready = await fetchPaginated(hub, "/users?state=ready&limit=2");
  assert.deepEqual(ready.map((u) => u.name).sort(), ["bin", "daemon", "sys"]);
  const bin = ready.find((u) => u.name === "bin")!;
  assert.equal(typeof bin.admin, "boolean");
  assert.equal(typeof bin.created, "string");
  assert.deepEqual(Object.keys(bin.servers!).sort(), ["", "gpu"]);
  for (const s of Object.values(bin.servers!)) {
    assert.equal(s.ready, true);
    assert.equal(s.pending, null);
    assert.equal(typeof s.started, "string");
    assert.ok("last_activity" in s);
    assert.match(s.url, /^\/user\/bin\//);
  }

  // 4. Per idle server: DELETE, the named one with {"remove": true}; names not URL-escaped.
  const cutoff = hub.now.getTime() + 600_000;
  const idle = ready.flatMap((u) =>
    Object.values(u.servers!).filter((s) =>
      Date.parse(s.last_activity ?? s.started!) < cutoff
    ).map((s) => ({ user: u.name, server: s.name }))
  );
  assert.deepEqual(
    idle.map((i) => `${i.user}/${i.server}`).sort(),
    ["bin/", "bin/gpu", "sys/"],
  );
  for (const { user, server } of idle) {
    const res = await hub.request(
      server
        ? `/hub/api/users/${user}/servers/${server}`
        : `/hub/api/users/${user}/server`,
      {
        method: "DELETE",
        token: CULLER_TOKEN,
        ...(server ? { json: { remove: true } } : {}),
      },
    );
    assert.ok(
      res.status === 204 || res.status === 202,
      `${user}/${server}: ${res.status}`,
    );
    await res.body?.cancel();
  }

  // 5. (--cull-users) DELETE /users/{name} for the inactive ones.
  for (const u of inactive) {
    await assertAnswer(hub, {
      send: `DELETE /hub/api/users/${u.name}`,
      token: CULLER_TOKEN,
      status: 204,
    });
  }

  const left = await (await hub.request("/hub/api/users?state=ready", {
    token: CULLER_TOKEN,
  })).json();
  assert.deepEqual(left.map((u: UserModel) => u.name), ["daemon"]);
  const named = await (await hub.request("/hub/api/users/bin", {
    token: CULLER_TOKEN,
  })).json();
  assert.deepEqual(
    Object.keys(named.servers),
    [],
    "the named server was removed",
  );
  assert.equal(
    (await hub.request("/hub/api/users/games", { token: CULLER_TOKEN })).status,
    404,
  );
});
