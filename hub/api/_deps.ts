/**
 * What every API route module receives.
 *
 * @module
 */
import type { HubConfig } from "../config/mod.ts";
import type { AuthStateBox } from "../auth/auth_state.ts";
import type { Db } from "../db/mod.ts";
import type { Authenticator } from "../auth/mod.ts";
import type { Logger } from "../observe/log.ts";
import type { RouteService } from "../servers/routes.ts";
import type { ServerManager } from "../servers/manager.ts";
import type { EventLog } from "../observe/events.ts";
import type { ServiceManager } from "../services/mod.ts";

/** Dependencies of the REST API. */
export interface ApiDeps {
  db: Db;
  config: HubConfig;
  authenticator: Authenticator;
  logger: Logger;
  /** Where admin actions and token changes are recorded. */
  events: EventLog;
  now: () => Date;
  /** Seals and opens users' `auth_state`. */
  authState: AuthStateBox;
  /** The version reported to clients (PEP 440). */
  version: string;
  /** The proxy's routes, when the hub runs with a proxy. */
  routes?: RouteService;
  /** Starts and stops servers, when the hub has a spawner. */
  servers?: ServerManager;
  /** The configured services (absent: none). */
  services?: Pick<ServiceManager, "models">;
  /** Asks the running hub to stop (absent: the API cannot stop this hub). */
  requestShutdown?: (request: ShutdownRequest) => void;
  /** Prefixes the hub keeps in the proxy that are not stored routes (its own `/`). */
  hubRoutes?: ReadonlySet<string>;
}

export { escapeName } from "../servers/single_user_env.ts";

/** What a shutdown request asks for. */
export interface ShutdownRequest {
  /** Stop users' servers (undefined: as configured). */
  servers?: boolean;
  proxy?: boolean;
  actor: string;
}
