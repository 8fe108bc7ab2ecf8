/**
 * The start of a lesson (not a test): N throwaway Linux users arrive over a
 * window, each logs in through the hub's public port with PAM as a browser
 * would (the login form, the redirects, the spawn-pending page's progress
 * stream until ready, then into the server and its OAuth handshake),
 * then runs one kernel cell that prints 42. Meanwhile an admin watches: the
 * admin page (cookie) and `GET /hub/api/users` (token) once a second. The
 * same load runs against onehub and, in the same run, against JupyterHub
 * (Debian's package: JupyterHub 3.0 with configurable-http-proxy,
 * LocalProcessSpawner, PAM). `onehub-systemd` is onehub as install.sh sets
 * it up on a fresh Debian 12 (onehub.service, the systemd spawner, 1G per
 * server): booted with systemd in a container of ../shared/testbed, its
 * users made inside; about 75 s of setup (bench/_class_start_testbed.ts).
 *
 *   sudo deno run -A bench/class_start.ts [--users 100] [--window 60]
 *        [--hubs onehub,jupyterhub,onehub-systemd] [--timeout 300]
 *        [--set KEY=VALUE]...
 *
 * Per hub it prints one Markdown row: users that reached 42, login p50/p95,
 * login → ready server p50/p95/max, login → 42 p95, the admin page's and the
 * API's p95 during the run, answers ≥ 400 seen, the hub's peak RSS (onehub:
 * its one process, also in the container; JupyterHub: hub + proxy) and CPU
 * seconds. Results: docs/benchmarks.md. Needs root (useradd, PAM, servers as
 * the users) and /usr/bin/jupyterhub-singleuser. Every user, server, folder
 * and container it makes is removed at the end, also after a failure.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { childrenOf, out, rssKiB } from "./_proc.ts";
import { CookieClient } from "../tests/_helpers/cookie_client.ts";
import { runInKernel } from "../tests/_helpers/jupyter.ts";
import { waitForReady } from "../tests/_helpers/open_server.ts";
import { tailFile } from "../spawners/_log_file.ts";
import { run } from "../tests/_helpers/system_users.ts";
import { startOnehubSystemd } from "./_class_start_testbed.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    users: { type: "string", default: "100" },
    window: { type: "string", default: "60" },
    hubs: { type: "string", default: "onehub,jupyterhub" },
    timeout: { type: "string", default: "300" },
    // onehub's config for an experiment: --set hub.nice=0 (repeatable).
    set: { type: "string", multiple: true, default: [] },
  },
});
const USERS = Number(values.users);
const WINDOW_S = Number(values.window);
const TIMEOUT_MS = Number(values.timeout) * 1000;
// A kernel started while a whole class starts can take a while: a student waits.
const KERNEL_TIMEOUT_MS = 120_000;
const PASSWORD = `cs-${crypto.randomUUID()}`;
const ADMIN_TOKEN = crypto.getRandomValues(new Uint8Array(24)).toHex();
const REPO = fileURLToPath(new URL("../", import.meta.url));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One student's minute. */
interface Arrival {
  user: string;
  loginMs?: number;
  readyMs?: number;
  fortyTwoMs?: number;
  error?: string;
  /** The text of the last 5xx page seen, if any. */
  lastRefusal?: string;
  statuses: number[];
}

/** A page's words, without markup, short. */
function pageText(html: string): string {
  return html.replace(/<script[\s\S]*?<\/script>|<style[\s\S]*?<\/style>/g, " ")
    .replace(/<[^>]+>/g, " ").replace(/\s+/g, " ").trim().slice(0, 240);
}

/** A hub under load: its public URL, its processes and how to stop it. */
interface RunningHub {
  name: string;
  url: string;
  pids: () => number[];
  stop(): Promise<void>;
  /** A user's server log, where the hub keeps one per user. */
  serverLog?: (user: string) => string;
  /** Writes the hub's log into `dir`, where it is not there already. */
  saveLog?: (dir: string) => Promise<void>;
}

/** The hubs `--hubs` may name. */
const HUB_KINDS = ["onehub", "jupyterhub", "onehub-systemd"];

// ---- users -------------------------------------------------------------

async function makeUsers(prefix: string): Promise<string[]> {
  const names = Array.from(
    { length: USERS + 1 },
    (_, i) => `${prefix}${String(i).padStart(3, "0")}`,
  );
  for (const name of names) {
    await run(["useradd", "-m", "-s", "/bin/bash", name]);
  }
  await run(["chpasswd"], names.map((n) => `${n}:${PASSWORD}\n`).join(""));
  return names;
}

async function removeUsers(names: string[]): Promise<void> {
  for (const name of names) {
    await new Deno.Command("pkill", { args: ["-KILL", "-u", name] }).output();
  }
  await sleep(500);
  for (const name of names) {
    await run(["userdel", "-r", name]).catch(() => {});
  }
}

// ---- processes -----------------------------------------------------------

/** utime + stime of a process, in seconds. */
function cpuSeconds(pid: number): number {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

async function waitHealthy(url: string, log: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const res = await fetch(`${url}hub/health`).catch(() => null);
    await res?.body?.cancel();
    if (res?.ok) return;
    await sleep(250);
  }
  throw new Error(`the hub did not answer /hub/health; see ${log}`);
}

function startProcess(
  argv: string[],
  options: { cwd: string; log: string; env?: Record<string, string> },
): Deno.ChildProcess {
  const log = Deno.openSync(options.log, { write: true, create: true });
  // Its own session, as systemd starts a service (and as sudo with use_pty
  // does): the hub's CPU share is then its own autogroup's, not shared with
  // this client's. setsid execs in place (not a group leader), so the pid
  // is the hub's.
  const child = new Deno.Command("setsid", {
    args: argv,
    cwd: options.cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    ...(options.env ? { env: options.env } : {}),
  }).spawn();
  const write = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) await log.write(chunk);
  };
  Promise.all([write(child.stdout), write(child.stderr)]).finally(() =>
    log.close()
  );
  return child;
}

async function stopChild(child: Deno.ChildProcess): Promise<void> {
  try {
    child.kill("SIGTERM");
  } catch {
    return;
  }
  const done = await Promise.race([
    child.status.then(() => true),
    sleep(60_000).then(() => false),
  ]);
  if (!done) child.kill("SIGKILL");
  await child.status;
}

// ---- the hubs ------------------------------------------------------------

async function startOnehub(dir: string, admin: string): Promise<RunningHub> {
  const config = `${dir}/config.yaml`;
  await Deno.writeTextFile(
    config,
    [
      `data_dir: ${dir}/data`,
      `users: { allow_all: true, admin: [${admin}] }`,
      "spawner: { http_timeout: 300, start_timeout: 300, stop_on_shutdown: true }",
      "",
    ].join("\n"),
  );
  for (const setting of values.set) {
    const at = setting.indexOf("=");
    await run([
      Deno.execPath(),
      "run",
      "-A",
      `${REPO}main.ts`,
      "config",
      "set",
      setting.slice(0, at),
      setting.slice(at + 1),
      "--config",
      config,
    ]);
  }
  const port = 19500;
  const log = `${dir}/onehub.log`;
  const child = startProcess([
    Deno.execPath(),
    "run",
    "-A",
    "--v8-flags=--max-semi-space-size=2,--heap-growing-percent=25",
    `${REPO}main.ts`,
    "serve",
    "--config",
    config,
    "--auth",
    "pam",
    "--port",
    String(port),
    "--hub-port",
    String(port + 1),
  ], { cwd: dir, log });
  const url = `http://127.0.0.1:${port}/`;
  await waitHealthy(url, log);
  const token = (await run([
    Deno.execPath(),
    "run",
    "-A",
    `${REPO}main.ts`,
    "token",
    admin,
    "--config",
    config,
  ])).trim();
  adminTokens.set(url, token);
  return {
    name: "onehub",
    url,
    pids: () => [child.pid],
    stop: () => stopChild(child),
    serverLog: (user) => `${dir}/data/logs/${user}.log`,
  };
}

/** The admin's API token per hub URL. */
const adminTokens = new Map<string, string>();

/** configurable-http-proxy from npm (Debian's package misses a module), kept in .bench/chp/. */
async function chpCommand(): Promise<string> {
  const prefix = `${REPO}.bench/chp`;
  const bin = `${prefix}/node_modules/.bin/configurable-http-proxy`;
  const installed = await Deno.stat(bin).then(() => true, () => false);
  if (!installed) {
    await Deno.mkdir(prefix, { recursive: true });
    await run([
      "npm",
      "install",
      "--prefix",
      prefix,
      "--no-audit",
      "--no-fund",
      "--loglevel=error",
      "configurable-http-proxy@5.3.0",
    ]);
  }
  return bin;
}

async function startJupyterHub(
  dir: string,
  admin: string,
): Promise<RunningHub> {
  const port = 19510;
  const chp = await chpCommand();
  const config = `${dir}/jupyterhub_config.py`;
  await Deno.writeTextFile(
    config,
    [
      "c = get_config()  # noqa",
      `c.JupyterHub.bind_url = "http://127.0.0.1:${port}"`,
      `c.JupyterHub.hub_bind_url = "http://127.0.0.1:${port + 1}"`,
      `c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:${port + 2}"`,
      'c.JupyterHub.db_url = "sqlite:///jupyterhub.sqlite"',
      `c.ConfigurableHTTPProxy.command = ["${chp}"]`,
      "c.JupyterHub.cleanup_servers = True",
      `c.Authenticator.admin_users = {"${admin}"}`,
      `c.Authenticator.allowed_users = set()`,
      "c.LocalAuthenticator.create_system_users = False",
      `c.JupyterHub.api_tokens = {"${ADMIN_TOKEN}": "${admin}"}`,
      'c.Spawner.cmd = ["/usr/bin/jupyterhub-singleuser"]',
      "c.Spawner.start_timeout = 300",
      "c.Spawner.http_timeout = 300",
      "",
    ].join("\n"),
  );
  const log = `${dir}/jupyterhub.log`;
  const child = startProcess(
    ["/usr/bin/python3", "-m", "jupyterhub", "-f", config],
    { cwd: dir, log },
  );
  const url = `http://127.0.0.1:${port}/`;
  await waitHealthy(url, log);
  adminTokens.set(url, ADMIN_TOKEN);
  return {
    name: "JupyterHub 3.0",
    url,
    pids: () => [child.pid, ...childrenOf(child.pid).filter(isProxy)],
    stop: () => stopChild(child),
  };
}

function isProxy(pid: number): boolean {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/cmdline`).includes(
      "configurable-http-proxy",
    );
  } catch {
    return false;
  }
}

// ---- one student -------------------------------------------------------

/**
 * Logs in, follows the spawn-pending page as its script does (the progress
 * stream until `ready`, then a reload that leads into the server and its
 * OAuth handshake), runs print(6*7).
 */
async function arrive(hub: RunningHub, user: string): Promise<Arrival> {
  const arrival: Arrival = { user, statuses: [] };
  const client = new CookieClient(hub.url);
  const start = performance.now();
  const prefix = `/user/${user}/`;
  try {
    const login = await client.login(user, PASSWORD);
    arrival.loginMs = performance.now() - start;
    await login.body?.cancel();
    if (login.status !== 302) throw new Error(`login answered ${login.status}`);
    let next = login.headers.get("location")!;
    while (performance.now() - start < TIMEOUT_MS) {
      const res = await client.follow(next);
      for (const hop of client.hops) {
        if (hop.status >= 400) arrival.statuses.push(hop.status);
      }
      const at = new URL(client.hops.at(-1)!.url);
      const page = await res.text();
      if (res.status === 200 && at.pathname.startsWith(prefix)) break;
      if (res.status >= 500) arrival.lastRefusal = pageText(page);
      if (at.pathname.includes("/spawn-pending/")) {
        // Both hubs' pages open this stream (EventSource, the cookie) and
        // reload once it says ready; a failed spawn throws with its events.
        await waitForReady(`${hub.url}hub/api/users/${user}/server/progress`, {
          // EventSource sends the page as Referer; JupyterHub 3.0 takes the
          // cookie on an API request only with it.
          request: (url) =>
            client.request(url, { headers: { referer: at.href } }),
          timeoutMs: TIMEOUT_MS - (performance.now() - start),
        });
        next = at.href;
        continue;
      }
      // Another hub page (an error, the home page): a student tries again.
      await sleep(2000);
      next = res.status !== 200 ? at.href : `${hub.url}user/${user}/`;
    }
    if (!client.cookie(`jupyterhub-user-${user}`)) {
      throw new Error(
        `never reached the server${
          arrival.lastRefusal ? `; the hub said: ${arrival.lastRefusal}` : ""
        }`,
      );
    }
    arrival.readyMs = performance.now() - start;
    const { out: printed } = await runInKernel(
      client,
      user,
      undefined,
      "print(6*7)",
      KERNEL_TIMEOUT_MS,
    );
    if (printed.trim() !== "42") throw new Error(`the cell printed ${printed}`);
    arrival.fortyTwoMs = performance.now() - start;
  } catch (error) {
    arrival.error = (error as Error).message.slice(0, 300);
  }
  return arrival;
}

// ---- the admin watching --------------------------------------------------

interface Watch {
  pageMs: number[];
  apiMs: number[];
  statuses: number[];
}

async function timed(
  client: CookieClient,
  path: string,
  init: RequestInit = {},
): Promise<{ ms: number; status: number }> {
  const start = performance.now();
  const res = await client.request(path, init);
  await res.arrayBuffer();
  return { ms: performance.now() - start, status: res.status };
}

/** Once a second until `done`: the admin page and GET /hub/api/users. */
async function watchAsAdmin(
  hub: RunningHub,
  admin: string,
  done: { value: boolean },
): Promise<Watch> {
  const watch: Watch = { pageMs: [], apiMs: [], statuses: [] };
  const client = new CookieClient(hub.url);
  const login = await client.login(admin, PASSWORD);
  await login.body?.cancel();
  const token = adminTokens.get(hub.url)!;
  while (!done.value) {
    const page = await timed(client, "hub/admin");
    const api = await timed(new CookieClient(hub.url), "hub/api/users", {
      headers: { authorization: `token ${token}` },
    });
    watch.pageMs.push(page.ms);
    watch.apiMs.push(api.ms);
    for (const s of [page.status, api.status]) {
      if (s >= 400) watch.statuses.push(s);
    }
    await sleep(1000);
  }
  return watch;
}

// ---- one run -------------------------------------------------------------

function percentile(values: number[], p: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
}

const s1 = (ms: number) => Number.isNaN(ms) ? "–" : (ms / 1000).toFixed(1);
const ms0 = (ms: number) => Number.isNaN(ms) ? "–" : ms.toFixed(0);

/** Samples the hub's RSS and CPU every 200 ms until stopped. */
function sampleHub(hub: RunningHub) {
  const cpu0 = hub.pids().reduce((s, p) => s + cpuSeconds(p), 0);
  let peakKiB = 0;
  const timer = setInterval(() => {
    const kib = hub.pids().reduce((s, p) => s + rssKiB(p), 0);
    peakKiB = Math.max(peakKiB, kib);
  }, 200);
  return () => {
    clearInterval(timer);
    const cpu = hub.pids().reduce((s, p) => s + cpuSeconds(p), 0) - cpu0;
    return { peakMiB: peakKiB / 1024, cpuSeconds: cpu };
  };
}

async function loadHub(hub: RunningHub, users: string[]): Promise<string> {
  const [admin, ...students] = users;
  const done = { value: false };
  const watching = watchAsAdmin(hub, admin!, done);
  const stopSampling = sampleHub(hub);
  const began = performance.now();
  const arrivals = await Promise.all(students.map(async (user, i) => {
    const at = (i / students.length) * WINDOW_S * 1000 +
      Math.random() * (WINDOW_S * 1000 / students.length);
    await sleep(at);
    return await arrive(hub, user);
  }));
  const wallS = (performance.now() - began) / 1000;
  done.value = true;
  const watch = await watching;
  const usage = stopSampling();
  const ok = arrivals.filter((a) => a.fortyTwoMs !== undefined);
  const errors = arrivals.filter((a) => a.error);
  for (const a of errors.slice(0, 5)) {
    out(`  ${hub.name} ${a.user}: ${a.error}`);
    const log = hub.serverLog?.(a.user);
    if (log) out(await tailFile(log, 1500).catch((e) => String(e)));
  }
  const statuses = [...arrivals.flatMap((a) => a.statuses), ...watch.statuses];
  const counts = Object.entries(
    statuses.reduce<Record<string, number>>((m, s) => {
      m[s] = (m[s] ?? 0) + 1;
      return m;
    }, {}),
  ).map(([s, n]) => `${n}×${s}`).join(" ") || "none";
  const login = arrivals.flatMap((a) => a.loginMs ?? []);
  const ready = arrivals.flatMap((a) => a.readyMs ?? []);
  const fortyTwo = ok.map((a) => a.fortyTwoMs!);
  return `| ${hub.name} | ${ok.length}/${students.length} | ${
    ms0(percentile(login, 0.5))
  } / ${ms0(percentile(login, 0.95))} | ${s1(percentile(ready, 0.5))} / ${
    s1(percentile(ready, 0.95))
  } / ${s1(Math.max(...ready))} | ${s1(percentile(fortyTwo, 0.95))} | ${
    ms0(percentile(watch.pageMs, 0.95))
  } | ${ms0(percentile(watch.apiMs, 0.95))} | ${counts} | ${
    usage.peakMiB.toFixed(0)
  } | ${usage.cpuSeconds.toFixed(1)} | ${wallS.toFixed(0)} |`;
}

/** Starts hub `name` (one of {@linkcode HUB_KINDS}) for `users`, the admin first. */
async function startHub(
  name: string,
  options: { dir: string; users: string[] },
): Promise<RunningHub> {
  const { dir, users } = options;
  if (name === "jupyterhub") return await startJupyterHub(dir, users[0]!);
  if (name === "onehub") return await startOnehub(dir, users[0]!);
  const hub = await startOnehubSystemd({
    dir,
    users,
    password: PASSWORD,
    settings: values.set,
  });
  adminTokens.set(hub.url, hub.token);
  return hub;
}

async function withHub(
  name: string,
  users: string[],
): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "onehub-class-" });
  await Deno.chmod(dir, 0o755);
  let hub: RunningHub | null = null;
  try {
    hub = await startHub(name, { dir, users });
    return await loadHub(hub, users);
  } catch (error) {
    // The hub's log outlives the run that failed.
    await hub?.saveLog?.(dir).catch(() => {});
    await Deno.mkdir(`${REPO}.bench`, { recursive: true });
    for await (const entry of Deno.readDir(dir)) {
      if (entry.name.endsWith(".log")) {
        await Deno.copyFile(
          `${dir}/${entry.name}`,
          `${REPO}.bench/class-start-${entry.name}`,
        );
      }
    }
    throw error;
  } finally {
    await hub?.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) {
  if (Deno.uid() !== 0) throw new Error("run as root: it makes Linux users");
  const hubs = values.hubs.split(",").map((h) => h.trim());
  const unknown = hubs.filter((h) => !HUB_KINDS.includes(h));
  if (unknown.length) {
    throw new Error(`unknown --hubs ${unknown}: one of ${HUB_KINDS}`);
  }
  const prefix = `cs${crypto.getRandomValues(new Uint8Array(2)).toHex()}`;
  const users = await makeUsers(prefix);
  const rows: string[] = [];
  try {
    for (const name of hubs) {
      rows.push(await withHub(name, users));
      // Whatever a hub left running as the students goes before the next.
      for (const u of users) {
        await new Deno.Command("pkill", { args: ["-KILL", "-u", u] }).output();
      }
    }
  } finally {
    await removeUsers(users);
  }
  out(
    `\n${USERS} users over ${WINDOW_S} s, ${Deno.build.os} ${
      (await run(["nproc"])).trim()
    } cores, ${new Date().toISOString()}\n`,
  );
  out(
    "| hub | reached 42 | login ms p50 / p95 | login → ready s p50 / p95 / max | → 42 s p95 | admin page p95 ms | API users p95 ms | answers ≥ 400 | hub RSS peak MiB | hub CPU s | wall s |",
  );
  out("|---|---|---|---|---|---|---|---|---|---|---|");
  for (const row of rows) out(row);
}
