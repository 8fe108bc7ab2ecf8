/**
 * The hub kind `onehub-systemd` of bench/class_start.ts: onehub as a fresh
 * machine runs it. A Debian 12 booted with systemd as PID 1 in a container
 * (../shared/testbed, sharing this host's network), onehub installed there
 * by install.sh from this checkout (served on loopback, `curl | bash` as a
 * user would), running as onehub.service with the systemd spawner (each
 * server a unit of its own) and `limits.memory: 1G`, PAM login against the
 * container's own accounts (the bench's users are made there too, same
 * names and password). The load runs from the host as for the other hubs;
 * the hub's process is found from the host (its pid in the container's
 * pid namespace → the host's), so the same sampler reads its RSS and CPU.
 * The container is always torn down (`testbed.sh down`); on a failure the
 * hub's journal goes to `<dir>/onehub-systemd.log`.
 *
 * @module
 */
import { freePorts } from "../tests/_helpers/free_ports.ts";
import {
  insideOf,
  serveCheckout,
  tb,
  tbUp,
  trustHostCAs,
} from "../tests/_helpers/testbed.ts";
import { out } from "./_proc.ts";

/** The container's name (`testbed.sh … class-start`). */
export const TESTBED_NAME = "class-start";

/** Public port and the hub's own: beside onehub's 19500/19501 and JupyterHub's 19510–19512. */
const PORT = 19520;
const HUB_PORT = 19521;

/** Where testbed.sh keeps the container (its rootfs under `root/`). */
const BASE = `${Deno.env.get("TESTBED_DIR") ?? "/tmp/testbed"}/${TESTBED_NAME}`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The running hub, as class_start.ts's RunningHub, with its admin's token. */
export interface TestbedHub {
  name: string;
  url: string;
  /** An API token of the admin (`onehub token` inside). */
  token: string;
  pids: () => number[];
  stop(): Promise<void>;
  serverLog: (user: string) => string;
  /** Writes the hub's journal to `<dir>/onehub-systemd.log`. */
  saveLog(dir: string): Promise<void>;
}

/** What the testbed hub needs of the run. */
export interface TestbedHubOptions {
  /** The run's scratch folder (the log of a failure goes there). */
  dir: string;
  /** The bench's users, the admin first: made inside with `password`. */
  users: string[];
  password: string;
  /** More config, `KEY=VALUE` each (the bench's `--set`). */
  settings?: string[];
}

/** Boots a fresh container (after removing a leftover of a killed run). */
async function boot(): Promise<void> {
  await tb("down", TESTBED_NAME);
  const up = await tbUp(TESTBED_NAME);
  if (up.code !== 0) throw new Error(`testbed up failed: ${up.err}`);
  await trustHostCAs(TESTBED_NAME);
}

/** The bench's users as Linux accounts inside, where PAM checks them. */
async function addUsers(users: string[], password: string): Promise<void> {
  if (users.some((u) => !/^[a-z0-9]+$/.test(u)) || !/^[\w-]+$/.test(password)) {
    throw new Error("unexpected characters in a user name or the password");
  }
  await insideOf(
    TESTBED_NAME,
    `for u in ${users.join(" ")}; do useradd -m -s /bin/bash "$u"; done && ` +
      `printf '%s:${password}\\n' ${users.join(" ")} | chpasswd`,
  );
}

/** install.sh from this checkout (`curl | bash`, --from-source), the systemd spawner being its default. */
async function install(admin: string): Promise<void> {
  const [filePort] = freePorts(1) as [number];
  await using files = await serveCheckout(filePort);
  const r = await tb(
    "in",
    TESTBED_NAME,
    "bash",
    "-c",
    `curl -fsSL ${files.installer} | bash -s -- --admin ${admin} --port ${PORT} --hub-port ${HUB_PORT} --from-source ${files.tarball}`,
  );
  if (r.code !== 0) {
    throw new Error(`install.sh failed:\n${r.err.slice(-2000)}`);
  }
}

/** The run's settings, as the local onehub's, then a restart to apply them all. */
async function configure(extra: string[] = []): Promise<void> {
  const settings: [string, string][] = [
    ["http.ip", "127.0.0.1"],
    ["users.allow_all", "true"],
    ["spawner.http_timeout", "300"],
    ["spawner.start_timeout", "300"],
    ["limits.memory", "1G"],
    ...extra.map((kv): [string, string] => [
      kv.slice(0, kv.indexOf("=")),
      kv.slice(kv.indexOf("=") + 1),
    ]),
  ];
  await insideOf(
    TESTBED_NAME,
    [
      "set -e",
      ...settings.map(([key, value]) =>
        `onehub config set ${key} ${value} >/dev/null`
      ),
      "systemctl restart onehub",
    ].join("\n"),
  );
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const res = await fetch(`http://127.0.0.1:${PORT}/hub/health`)
      .catch(() => null);
    await res?.body?.cancel();
    if (res?.ok) return;
    await sleep(250);
  }
  throw new Error("onehub.service did not answer /hub/health after restart");
}

/** Host pid of the process whose pid is `nsPid` in the pid namespace of `leader`. */
function hostPidOf(nsPid: number, leader: number): number | null {
  const ns = Deno.readLinkSync(`/proc/${leader}/ns/pid`);
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      if (Deno.readLinkSync(`/proc/${entry.name}/ns/pid`) !== ns) continue;
      const status = Deno.readTextFileSync(`/proc/${entry.name}/status`);
      const ids = /^NSpid:\s+(.+)$/m.exec(status)?.[1]?.trim().split(/\s+/);
      if (Number(ids?.at(-1)) === nsPid) return Number(entry.name);
    } catch {
      // gone meanwhile
    }
  }
  return null;
}

/** The host pid of onehub.service's main process (the hub's one process). */
async function hubHostPid(): Promise<number> {
  const main = Number(
    (await insideOf(TESTBED_NAME, "systemctl show -p MainPID --value onehub"))
      .trim(),
  );
  const leader = Number((await Deno.readTextFile(`${BASE}/leader.pid`)).trim());
  const pid = main > 0 ? hostPidOf(main, leader) : null;
  const cmdline = pid === null
    ? ""
    : (await Deno.readTextFile(`/proc/${pid}/cmdline`)).replaceAll("\0", " ");
  if (!/main\.ts serve/.test(cmdline)) {
    throw new Error(
      `cannot find onehub serve on the host (MainPID ${main} inside, ${pid}: ${cmdline})`,
    );
  }
  return pid!;
}

/** Prints what ran the servers: their units, and one's limits and weight. */
async function describeServers(): Promise<void> {
  const units = (await insideOf(
    TESTBED_NAME,
    "systemctl list-units --plain --no-legend --state=running 'onehub-*.service' | awk '{print $1}'",
  )).trim().split("\n").filter(Boolean);
  const one = units[0]
    ? (await insideOf(
      TESTBED_NAME,
      `systemctl show -p MemoryMax -p CPUWeight -p User ${units[0]}`,
    )).trim().replaceAll("\n", ", ")
    : "";
  out(
    `  onehub (systemd): ${units.length} server units running at the end${
      one ? `; ${units[0]}: ${one}` : ""
    }`,
  );
}

async function saveJournal(dir: string): Promise<void> {
  const r = await tb(
    "in",
    TESTBED_NAME,
    "journalctl",
    "-u",
    "onehub",
    "--no-pager",
  );
  await Deno.writeTextFile(`${dir}/onehub-systemd.log`, r.out + r.err);
}

/** Boots the container, installs and configures onehub, makes the users; times each step. */
async function setUp(options: TestbedHubOptions): Promise<string> {
  const [admin] = options.users;
  const began = performance.now();
  const lap = () => ((performance.now() - began) / 1000).toFixed(0);
  await boot();
  const booted = lap();
  await addUsers(options.users, options.password);
  const withUsers = lap();
  await install(admin!);
  const installed = lap();
  await configure(options.settings);
  const token = (await insideOf(TESTBED_NAME, `onehub token ${admin}`)).trim();
  out(
    `  onehub (systemd): set up in ${lap()} s (booted at ${booted} s, users at ${withUsers} s, installed at ${installed} s)`,
  );
  return token;
}

/**
 * Starts onehub.service in a fresh container; on a failure its journal is
 * in `<dir>/onehub-systemd.log` and the container is gone.
 */
export async function startOnehubSystemd(
  options: TestbedHubOptions,
): Promise<TestbedHub> {
  try {
    const token = await setUp(options);
    const pid = await hubHostPid();
    return {
      name: "onehub (systemd)",
      url: `http://127.0.0.1:${PORT}/`,
      token,
      pids: () => [pid],
      stop: async () => {
        await describeServers().catch((e) => out(`  ${e}`));
        await tb("down", TESTBED_NAME);
      },
      serverLog: (user) => `${BASE}/root/var/lib/onehub/logs/${user}.log`,
      saveLog: saveJournal,
    };
  } catch (error) {
    await saveJournal(options.dir).catch(() => {});
    await tb("down", TESTBED_NAME);
    throw error;
  }
}
