/**
 * Load script (not a test): a real `onehub serve` with PAM under a login
 * flood and oversized uploads, all on 127.0.0.1, bounded in count and time.
 *
 *   sudo deno run -A bench/login_flood.ts [--seconds 30] [--attackers 100]
 *        [--addresses 10] [--uploads 20] [--upload-mb 100]
 *
 * - `attackers` loops post wrong passwords as fast as answers come, spread
 *   over `addresses` simulated client addresses (X-Forwarded-For, with
 *   127.0.0.1 as a trusted proxy, as nginx in front would be), each aimed
 *   at a random username, the real user's name included;
 * - a real Linux user (a throwaway account made here) logs in once a second
 *   from an address of its own;
 * - `uploads` chunked POSTs of `upload-mb` MB each go to /hub/login;
 * - the hub's RSS (VmRSS of its process) is sampled every 100 ms, with the
 *   PAM helpers' RSS beside it.
 * Prints a Markdown summary (for docs/benchmarks.md). Needs root (useradd,
 * PAM). Deletes the account and the data directory at the end.
 *
 * @module
 */
import { postLogin } from "../tests/_helpers/login_form.ts";
import { run } from "../tests/_helpers/system_users.ts";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { childrenOf, out, rssKiB } from "./_proc.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    seconds: { type: "string", default: "30" },
    attackers: { type: "string", default: "100" },
    addresses: { type: "string", default: "10" },
    uploads: { type: "string", default: "20" },
    "upload-mb": { type: "string", default: "100" },
    "max-attempts": { type: "string", default: "20000" },
  },
});
const SECONDS = Number(values.seconds);
const ATTACKERS = Number(values.attackers);
const ADDRESSES = Number(values.addresses);
const UPLOADS = Number(values.uploads);
const UPLOAD_BYTES = Number(values["upload-mb"]) * 1024 * 1024;
const MAX_ATTEMPTS = Number(values["max-attempts"]);

const percentile = (xs: number[], p: number) => {
  if (xs.length === 0) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
};

if (Deno.uid() !== 0) {
  out("login_flood: run as root (it creates a Linux user and uses PAM)");
  Deno.exit(2);
}
const user = `ohflood${Math.random().toString(36).slice(2, 7)}`;
const password = crypto.randomUUID();
const dataDir = await Deno.makeTempDir({ prefix: "onehub-flood-" });
await run(["useradd", "-m", user]);
await run(["chpasswd"], `${user}:${password}\n`);
await Deno.writeTextFile(
  `${dataDir}/config.yaml`,
  [
    `data_dir: ${dataDir}`,
    "users: {allow_all: true}",
    "proxy: {trusted_proxies: [127.0.0.1]}",
    "",
  ].join("\n"),
);
const main = fileURLToPath(new URL("../main.ts", import.meta.url));
const hub = new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    "-A",
    "--v8-flags=--max-semi-space-size=2,--heap-growing-percent=25",
    main,
    "serve",
    "--port",
    "0",
    "--hub-port",
    "0",
    "--config",
    `${dataDir}/config.yaml`,
  ],
  stdin: "null",
  stdout: "piped",
  stderr: "piped",
}).spawn();
let log = "";
const ready = Promise.withResolvers<string>();
(async () => {
  for await (
    const chunk of hub.stderr.pipeThrough(new TextDecoderStream())
  ) {
    log += chunk;
    const m = /listening url=(http:\/\/[^\s]+\/)/.exec(log);
    if (m) ready.resolve(m[1]!);
  }
})();
hub.stdout.cancel();
const base = await Promise.race([
  ready.promise,
  new Promise<never>((_, reject) =>
    setTimeout(
      () => reject(new Error(`the hub did not start:\n${log}`)),
      20_000,
    )
  ),
]);

async function login(address: string, name: string, pass: string) {
  const started = performance.now();
  try {
    const res = await postLogin(base, name, pass, {
      "x-forwarded-for": address,
    });
    await res.body?.cancel();
    return { status: res.status, ms: performance.now() - started };
  } catch {
    return { status: 0, ms: performance.now() - started };
  }
}

// Idle: a first login warms a PAM helper, then settle.
await login("192.0.2.200", user, password);
await new Promise((r) => setTimeout(r, 2000));
const idleHub = rssKiB(hub.pid);
let peakHub = idleHub;
let peakHelpers = 0;
const sampler = setInterval(() => {
  peakHub = Math.max(peakHub, rssKiB(hub.pid));
  const helpers = childrenOf(hub.pid).reduce((sum, p) => sum + rssKiB(p), 0);
  peakHelpers = Math.max(peakHelpers, helpers);
}, 100);

const deadline = Date.now() + SECONDS * 1000;
const attackerStatus = new Map<number, number>();
let attempts = 0;
const names = [user, "root", "admin", "teacher", "alice", "bob"];
const attackers = Array.from({ length: ATTACKERS }, async (_, i) => {
  const address = `198.51.100.${(i % ADDRESSES) + 1}`;
  while (Date.now() < deadline && attempts < MAX_ATTEMPTS) {
    attempts++;
    const name = names[Math.floor(Math.random() * names.length)]!;
    const r = await login(address, name, "wrong-password");
    attackerStatus.set(r.status, (attackerStatus.get(r.status) ?? 0) + 1);
  }
});

const real: Array<{ status: number; ms: number }> = [];
const realUser = (async () => {
  while (Date.now() < deadline) {
    const tick = Date.now();
    real.push(await login("192.0.2.200", user, password));
    await new Promise((r) =>
      setTimeout(r, Math.max(0, 1000 - (Date.now() - tick)))
    );
  }
})();

const uploadStatus = new Map<number, number>();
let uploadedBytes = 0;
const uploads = Array.from({ length: UPLOADS }, async () => {
  let sent = 0;
  const chunk = new Uint8Array(64 * 1024).fill(0x61);
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= UPLOAD_BYTES || Date.now() > deadline) {
        return controller.close();
      }
      sent += chunk.length;
      controller.enqueue(chunk);
    },
  });
  try {
    const res = await fetch(`${base}hub/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body,
    });
    await res.body?.cancel();
    uploadStatus.set(res.status, (uploadStatus.get(res.status) ?? 0) + 1);
  } catch {
    uploadStatus.set(0, (uploadStatus.get(0) ?? 0) + 1);
  }
  uploadedBytes += sent;
});

await Promise.all([...attackers, realUser, ...uploads]);
clearInterval(sampler);
hub.kill("SIGTERM");
await hub.status;
await run(["userdel", "-r", user]).catch(() => {});
await Deno.remove(dataDir, { recursive: true });

const ms = real.map((r) => r.ms);
const fmt = (m: Map<number, number>) =>
  [...m].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s || "error"}: ${n}`)
    .join(", ");
out(`## Login flood (${new Date().toISOString()})`);
out("");
out(
  `Command: \`sudo deno run -A bench/login_flood.ts --seconds ${SECONDS} --attackers ${ATTACKERS} --addresses ${ADDRESSES} --uploads ${UPLOADS} --upload-mb ${
    UPLOAD_BYTES / 1024 / 1024
  }\`; load average ${
    (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(" ")
  }`,
);
out("");
out("| measure | value | goal |");
out("| --- | --- | --- |");
out(
  `| hub RSS idle → peak | ${(idleHub / 1024).toFixed(1)} → ${
    (peakHub / 1024).toFixed(1)
  } MiB (+${((peakHub - idleHub) / 1024).toFixed(1)}) | < 100 MiB above idle |`,
);
out(
  `| PAM helpers' RSS, peak total | ${
    (peakHelpers / 1024).toFixed(1)
  } MiB | bounded by auth.pam.concurrency |`,
);
out(
  `| real user: logins ok / tried | ${
    real.filter((r) => r.status === 302).length
  } / ${real.length} | all |`,
);
out(
  `| real user: latency p50 / p99 / max | ${percentile(ms, 0.5).toFixed(0)} / ${
    percentile(ms, 0.99).toFixed(0)
  } / ${Math.max(...ms).toFixed(0)} ms | p99 < 5 s |`,
);
out(
  `| real user: statuses | ${
    fmt(
      new Map(
        real.reduce(
          (m, r) => m.set(r.status, (m.get(r.status) ?? 0) + 1),
          new Map<number, number>(),
        ),
      ),
    )
  } | 302 |`,
);
out(
  `| attackers: attempts, statuses | ${attempts}: ${
    fmt(attackerStatus)
  } | 403/429 only, no 5xx |`,
);
out(
  `| "login throttled" log lines | ${
    log.match(/login throttled/g)?.length ?? 0
  } | one per block |`,
);
out(
  `| uploads: statuses, MB sent in total | ${fmt(uploadStatus)}; ${
    (uploadedBytes / 1024 / 1024).toFixed(0)
  } MB of ${UPLOADS * UPLOAD_BYTES / 1024 / 1024} | 413 only |`,
);
