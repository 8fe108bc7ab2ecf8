/** spawners/_memory.ts: resident sets of a process tree, a unit's cgroup memory. */
import assert from "node:assert/strict";
import {
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
});

Deno.test("the local and systemd spawners measure their own kind of state only", async () => {
  const local = createSpawner("local");
  assert.ok((await local.memory({ pid: Deno.pid }))! > 1024 * 1024);
  assert.equal(await local.memory({ unit: "jupyter-a.service" }), null);
  assert.equal(await createSpawner("systemd").memory({ pid: Deno.pid }), null);
});
