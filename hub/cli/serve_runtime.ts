/**
 * Starting and stopping a whole hub for `serve` (and tests that run one in
 * process): {@linkcode startHub} is `createHub(options)` from hub/mod.ts,
 * then `start()`.
 *
 * @module
 */
import { createHub, type HubOptions, type HubUrls } from "../mod.ts";
import type { Proxy } from "../../proxy/mod.ts";
import type { RouteService } from "../servers/routes.ts";
import type { ServerManager } from "../servers/manager.ts";

/** What {@linkcode startHub} needs: the hub's options. */
export type StartHubOptions = HubOptions;

/** A running hub. */
export interface RunningHub extends HubUrls {
  /** The built-in proxy, or null in external mode. */
  proxy: Proxy | null;
  routes: RouteService;
  servers: ServerManager;
  /** Resolves when the API asked the hub to shut down. */
  shutdownRequested: Promise<void>;
  stop(): Promise<void>;
}

/** Builds and starts the hub (and its proxy); resolves once both listen. */
export async function startHub(options: StartHubOptions): Promise<RunningHub> {
  const hub = await createHub(options);
  const urls = await hub.start();
  return {
    ...urls,
    proxy: hub.proxy,
    routes: hub.routes,
    servers: hub.servers,
    shutdownRequested: hub.shutdownRequested,
    stop: hub.stop,
  };
}
