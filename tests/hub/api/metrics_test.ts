/**
 * `/hub/metrics` (hub/api/metrics.ts, hub/observe/metrics.ts): the Prometheus text
 * format parsed by a real parser (npm parse-prometheus-text-format, and
 * prometheus_client's own parser from Debian's python3), JupyterHub's metric
 * names, values that follow a spawn, and the `read:metrics` rule.
 */
import assert from "node:assert/strict";
import parse from "parse-prometheus-text-format";
import { createTestHub } from "../../_helpers/test_hub.ts";
import { fakeHub } from "../../_helpers/test_hub.ts";
import { assertStatus } from "../../_helpers/responses.ts";
import { runWithInput } from "../../_helpers/run_with_input.ts";
import { adminToken } from "../../_helpers/api_setup.ts";

type Family = {
  name: string;
  type: string;
  metrics: {
    value?: string;
    labels?: Record<string, string>;
    buckets?: Record<string, string>;
    count?: string;
  }[];
};

function families(text: string): Map<string, Family> {
  return new Map((parse(text) as Family[]).map((f) => [f.name, f]));
}

function gaugeValue(
  f: Map<string, Family>,
  name: string,
  labels: Record<string, string> = {},
): number {
  const m = f.get(name)?.metrics.find((m) =>
    Object.entries(labels).every(([k, v]) => m.labels?.[k] === v)
  );
  assert.ok(m, `${name} ${JSON.stringify(labels)} is exposed`);
  return Number(m.value);
}

Deno.test("GET /hub/metrics needs read:metrics, as authenticate_prometheus", async () => {
  await using hub = await createTestHub();
  await hub.addUser("alice");
  await hub.addUser("teacher", { admin: true });
  await assertStatus(await hub.request("/hub/metrics"), 403);
  let res = await hub.request("/hub/metrics", {
    token: await hub.tokenFor("alice"),
  });
  assert.equal(res.status, 403);
  assert.match(
    (await res.json()).message ?? "",
    /Access to metrics requires scope 'read:metrics'/,
  );
  res = await hub.request("/hub/api/metrics", {
    token: await hub.tokenFor("teacher", ["read:metrics"]),
  });
  assert.equal(res.status, 200);
  assert.match(
    res.headers.get("content-type")!,
    /^text\/plain; version=0\.0\.4/,
  );
  await res.body?.cancel();
});

Deno.test("GET /hub/metrics is open with metrics.authenticate false", async () => {
  await using hub = await createTestHub({ metrics: { authenticate: false } });
  const res = await hub.request("/hub/metrics");
  assert.equal(res.status, 200);
  assert.ok(families(await res.text()).has("jupyterhub_total_users"));
});

Deno.test("/hub/metrics: JupyterHub's names, parsed, and values that follow users and a spawn", async () => {
  await using hub = await fakeHub();
  const token = await adminToken(hub, { name: "teacher" });
  const scrape = async () => {
    const res = await hub.request("/hub/metrics", { token });
    assert.equal(res.status, 200);
    return await res.text();
  };
  let f = families(await scrape());
  for (
    const name of [
      "jupyterhub_total_users",
      "jupyterhub_running_servers",
      "jupyterhub_active_users",
      "jupyterhub_request_duration_seconds",
      "jupyterhub_server_spawn_duration_seconds",
      "jupyterhub_proxy_add_duration_seconds",
      "process_resident_memory_bytes",
      "process_cpu_seconds_total",
    ]
  ) assert.ok(f.has(name), `${name} is exposed`);
  assert.equal(gaugeValue(f, "jupyterhub_total_users"), 3);
  assert.equal(gaugeValue(f, "jupyterhub_running_servers"), 0);
  // The scrape itself made the teacher active.
  assert.equal(
    gaugeValue(f, "jupyterhub_active_users", { period: "24h" }),
    1,
  );
  assert.ok(gaugeValue(f, "process_resident_memory_bytes") > 1e6);

  const res = await hub.request("/hub/api/users/daemon/server", {
    method: "POST",
    token,
  });
  assert.equal(res.status, 201);
  const text = await scrape();
  f = families(text);
  assert.equal(gaugeValue(f, "jupyterhub_running_servers"), 1);
  // The npm parser drops the labels of labelled histograms: read those with prometheus_client's.
  const samples = await pythonSamples(text);
  const spawned = samples.find((s) =>
    s.name === "jupyterhub_server_spawn_duration_seconds_count" &&
    s.labels.status === "success"
  );
  assert.equal(spawned?.value, 1);
  const requests = samples.filter((s) =>
    s.name === "jupyterhub_request_duration_seconds_count"
  ).map((s) => ({ labels: s.labels }));
  assert.ok(
    requests.some((m) =>
      m.labels?.handler === "/hub/api/users/:user_name/server" &&
      m.labels?.method === "POST" && m.labels?.code === "201"
    ),
    "the handler label is the route pattern, not the user's URL",
  );
  assert.ok(!requests.some((m) => m.labels?.handler?.includes("daemon")));
});

/** Every sample of `text` as prometheus_client's parser (Debian's python3) reads it. */
async function pythonSamples(
  text: string,
): Promise<{ name: string; labels: Record<string, string>; value: number }[]> {
  const out = await runWithInput("/usr/bin/python3", {
    args: [
      "-c",
      "import sys, json\nfrom prometheus_client.parser import text_string_to_metric_families as p\n" +
      "print(json.dumps([dict(name=s.name, labels=s.labels, value=s.value) for f in p(sys.stdin.read()) for s in f.samples]))",
    ],
    input: text,
  });
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

Deno.test("/hub/metrics parses with prometheus_client's own parser", async () => {
  await using hub = await createTestHub({ metrics: { authenticate: false } });
  await hub.addUser("alice");
  const text = await (await hub.request("/hub/metrics")).text();
  const samples = await pythonSamples(text);
  assert.ok(
    samples.some((s) => s.name === "jupyterhub_total_users" && s.value === 1),
  );
});
