/**
 * `freePorts(n)`: n different free TCP ports on 127.0.0.1, found by holding
 * all n listeners at once (one at a time, the kernel may hand out the same
 * port twice). For configs that need fixed ports before a process starts.
 *
 * @module
 */

/** `n` different ports that were free a moment ago. */
export function freePorts(n: number): number[] {
  const held = Array.from(
    { length: n },
    () => Deno.listen({ hostname: "127.0.0.1", port: 0 }),
  );
  const ports = held.map((l) => (l.addr as Deno.NetAddr).port);
  for (const l of held) l.close();
  return ports;
}
