/**
 * A hub that starts one server and exits at once, to test what a restarted
 * hub sees: `deno run -A _spawn_and_exit.ts '<SpawnRequest JSON>'` prints the
 * StartResult as JSON. The server outlives this process and is reparented.
 *
 * @module
 */
import { createSpawner, type SpawnRequest } from "../../spawners/mod.ts";

const request = JSON.parse(Deno.args[0]!) as SpawnRequest;
const result = await createSpawner("local").start(request);
Deno.stdout.writeSync(new TextEncoder().encode(JSON.stringify(result)));
