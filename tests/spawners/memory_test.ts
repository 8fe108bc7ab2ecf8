/** spawners/_memory.ts: resident sets of a process tree, a unit's cgroup memory, the machine's available memory. */
import assert from "node:assert/strict";
import {
  machineMemAvailable,
  parseMemAvailable,
  parseVmRss,
  processTreeRss,
  unitMemory,
} from "../../spawners/_memory.ts";
import { createSpawner } from "../../spawners/mod.ts";

Deno.test("parseVmRss() reads the VmRSS line in bytes", () => {
  assert.equal(
    parseVmRss("Name:\tx\nVmRSS:\t  2048 kB\nVmSwap: 0 kB\n"),
    2097152,
  );
  assert.equal(parseVmRss("Name:\tkthread\n"), null);
});

Deno.test("parseMemAvailable() reads the MemAvailable line of /proc/meminfo in bytes", () => {
  const meminfo = [
    "MemTotal:        4028776 kB",
    "MemFree:          181332 kB",
    "MemAvailable:     184320 kB",
    "Buffers:           61240 kB",
    "",
  ].join("\n");
  assert.equal(parseMemAvailable(meminfo), 180 * 1024 ** 2);
  // Kernels before 3.14 have no such line.
  assert.equal(
    parseMemAvailable("MemTotal: 4028776 kB\nMemFree: 1 kB\n"),
    null,
  );
  assert.equal(parseMemAvailable(""), null);
});

Deno.test("machineMemAvailable() reads this machine's /proc/meminfo, and is null without it", async () => {
  const bytes = await machineMemAvailable();
  assert.ok(bytes !== null && bytes > 0, `MemAvailable: ${bytes}`);
  assert.equal(bytes % 1024, 0);
  assert.equal(await machineMemAvailable(() => Promise.resolve(null)), null);
});

Deno.test("processTreeRss() adds up a process and its children", async () => {
  const files: Record<string, string> = {
    "/proc/10/status": "VmRSS:\t100 kB\n",
    "/proc/10/task/10/children": "11 12 ",
    "/proc/11/status": "VmRSS:\t10 kB\n",
    "/proc/12/status": "VmRSS:\t1 kB\n",
  };
  const read = (p: string) => Promise.resolve(files[p] ?? null);
  assert.equal(await processTreeRss(10, read), 111 * 1024);
  assert.equal(await processTreeRss(99, read), null);
});

Deno.test("unitMemory() reads a systemd unit's cgroup and refuses odd unit names", async () => {
  const read = (p: string) =>
    Promise.resolve(
      p === "/sys/fs/cgroup/system.slice/jupyter-a.service/memory.current"
        ? "4096\n"
        : null,
    );
  assert.equal(await unitMemory("jupyter-a.service", read), 4096);
  assert.equal(await unitMemory("../x.service", read), null);
  assert.equal(await unitMemory("a/../../x.service", read), null);
});

Deno.test("unitMemory() reads the unit of a user whose name has an @ (escaped \\x40 by the driver)", async () => {
  const unit = "onehub-jupyter-a\\x40b.c.service";
  const read = (p: string) =>
    Promise.resolve(
      p === `/sys/fs/cgroup/system.slice/${unit}/memory.current`
        ? "8192\n"
        : null,
    );
  assert.equal(await unitMemory(unit, read), 8192);
});

Deno.test("the local and systemd spawners measure their own kind of state only", async () => {
  const local = createSpawner("local");
  assert.ok((await local.memory({ pid: Deno.pid }))! > 1024 * 1024);
  assert.equal(await local.memory({ unit: "jupyter-a.service" }), null);
  assert.equal(await createSpawner("systemd").memory({ pid: Deno.pid }), null);
});
