/**
 * Runs INSIDE the systemd testbed container (see systemd_spawner_test.ts):
 * drives the real systemd spawner against the container's systemd (a
 * unit's user, poll and stop, MemoryMax, the start's CPUWeight and
 * `answered`) and prints one JSON line with what it saw. Imports only
 * spawners/ (no npm packages are available in the container).
 *
 * Usage: deno run -A _systemd_driver.ts <user>
 */
import { createSpawner, lookupUser } from "../../spawners/mod.ts";

const name = Deno.args[0]!;
const user = (await lookupUser(name))!;
const spawner = createSpawner("systemd");
const out: Record<string, unknown> = {};

async function sh(cmd: string): Promise<string> {
  const r = await new Deno.Command("/bin/sh", { args: ["-c", cmd] }).output();
  return new TextDecoder().decode(r.stdout).trim();
}

// 1. A unit that just sleeps: it must run as the user, poll running, stop cleanly.
const sleeper = await spawner.start({
  id: `${name}-sleep`,
  user,
  argv: ["/bin/sleep", "300"],
  env: { PATH: "/usr/bin:/bin", HOME: user.home },
  ip: "127.0.0.1",
  port: 1,
  cwd: user.home,
});
const unit = String(sleeper.state.unit);
const mainPid = await sh(`systemctl show -p MainPID --value ${unit}`);
out.uid = Number(await sh(`ps -o uid= -p ${mainPid}`));
out.expectedUid = user.uid;
out.runningBefore = (await spawner.poll(sleeper.state)).running;
await spawner.stop(sleeper.state, { timeoutMs: 5000 });
out.runningAfter = (await spawner.poll(sleeper.state)).running;

// 2. dd fills a 300 MiB buffer, then leaves a marker if it survived. Under MemoryMax=64M the kernel
//    must kill it (no marker); under 1G (the control) the marker appears. (The unit itself is
//    collected once it ends, so its Result cannot be read afterwards: the marker is the evidence.)
async function hog(id: string, memoryBytes: number): Promise<boolean> {
  const marker = `${user.home}/${id}.survived`;
  const started = await spawner.start({
    id,
    user,
    argv: [
      "/bin/sh",
      "-c",
      `/bin/dd if=/dev/zero of=/dev/null bs=300M count=1 && touch ${marker}`,
    ],
    env: { PATH: "/usr/bin:/bin" },
    ip: "127.0.0.1",
    port: 1,
    cwd: user.home,
    limits: { memoryBytes, tasks: 32 },
  });
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && (await spawner.poll(started.state)).running) {
    await new Promise((r) => setTimeout(r, 200));
  }
  await spawner.stop(started.state).catch(() => {});
  return await Deno.stat(marker).then(() => true, () => false);
}
// The unit's MemoryMax, read from one that lives until stopped (a hog's unit
// may be killed and collected before `systemctl show` runs: then it reads
// the default, "infinity").
const limited = await spawner.start({
  id: `${name}-limited`,
  user,
  argv: ["/bin/sleep", "300"],
  env: { PATH: "/usr/bin:/bin" },
  ip: "127.0.0.1",
  port: 1,
  cwd: user.home,
  limits: { memoryBytes: 64 * 1024 * 1024, tasks: 32 },
});
out.memoryMax = await sh(
  `systemctl show -p MemoryMax --value ${String(limited.state.unit)}`,
);
await spawner.stop(limited.state, { timeoutMs: 5000 });

// 3. The start priority: a server started with startNice 10 weighs as a
//    thread at nice 10 (CPUWeight=11 of the default 100) until it answers;
//    `answered` gives it the weight of any running server.
const starting = await spawner.start({
  id: `${name}-nice`,
  user,
  argv: ["/bin/sleep", "300"],
  env: { PATH: "/usr/bin:/bin" },
  ip: "127.0.0.1",
  port: 1,
  cwd: user.home,
  startNice: 10,
});
const niceUnit = String(starting.state.unit);
/** The kernel's weight of the unit's cgroup: cpu.shares (v1) or cpu.weight (v2). */
const kernelWeight = () =>
  sh(
    `cat /sys/fs/cgroup/cpu/system.slice/${niceUnit}/cpu.shares /sys/fs/cgroup/system.slice/${niceUnit}/cpu.weight 2>/dev/null`,
  );
out.cpuWeightStarting = await sh(`systemctl show -p CPUWeight ${niceUnit}`);
out.kernelWeightStarting = await kernelWeight();
await spawner.answered!(starting.state);
out.cpuWeightAnswered = await sh(`systemctl show -p CPUWeight ${niceUnit}`);
out.kernelWeightAnswered = await kernelWeight();
await spawner.stop(starting.state, { timeoutMs: 5000 });

out.survivedLimited = await hog(`${name}-hog`, 64 * 1024 * 1024);
out.survivedControl = await hog(`${name}-ctl`, 1024 * 1024 * 1024);
// deno-lint-ignore no-console
console.log(JSON.stringify(out));
