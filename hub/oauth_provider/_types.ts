/**
 * What the provider's handlers share (mod.ts re-exports it), kept apart so
 * authorize.ts and token.ts name it without importing mod.ts, which
 * imports them.
 *
 * @module
 */
import type { HubConfig } from "../config/mod.ts";
import type { Db } from "../db/mod.ts";
import type { Logger } from "../observe/log.ts";

/** What the provider (mod.ts's `createOAuthProvider`) needs. */
export interface OAuthProviderDeps {
  db: Db;
  config: HubConfig;
  logger: Logger;
  now: () => Date;
  /** The service an OAuth client id belongs to (services' clients), if any. */
  serviceOfClient?: (clientId: string) => string | undefined;
}
