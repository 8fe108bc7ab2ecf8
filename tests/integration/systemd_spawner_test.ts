/**
 * The systemd spawner against a REAL systemd: a fresh Debian 12 booted with
 * systemd as PID 1 in a container (../shared/testbed). The unit runs as the
 * user, poll/stop work, MemoryMax is enforced by the kernel, and a start
 * with `startNice` weighs CPUWeight=11 until `answered` sets 100. About a
 * minute (debootstrap). Needs root and the testbed script.
 */
import assert from "node:assert/strict";
import { repoPath } from "../_helpers/paths.ts";
import { skipWithoutTestbed, tb, tbUp } from "../_helpers/testbed.ts";

const ignore = await skipWithoutTestbed("systemd_spawner_test");

const NAME = "onehub-sysd";

Deno.test({
  name:
    "systemd spawner: the unit runs as the user, MemoryMax is enforced, the start's CPUWeight is lifted once answered (real systemd in a container)",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await tb("down", NAME);
    try {
      const up = await tbUp(NAME);
      assert.equal(up.code, 0, `testbed up failed: ${up.err}`);
      for (
        const [src, dst] of [[Deno.execPath(), "/usr/local/bin/deno"], [
          repoPath("spawners"),
          "/src/spawners",
        ], [
          repoPath("tests", "integration", "_systemd_driver.ts"),
          "/src/tests/integration/_systemd_driver.ts",
        ]]
      ) {
        const cp = await tb("cp", NAME, src!, dst!);
        assert.equal(cp.code, 0, `copy ${src}: ${cp.err}`);
      }
      const user = await tb("in", NAME, "useradd", "-m", "tbuser");
      assert.equal(user.code, 0, user.err);
      const run = await tb(
        "in",
        NAME,
        "/usr/local/bin/deno",
        "run",
        "-A",
        "--no-config",
        "/src/tests/integration/_systemd_driver.ts",
        "tbuser",
      );
      assert.equal(run.code, 0, `driver failed: ${run.err}`);
      const seen = JSON.parse(run.out.trim().split("\n").at(-1)!);
      assert.equal(
        seen.uid,
        seen.expectedUid,
        "the unit's main process runs as the user",
      );
      assert.equal(seen.runningBefore, true);
      assert.equal(seen.runningAfter, false);
      assert.equal(seen.memoryMax, String(64 * 1024 * 1024));
      assert.equal(
        seen.cpuWeightStarting,
        "CPUWeight=11",
        "a start with startNice 10 weighs as nice 10 does",
      );
      assert.equal(
        seen.cpuWeightAnswered,
        "CPUWeight=100",
        "answered() puts it back to the default weight",
      );
      // The kernel follows: cpu.shares on cgroup v1 (this testbed), cpu.weight on v2.
      assert.ok(
        ["112", "11"].includes(seen.kernelWeightStarting),
        `the starting unit's cgroup weighs ${seen.kernelWeightStarting}`,
      );
      assert.ok(
        ["1024", "100"].includes(seen.kernelWeightAnswered),
        `the answered unit's cgroup weighs ${seen.kernelWeightAnswered}`,
      );
      assert.equal(
        seen.survivedLimited,
        false,
        "MemoryMax=64M stopped the 300 MiB allocation",
      );
      assert.equal(
        seen.survivedControl,
        true,
        "the same work survives a 1G limit (the check can fail)",
      );
    } finally {
      await tb("down", NAME);
    }
  },
});
