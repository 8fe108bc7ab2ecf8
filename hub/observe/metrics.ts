/**
 * Prometheus metrics with JupyterHub's names (its metrics.py, 5.x):
 * histograms, counters and gauges with labels, written in the text
 * exposition format (version 0.0.4) by {@linkcode HubMetrics.render}.
 *
 * What a scrape computes from the database (users, running servers, active
 * users) is passed to `render`; what happens over time (request and spawn
 * durations, proxy calls, polls) is observed here as it happens. Label
 * values come from a fixed set (methods, route patterns, statuses), never
 * from a URL or a user name, so the number of series is bounded.
 *
 * @module
 */

type Labels = Record<string, string>;

/** Seconds buckets of JupyterHub's request histogram (prometheus_client's defaults). */
const REQUEST_BUCKETS = [
  0.005,
  0.01,
  0.025,
  0.05,
  0.075,
  0.1,
  0.25,
  0.5,
  0.75,
  1,
  2.5,
  5,
  7.5,
  10,
];
/** JupyterHub's spawn buckets (JUPYTERHUB_SERVER_SPAWN_DURATION_SECONDS_BUCKETS). */
const SPAWN_BUCKETS = [0.5, 1, 2.5, 5, 10, 15, 30, 60, 120, 180, 300, 600];
/** JupyterHub's stop buckets. */
const STOP_BUCKETS = [0.5, 1, 2.5, 5, 10, 15, 30, 60, 120, 180, 300, 600];

/** Series per metric at most: a bug that makes labels unbounded cannot grow memory without limit. */
const MAX_SERIES = 500;

function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) =>
    `${k}="${
      v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")
    }"`
  );
  return parts.length ? `{${parts.join(",")}}` : "";
}

function num(n: number): string {
  if (n === Infinity) return "+Inf";
  return Number.isInteger(n) ? String(n) : String(Number(n.toPrecision(12)));
}

/** The series key of `labels` (order of the keys does not matter); runs on every request, so no JSON. */
function keyOf(labels: Labels): string {
  const keys = Object.keys(labels);
  if (keys.length > 1) keys.sort();
  let key = "";
  for (const k of keys) key += `${k}\u0001${labels[k]}\u0002`;
  return key;
}

/** A histogram with labels. */
export class Histogram {
  #series = new Map<
    string,
    { labels: Labels; counts: number[]; sum: number; count: number }
  >();
  /** The help line of the Prometheus text. */
  readonly help: string;
  /** Upper bounds of the buckets, in seconds, ascending. */
  readonly buckets: readonly number[];

  constructor(
    readonly name: string,
    options: { help: string; buckets: readonly number[] },
  ) {
    this.help = options.help;
    this.buckets = options.buckets;
  }

  /** Records one observation of `seconds`. */
  observe(seconds: number, labels: Labels = {}): void {
    const key = keyOf(labels);
    let s = this.#series.get(key);
    if (!s) {
      if (this.#series.size >= MAX_SERIES) return;
      s = { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.#series.set(key, s);
    }
    for (let i = 0; i < this.buckets.length; i++) {
      if (seconds <= this.buckets[i]!) s.counts[i]!++;
    }
    s.sum += seconds;
    s.count++;
  }

  /** Starts a timer; call the result with the labels when done. */
  time(): (labels?: Labels) => void {
    const start = performance.now();
    return (labels = {}) =>
      this.observe((performance.now() - start) / 1000, labels);
  }

  render(out: string[]): void {
    out.push(
      `# HELP ${this.name} ${this.help}`,
      `# TYPE ${this.name} histogram`,
    );
    for (const s of this.#series.values()) {
      this.buckets.forEach((b, i) =>
        out.push(
          `${this.name}_bucket${labelText({ ...s.labels, le: num(b) })} ${
            s.counts[i]
          }`,
        )
      );
      out.push(
        `${this.name}_bucket${
          labelText({ ...s.labels, le: "+Inf" })
        } ${s.count}`,
        `${this.name}_sum${labelText(s.labels)} ${num(s.sum)}`,
        `${this.name}_count${labelText(s.labels)} ${s.count}`,
      );
    }
  }
}

/** A counter with labels. */
export class Counter {
  #series = new Map<string, { labels: Labels; value: number }>();
  constructor(readonly name: string, readonly help: string) {}

  inc(labels: Labels = {}, by = 1): void {
    const key = keyOf(labels);
    const s = this.#series.get(key);
    if (s) s.value += by;
    else if (this.#series.size < MAX_SERIES) {
      this.#series.set(key, { labels, value: by });
    }
  }

  render(out: string[]): void {
    out.push(`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`);
    for (const s of this.#series.values()) {
      out.push(`${this.name}_total${labelText(s.labels)} ${num(s.value)}`);
    }
  }
}

/** Writes one gauge family. */
function gauge(
  out: string[],
  name: string,
  help: string,
  series: readonly [Labels, number][],
): void {
  out.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
  for (const [labels, value] of series) {
    out.push(`${name}${labelText(labels)} ${num(value)}`);
  }
}

/** What a scrape reads from the database. */
export interface HubGauges {
  totalUsers: number;
  runningServers: number;
  pendingServers: number;
  /** Users active in the last 24 h, 7 d and 30 d. */
  activeUsers: { "24h": number; "7d": number; "30d": number };
  /** Managed and external services: name → running (1) or not (0). */
  services?: Record<string, number>;
}

/** One of the hub's histograms: its Prometheus name, help line and buckets. */
function histogram(
  name: string,
  help: string,
  buckets: readonly number[],
): Histogram {
  return new Histogram(name, { help, buckets });
}

/** The hub's metrics (one instance per hub). */
export class HubMetrics {
  readonly requestDuration = histogram(
    "jupyterhub_request_duration_seconds",
    "Request duration for all HTTP requests",
    REQUEST_BUCKETS,
  );
  readonly spawnDuration = histogram(
    "jupyterhub_server_spawn_duration_seconds",
    "Time taken for server spawning operation",
    SPAWN_BUCKETS,
  );
  readonly stopDuration = histogram(
    "jupyterhub_server_stop_seconds",
    "Time taken for server stopping operation",
    STOP_BUCKETS,
  );
  readonly pollDuration = histogram(
    "jupyterhub_server_poll_duration_seconds",
    "Time taken to poll if server is running",
    REQUEST_BUCKETS,
  );
  readonly proxyAdd = histogram(
    "jupyterhub_proxy_add_duration_seconds",
    "Time taken for adding a user to the proxy",
    REQUEST_BUCKETS,
  );
  readonly proxyDelete = histogram(
    "jupyterhub_proxy_delete_duration_seconds",
    "Time taken for deleting a user from the proxy",
    REQUEST_BUCKETS,
  );
  readonly proxyPoll = histogram(
    "jupyterhub_proxy_poll_duration_seconds",
    "Time taken to poll the proxy's activity and routes",
    REQUEST_BUCKETS,
  );
  readonly checkRoutes = histogram(
    "jupyterhub_check_routes_duration_seconds",
    "Time taken to validate all routes in proxy",
    REQUEST_BUCKETS,
  );
  readonly initSpawners = histogram(
    "jupyterhub_init_spawners_duration_seconds",
    "Time taken for spawners to initialize",
    SPAWN_BUCKETS,
  );
  readonly startup = histogram(
    "jupyterhub_hub_startup_duration_seconds",
    "Time taken for Hub to start",
    SPAWN_BUCKETS,
  );
  readonly culled = new Counter(
    "onehub_culled_servers",
    "Servers stopped by the idle culler, by reason",
  );
  readonly serviceRestarts = new Counter(
    "onehub_service_restarts",
    "Restarts of managed services after they exited",
  );
  readonly #started = Date.now() / 1000;

  /** The exposition text: these metrics, `gauges` and process metrics. */
  render(gauges: HubGauges): string {
    const out: string[] = [];
    gauge(out, "jupyterhub_total_users", "Total number of users", [[
      {},
      gauges.totalUsers,
    ]]);
    gauge(
      out,
      "jupyterhub_running_servers",
      "The number of user servers currently running",
      [[{}, gauges.runningServers]],
    );
    gauge(
      out,
      "jupyterhub_pending_servers",
      "The number of user servers currently starting",
      [[{}, gauges.pendingServers]],
    );
    gauge(
      out,
      "jupyterhub_active_users",
      "Number of users who were active in the given time period",
      (["24h", "7d", "30d"] as const).map((p) => [
        { period: p },
        gauges.activeUsers[p],
      ]),
    );
    if (gauges.services) {
      gauge(
        out,
        "onehub_service_up",
        "Whether a managed service's process is running (1) or not (0)",
        Object.entries(gauges.services).map((
          [name, up],
        ) => [{ service: name }, up]),
      );
    }
    for (
      const h of [
        this.requestDuration,
        this.spawnDuration,
        this.stopDuration,
        this.pollDuration,
        this.proxyAdd,
        this.proxyDelete,
        this.proxyPoll,
        this.checkRoutes,
        this.initSpawners,
        this.startup,
      ]
    ) h.render(out);
    this.culled.render(out);
    this.serviceRestarts.render(out);
    processMetrics(out, this.#started);
    return out.join("\n") + "\n";
  }
}

/** `process_*` as prometheus_client's process collector writes them (Linux /proc). */
function processMetrics(out: string[], startedAt: number): void {
  const memory = Deno.memoryUsage();
  gauge(out, "process_resident_memory_bytes", "Resident memory size in bytes", [
    [{}, memory.rss],
  ]);
  gauge(
    out,
    "process_start_time_seconds",
    "Start time of the process since unix epoch in seconds",
    [
      [{}, Math.floor(startedAt)],
    ],
  );
  try {
    const stat = Deno.readTextFileSync("/proc/self/stat");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = 100; // USER_HZ on Linux
    const cpu = (Number(fields[11]) + Number(fields[12])) / ticks;
    out.push(
      "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds",
      "# TYPE process_cpu_seconds_total counter",
      `process_cpu_seconds_total ${num(cpu)}`,
    );
    gauge(out, "process_virtual_memory_bytes", "Virtual memory size in bytes", [
      [{}, Number(fields[20])],
    ]);
    let fds = 0;
    for (const _ of Deno.readDirSync("/proc/self/fd")) fds++;
    gauge(out, "process_open_fds", "Number of open file descriptors", [[
      {},
      fds,
    ]]);
  } catch {
    // Not Linux, or /proc hidden: the memory and start time above still stand.
  }
  gauge(out, "deno_heap_used_bytes", "V8 heap in use in bytes", [
    [{}, memory.heapUsed],
  ]);
}
