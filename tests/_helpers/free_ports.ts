/**
 * `freePorts(n)`: n different free TCP ports on 127.0.0.1, for configs that
 * need fixed ports before a process starts.
 *
 * The ports are drawn below the kernel's ephemeral range
 * (`net.ipv4.ip_local_port_range`, 32768–60999 by default): a port the
 * kernel handed out for `port: 0` and that was closed again is free for the
 * next outgoing connection's local port too, and one of the many
 * connections a test run makes took it before the hub listened on it
 * (AddrInUse, seen in CI). Below that range only explicit binds compete.
 * Each is checked by binding it, all n held at once so none is drawn twice.
 *
 * @module
 */

const LOW = 20_000;

/** The first port of the kernel's ephemeral range (32768 when unreadable). */
function ephemeralStart(): number {
  try {
    const text = Deno.readTextFileSync(
      "/proc/sys/net/ipv4/ip_local_port_range",
    );
    const first = Number(text.trim().split(/\s+/)[0]);
    return Number.isInteger(first) && first > LOW + 1000 ? first : 32_768;
  } catch {
    return 32_768;
  }
}

/** `n` different ports that were free a moment ago, none of them ephemeral. */
export function freePorts(n: number): number[] {
  const high = ephemeralStart();
  const held: Deno.Listener[] = [];
  try {
    for (let tries = 0; held.length < n; tries++) {
      if (tries > 1000) throw new Error(`No ${n} free ports in ${LOW}-${high}`);
      const port = LOW + Math.floor(Math.random() * (high - LOW));
      try {
        held.push(Deno.listen({ hostname: "127.0.0.1", port }));
      } catch (error) {
        if (!(error instanceof Deno.errors.AddrInUse)) throw error;
      }
    }
    return held.map((l) => (l.addr as Deno.NetAddr).port);
  } finally {
    for (const l of held) l.close();
  }
}
