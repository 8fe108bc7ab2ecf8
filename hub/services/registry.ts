/**
 * Applies the configured services to the database and the proxy: one row
 * per service (deleted when it leaves the config, its tokens with it), its
 * API token (the configured one, or a fresh one per start for a managed
 * service without one; only hashes are stored), its OAuth client
 * (`service-<name>`, secret = its token, redirect URI
 * `{base_url}services/<name>/oauth_callback`), its route
 * `{base_url}services/<name>/` when it has a `url`. (The user role's
 * `access:services!service=<name>` for `allow_all_users` is stored with the
 * config's roles: hub/config/access.ts.)
 *
 * @module
 */
import { hubRouteKey } from "../servers/urls.ts";
import type { Db } from "../db/mod.ts";
import {
  deleteServicesExcept,
  replaceServiceToken,
  upsertService,
} from "../db/services.ts";
import { deleteServiceTokens } from "../db/tokens.ts";
import {
  deleteClient,
  SERVICE_CLIENT_DESCRIPTION,
  staleServiceClients,
  upsertServiceClient,
} from "../db/oauth.ts";
import type { RouteService } from "../servers/routes.ts";
import { hashSecret, newSecret, tokenPrefix } from "../secrets.ts";
import type { ServiceSpec } from "./spec.ts";

/** `{base_url}services/<name>/`. */
export function servicePrefix(baseUrl: string, name: string): string {
  return `${baseUrl}services/${encodeURIComponent(name)}/`;
}

/** The OAuth redirect URI of a service. */
export function serviceRedirectUri(baseUrl: string, spec: ServiceSpec): string {
  return spec.oauthRedirectUri ||
    `${servicePrefix(baseUrl, spec.name)}oauth_callback`;
}

/** What {@linkcode applyServices} needs. */
export interface RegistryDeps {
  db: Db;
  baseUrl: string;
  /**
   * With subdomain_host, services stay on the hub's host (their routes name
   * it). JupyterHub 5 gives each service a host of its own; here services
   * are the admin's own programs and keep the `/services/<name>/` URLs
   * that are already handed out. @default {""}
   */
  subdomainHost?: string;
  routes?: RouteService;
  now: Date;
}

/** One service's row, token and OAuth client; returns its token ("" for none). */
async function applyOne(
  deps: RegistryDeps,
  spec: ServiceSpec,
): Promise<string> {
  const { db, now } = deps;
  const id = await upsertService(db, {
    name: spec.name,
    admin: spec.admin,
    url: spec.url,
    info: spec.info,
    scopes: spec.scopes,
  }, now.toISOString());
  const token = spec.apiToken || (spec.command.length ? newSecret() : "");
  if (token) {
    await replaceServiceToken(db, id, {
      prefix: tokenPrefix(token),
      hash: await hashSecret(token),
      now: now.toISOString(),
    });
  } else await deleteServiceTokens(db, id);
  if (token && (spec.url || spec.oauthRedirectUri)) {
    await upsertServiceClient(db, {
      identifier: spec.oauthClientId,
      description: `${SERVICE_CLIENT_DESCRIPTION}${spec.name}`,
      secret: token,
      redirectUri: serviceRedirectUri(deps.baseUrl, spec),
      allowedScopes: spec.oauthClientAllowedScopes,
      noConfirm: spec.oauthNoConfirm,
      now,
    });
  }
  return token;
}

/** Routes of services with a url; stale service routes removed. */
async function applyRoutes(deps: RegistryDeps, specs: readonly ServiceSpec[]) {
  const routes = deps.routes;
  if (!routes) return;
  const wanted = new Map(
    specs.filter((s) => s.url).map((s) => [
      hubRouteKey(
        { baseUrl: deps.baseUrl, subdomainHost: deps.subdomainHost ?? "" },
        servicePrefix(deps.baseUrl, s.name),
      ),
      s,
    ]),
  );
  for (const [prefix] of await routes.serviceRoutes()) {
    if (!wanted.has(prefix)) await routes.remove(prefix);
  }
  for (const [prefix, s] of wanted) {
    await routes.add(prefix, { target: s.url, data: { service: s.name } });
  }
}

/**
 * Makes the database and the proxy match `specs`; returns each service's
 * API token ("" when it has none).
 */
export async function applyServices(
  deps: RegistryDeps,
  specs: readonly ServiceSpec[],
): Promise<Map<string, string>> {
  const tokens = new Map<string, string>();
  for (const spec of specs) tokens.set(spec.name, await applyOne(deps, spec));
  await deleteServicesExcept(deps.db, specs.map((s) => s.name));
  const clients = specs.map((s) => s.oauthClientId);
  for (const id of await staleServiceClients(deps.db, clients)) {
    await deleteClient(deps.db, id);
  }
  await applyRoutes(deps, specs);
  return tokens;
}
