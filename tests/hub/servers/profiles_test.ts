/**
 * Profiles and per-group limits (hub/servers/profiles.ts) and what a start gets
 * (hub/servers/manager.ts with the fake spawner, through the REST API and the spawn
 * page): the chosen profile's limits, URL and environment reach the
 * spawner, a profile the user may not pick is a 400, the most generous
 * group limits win, and the choice is kept in user_options.
 */
import assert from "node:assert/strict";
import { type FakeHub, fakeHub } from "../../_helpers/test_hub.ts";
import {
  parseProfiles,
  resolveSpawn,
  sizeInBytes,
  sizeText,
} from "../../../hub/servers/profiles.ts";
import { resolveConfig, toRawConfig } from "../../../hub/config/mod.ts";
import { ConfigError, HubError } from "../../../hub/errors.ts";
import { syncConfigAccess } from "../../../hub/config/access.ts";
import { silentLogger } from "../../../hub/observe/log.ts";

const G = 1024 ** 3;
const PROFILES = [
  {
    slug: "small",
    "display_name": "Small",
    description: "1 CPU, 2 GB",
    default: true,
    limits: { memory: "2G", cpu: 1 },
  },
  {
    slug: "large",
    "display_name": "Large",
    limits: { memory: "8G", cpu: 4, tasks: 2048 },
    "default_url": "/lab",
    environment: { COURSE: "ml" },
    groups: ["ml-course"],
  },
];

Deno.test("resolveSpawn: default profile, allowed profiles, group limits (most generous wins), 400s", () => {
  const profiles = parseProfiles(PROFILES);
  const base = {
    profiles,
    groupLimits: {
      students: { memoryBytes: 1 * G, cpu: 1 },
      staff: { memoryBytes: 4 * G, cpu: 2 },
    },
    global: { memoryBytes: G / 2 },
    defaultUrl: "/tree",
  };
  const small = resolveSpawn({ ...base, groups: [], userOptions: {} });
  assert.deepEqual(small, {
    profile: "small",
    limits: { memoryBytes: 2 * G, cpu: 1 },
    defaultUrl: "/tree",
    environment: {},
  });
  const large = resolveSpawn({
    ...base,
    groups: ["ml-course"],
    userOptions: { profile: ["large"] },
  });
  assert.deepEqual(large.limits, { memoryBytes: 8 * G, cpu: 4, tasks: 2048 });
  assert.equal(large.defaultUrl, "/lab");
  assert.deepEqual(large.environment, { COURSE: "ml" });
  assert.throws(
    () =>
      resolveSpawn({ ...base, groups: [], userOptions: { profile: "large" } }),
    (e) =>
      e instanceof HubError && e.status === 400 &&
      /The profile "large" is not available to you; choose one of: small/.test(
        e.message,
      ),
  );
  assert.throws(
    () =>
      resolveSpawn({ ...base, groups: [], userOptions: { profile: "huge" } }),
    /No profile named "huge"/,
  );
  assert.throws(
    () => resolveSpawn({ ...base, groups: [], userOptions: { profile: 3 } }),
    /"profile" must be a profile's slug/,
  );
  const noProfiles = { ...base, profiles: [] };
  assert.deepEqual(
    resolveSpawn({
      ...noProfiles,
      groups: ["students", "staff"],
      userOptions: {},
    })
      .limits,
    { memoryBytes: 4 * G, cpu: 2 },
  );
  assert.deepEqual(
    resolveSpawn({ ...noProfiles, groups: [], userOptions: {} }).limits,
    { memoryBytes: G / 2 },
  );
});

Deno.test("profiles and limits.groups are checked in the config with clear errors", () => {
  const rows: Array<[Record<string, unknown>, RegExp]> = [
    [
      { profiles: [{ slug: "Big!" }] },
      /profile #1 in "profiles": "slug" is "Big!"/,
    ],
    [
      { profiles: [{ slug: "a", limits: { memory: "lots" } }] },
      /limits of profile "a".*memory "lots"; expected bytes or a size/,
    ],
    [
      { profiles: [{ slug: "a", limits: { gpus: 1 } }] },
      /unknown limit "gpus"; the limits are memory, cpu, tasks/,
    ],
    [
      { profiles: [{ slug: "a", "default_url": "lab" }] },
      /"default_url" is "lab"; expected a path/,
    ],
    [
      {
        profiles: [{ slug: "a", default: true }, { slug: "b", default: true }],
      },
      /more than one has "default: true"/,
    ],
    [{ profiles: [{ slug: "a" }, { slug: "a" }] }, /the slug is used twice/],
    [
      { limits: { groups: { students: { cpu: "two" } } } },
      /limits of group "students" in "limits.groups": cpu "two"/,
    ],
  ];
  for (const [file, message] of rows) {
    assert.throws(
      () => resolveConfig({ file }),
      (e) => e instanceof ConfigError && message.test(e.message),
      JSON.stringify(file),
    );
  }
});

async function profileHub(): Promise<FakeHub> {
  const hub = await fakeHub({
    profiles: PROFILES,
    groups: { "ml-course": { users: ["bin"] } },
    limits: { groups: { "ml-course": { memory: "3G" } } },
  });
  await syncConfigAccess(hub.handle.db, hub.config, { logger: silentLogger });
  return hub;
}

Deno.test("a REST start with a profile passes its limits, URL and environment to the spawner", async () => {
  await using hub = await profileHub();
  const token = await hub.tokenFor("bin");
  const res = await hub.request("/hub/api/users/bin/server", {
    method: "POST",
    token,
    json: { profile: "large" },
  });
  assert.equal(res.status, 201);
  const request = hub.fake.lastRequest("bin")!;
  assert.deepEqual(request.limits, { memoryBytes: 8 * G, cpu: 4, tasks: 2048 });
  assert.equal(request.env.COURSE, "ml");
  assert.equal(request.env.JUPYTERHUB_DEFAULT_URL, "/lab");
  const user = await (await hub.request("/hub/api/users/bin", { token }))
    .json();
  assert.deepEqual(user.servers[""].user_options, { profile: "large" });
});

Deno.test("a profile the user may not pick is a 400 and starts nothing; no profile means the default", async () => {
  await using hub = await profileHub();
  const token = await hub.tokenFor("daemon");
  let res = await hub.request("/hub/api/users/daemon/server", {
    method: "POST",
    token,
    json: { profile: "large" },
  });
  assert.equal(res.status, 400);
  assert.match(
    (await res.json()).message,
    /not available to you; choose one of: small/,
  );
  assert.equal(hub.fake.lastRequest("daemon"), undefined);
  res = await hub.request("/hub/api/users/daemon/server", {
    method: "POST",
    token,
  });
  assert.equal(res.status, 201);
  assert.deepEqual(hub.fake.lastRequest("daemon")!.limits, {
    memoryBytes: 2 * G,
    cpu: 1,
  });
});

Deno.test("the spawn page offers the profiles a user may pick and starts the chosen one", async () => {
  await using hub = await profileHub();
  const session = await hub.login("bin");
  const page = await (await hub.request("/hub/spawn", {
    headers: { cookie: session.cookie },
  })).text();
  assert.match(page, /<legend>Server size<\/legend>/);
  assert.match(page, /value="small"\s+checked/);
  assert.match(page, /value="large"/);
  const res = await hub.request("/hub/spawn", {
    method: "POST",
    headers: {
      cookie: session.cookie,
      "content-type": "application/x-www-form-urlencoded",
    },
    body: new URLSearchParams({ _xsrf: session.xsrf, profile: "large" })
      .toString(),
  });
  assert.ok(res.status === 302 || res.status === 200, `${res.status}`);
  await res.body?.cancel();
  await hub.servers.waitReady("bin", "", { timeoutMs: 5000 });
  assert.equal(hub.fake.lastRequest("bin")!.limits?.memoryBytes, 8 * G);
  const daemon = await hub.login("daemon");
  const one = await hub.request("/hub/spawn", {
    headers: { cookie: daemon.cookie },
  });
  // One profile open to daemon: no form, the server starts.
  assert.notEqual(one.status, 200);
  await one.body?.cancel();
  await hub.servers.waitReady("daemon", "", { timeoutMs: 5000 });
  assert.equal(hub.fake.lastRequest("daemon")!.limits?.memoryBytes, 2 * G);
});

Deno.test("sizeText() writes bytes in the largest exact unit, and sizeInBytes() reads it back", () => {
  const rows: [number, string][] = [
    [0, "0"],
    [1000, "1000"],
    [1024, "1K"],
    [1536, "1536"],
    [256 * 1024 ** 2, "256M"],
    [G, "1G"],
    [1536 * 1024 ** 2, "1536M"],
    [2 * 1024 ** 4, "2T"],
    [1024 ** 5, "1024T"],
  ];
  for (const [bytes, text] of rows) {
    assert.equal(sizeText(bytes), text);
    assert.equal(sizeInBytes(text), bytes);
  }
});

Deno.test("profiles and group limits survive the file form (a reload re-reads them): sizes in bytes stay bytes", () => {
  const config = resolveConfig({
    file: {
      profiles: [{ slug: "s", limits: { memory: "256M", cpu: 1.5 } }],
      limits: { groups: { staff: { memory: "1G", tasks: 100 } } },
    },
  });
  assert.equal(config.profiles[0]!.limits.memoryBytes, 256 * 1024 ** 2);
  const again = resolveConfig({ file: toRawConfig(config) });
  assert.deepEqual(again.profiles, config.profiles);
  assert.deepEqual(again.limits.groups, config.limits.groups);
  assert.equal(again.limits.groups.staff!.memoryBytes, G);
});

Deno.test("the admin page's memory column knows each running server's limit", async () => {
  await using hub = await profileHub();
  await hub.addUser("teacher", { admin: true });
  const res = await hub.request("/hub/api/users/bin/server", {
    method: "POST",
    token: await hub.tokenFor("bin"),
    json: { profile: "large" },
  });
  await res.body?.cancel();
  const limits = await (await hub.request("/hub/admin/api/memory-limits", {
    token: await hub.tokenFor("teacher"),
  })).json();
  assert.deepEqual(limits, { "bin/": 8 * G });
  const denied = await hub.request("/hub/admin/api/memory-limits", {
    token: await hub.tokenFor("bin"),
  });
  assert.equal(denied.status, 403);
  await denied.body?.cancel();
});
