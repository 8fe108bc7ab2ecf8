/**
 * Fake `systemd-run` and `systemctl` for testing the systemd driver on a
 * machine without systemd: two /bin/sh scripts in a temp dir that record
 * their argv and act on one fake unit whose `systemctl show` output is a
 * file. Pass `systemdRunPath`, `systemctlPath`, `systemdRuntimeDir` and
 * `envFileDir` from here to `createSystemdSpawner`.
 *
 * - `systemd-run` makes the unit active, or fails with `failStart()`'s text;
 * - `systemctl show` prints the unit's properties (`setUnit()`);
 * - `systemctl stop` makes it gone, unless `ignoreStop()` was called;
 * - `systemctl kill` makes it gone;
 * - a unit that is gone has `LoadState=not-found`, and `stop` then exits 5
 *   like the real one.
 *
 * `await using fake = await createFakeSystemd()` removes it all.
 *
 * @module
 */

/** Properties `systemctl show` prints for a unit that does not exist. */
export const GONE = {
  LoadState: "not-found",
  ActiveState: "inactive",
  SubState: "dead",
  ExecMainStatus: "0",
};

/** Properties of a running unit. */
export const RUNNING = {
  LoadState: "loaded",
  ActiveState: "active",
  SubState: "running",
  ExecMainStatus: "0",
};

/** The fake tools and what they saw. */
export interface FakeSystemd extends AsyncDisposable {
  /** The temp dir holding everything. */
  dir: string;
  systemdRunPath: string;
  systemctlPath: string;
  /** An existing directory standing for /run/systemd/system. */
  systemdRuntimeDir: string;
  /** Where the driver should write environment files (not created yet). */
  envFileDir: string;
  /** Every invocation so far: `["systemctl", "show", …]`. */
  calls(): Promise<string[][]>;
  /** Sets what `systemctl show` prints from now on. */
  setUnit(props: Record<string, string>): Promise<void>;
  /** Makes `systemctl stop` leave the unit running (a server ignoring SIGTERM). */
  ignoreStop(): Promise<void>;
  /** Makes `systemd-run` print `stderr` and exit 1. */
  failStart(stderr: string): Promise<void>;
}

const RECORD =
  `{ printf '%s' "$TOOL"; for a in "$@"; do printf '\\037%s' "$a"; done; printf '\\036'; } >>"$DIR/calls"`;

function showText(props: Record<string, string>): string {
  return Object.entries(props).map(([k, v]) => `${k}=${v}\n`).join("");
}

/** Creates the fake tools in a new temp dir; the unit starts out gone. */
export async function createFakeSystemd(): Promise<FakeSystemd> {
  const dir = await Deno.makeTempDir({ prefix: "onehub-fake-systemd-" });
  const header = `#!/bin/sh\nDIR='${dir}'\n`;
  const systemdRun = `${header}TOOL=systemd-run
${RECORD}
if [ -f "$DIR/start-fails" ]; then cat "$DIR/start-fails" >&2; exit 1; fi
cp "$DIR/running" "$DIR/unit"
echo "Running as unit: $2.service" >&2
`;
  const systemctl = `${header}TOOL=systemctl
${RECORD}
case "$1" in
  show) cat "$DIR/unit" ;;
  stop)
    unit="$3"
    if grep -q '^LoadState=not-found' "$DIR/unit"; then
      echo "Failed to stop $unit: Unit $unit not loaded." >&2; exit 5
    fi
    if [ ! -f "$DIR/ignore-stop" ]; then cp "$DIR/gone" "$DIR/unit"; fi ;;
  kill) cp "$DIR/gone" "$DIR/unit" ;;
  set-property) ;;
  *) echo "fake systemctl: unknown command $1" >&2; exit 1 ;;
esac
`;
  await Deno.writeTextFile(`${dir}/systemd-run`, systemdRun, { mode: 0o755 });
  await Deno.writeTextFile(`${dir}/systemctl`, systemctl, { mode: 0o755 });
  await Deno.writeTextFile(`${dir}/gone`, showText(GONE));
  await Deno.writeTextFile(`${dir}/running`, showText(RUNNING));
  await Deno.writeTextFile(`${dir}/unit`, showText(GONE));
  await Deno.writeTextFile(`${dir}/calls`, "");
  await Deno.mkdir(`${dir}/systemd-system`);
  return {
    dir,
    systemdRunPath: `${dir}/systemd-run`,
    systemctlPath: `${dir}/systemctl`,
    systemdRuntimeDir: `${dir}/systemd-system`,
    envFileDir: `${dir}/env`,
    async calls() {
      const text = await Deno.readTextFile(`${dir}/calls`);
      return text.split("\x1e").filter((c) => c !== "").map((c) =>
        c.split("\x1f")
      );
    },
    async setUnit(props) {
      await Deno.writeTextFile(`${dir}/unit`, showText(props));
    },
    async ignoreStop() {
      await Deno.writeTextFile(`${dir}/ignore-stop`, "");
    },
    async failStart(stderr) {
      await Deno.writeTextFile(`${dir}/start-fails`, stderr + "\n");
    },
    async [Symbol.asyncDispose]() {
      await Deno.remove(dir, { recursive: true });
    },
  };
}
