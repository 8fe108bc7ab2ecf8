/**
 * What every API route module receives, and what each module's
 * `create…Api` starts from ({@linkcode apiApp}).
 *
 * @module
 */
import { Hono, type MiddlewareHandler } from "hono";
import type { Ctx, HubEnv } from "../middleware/identity.ts";
import { createScopeGuard } from "../middleware/require_scope.ts";
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

/** `needs("scope", …)`: middleware that lets a route through when the caller holds any of the scopes. */
export type ScopeGuard = (...required: string[]) => MiddlewareHandler<HubEnv>;

/** A named route handler: the request and the dependencies of its sub-app. */
export type ApiRoute<D> = (c: Ctx, deps: D) => Promise<Response>;

/** A sub-app of the API with its scope guards, before its routes. */
export interface ApiApp<D> {
  app: Hono<HubEnv>;
  /** The route's scope guard. */
  needs: ScopeGuard;
  /** The guard of a list that narrows itself to what a filtered scope reaches. */
  listing: ScopeGuard;
  /** A named handler bound to the sub-app's dependencies. */
  on: (route: ApiRoute<D>) => (c: Ctx) => Promise<Response>;
}

/** What every `create…Api` starts from: the app, its guards, and handlers bound to `deps`. */
export function apiApp<D extends { db: Db }>(deps: D): ApiApp<D> {
  return {
    app: new Hono<HubEnv>(),
    needs: createScopeGuard(deps.db),
    listing: createScopeGuard(deps.db, { postFilter: true }),
    on: (route) => (c) => route(c, deps),
  };
}

/** What a shutdown request asks for. */
export interface ShutdownRequest {
  /** Stop users' servers (undefined: as configured). */
  servers?: boolean;
  proxy?: boolean;
  actor: string;
}
