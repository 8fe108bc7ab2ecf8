/**
 * One PAM check's latency, a new helper process per login (hub/auth/pam/mod.ts)
 * against a warm helper of the pool (hub/auth/pam/pool.ts), with a
 * throwaway account made here. Needs root and /etc/pam.d/onehub.
 *
 *   sudo deno run -A bench/pam_latency.ts [N]
 *
 * @module
 */
import { pamAuthenticate } from "../hub/auth/pam/mod.ts";
import { PamPool } from "../hub/auth/pam/pool.ts";

const N = Number(Deno.args[0] ?? "20");
const user = `ohlat${Math.random().toString(36).slice(2, 7)}`;
const password = crypto.randomUUID();
const sh = (argv: string[], input?: string) => {
  const child = new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    stdin: input === undefined ? "null" : "piped",
  }).spawn();
  if (input !== undefined) {
    const w = child.stdin.getWriter();
    w.write(new TextEncoder().encode(input)).then(() => w.close());
  }
  return child.status;
};
await sh(["useradd", "-m", user]);
await sh(["chpasswd"], `${user}:${password}\n`);
try {
  const once: number[] = [];
  for (let i = 0; i < N; i++) {
    const t = performance.now();
    const r = await pamAuthenticate({ username: user, password }, {
      service: "onehub",
      timeoutMs: 10_000,
    });
    if (!r.ok) throw new Error(JSON.stringify(r));
    once.push(performance.now() - t);
  }
  const pool = new PamPool({
    service: "onehub",
    timeoutMs: 10_000,
    concurrency: 1,
    queueSize: 4,
  });
  await pool.authenticate({ username: user, password }); // warm it
  const warm: number[] = [];
  for (let i = 0; i < N; i++) {
    const t = performance.now();
    const r = await pool.authenticate({ username: user, password });
    if (!r.ok) throw new Error(JSON.stringify(r));
    warm.push(performance.now() - t);
  }
  await pool.close();
  const median = (xs: number[]) =>
    [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!.toFixed(1);
  const max = (xs: number[]) => Math.max(...xs).toFixed(1);
  Deno.stdout.writeSync(new TextEncoder().encode(
    `new helper per login: median ${median(once)} ms, max ${max(once)} ms; ` +
      `warm pool: median ${median(warm)} ms, max ${max(warm)} ms (N=${N})\n`,
  ));
} finally {
  await sh(["userdel", "-r", user]);
}
