/**
 * An in-process hub with the OAuth provider mounted the way hub/mod.ts
 * mounts it: the identity middleware, then the provider at
 * `{base_url}hub/api/oauth2`, everything else handed to the test hub (login
 * pages, REST API). The provider gets its own movable clock.
 *
 * - `createOAuthHub(file)`: the hub; `using` it closes the database.
 * - `oh.request(path, init)`: like `hub.request`, through the provider app.
 * - `oh.register(user, server?, secret?)`: an OAuth client as a spawn
 *   registers it (redirect URI under base_url).
 * - `oh.authorizeUrl(clientId, extra)`: the URL a singleuser server sends
 *   browsers to.
 * - `oh.exchange(code, clientId, secret, extra)`: POST /token.
 * - `oh.advance(seconds)`: moves the provider's clock.
 *
 * @module
 */
import { Hono } from "hono";
import { createTestHub, type TestHub } from "../../_helpers/test_hub.ts";
import { importXsrfKey } from "../../../hub/auth/xsrf.ts";
import { HubError } from "../../../hub/errors.ts";
import {
  apiCookieRules,
  type HubEnv,
  identityMiddleware,
} from "../../../hub/middleware/identity.ts";
import { createOAuthProvider } from "../../../hub/oauth_provider/mod.ts";
import { clientIdFor, upsertServerClient } from "../../../hub/db/oauth.ts";
import { silentLogger } from "../../../hub/observe/log.ts";
import { getServer, recordSpawning } from "../../../hub/db/servers.ts";
import { getUser, getUserById } from "../../../hub/db/users.ts";
import { serverPrefix } from "../../../hub/servers/single_user_env.ts";

/** The hub under test, with the provider. */
export interface OAuthHub extends AsyncDisposable {
  hub: TestHub;
  app: Hono<HubEnv>;
  request(
    path: string,
    init?: RequestInit & { token?: string; cookie?: string },
  ): Promise<Response>;
  register(
    user: string,
    server?: string,
    secret?: string,
    allowedScopes?: string[],
  ): Promise<{ clientId: string; secret: string; redirectUri: string }>;
  authorizeUrl(clientId: string, extra?: Record<string, string>): string;
  exchange(
    code: string,
    clientId: string,
    secret: string,
    extra?: Record<string, string>,
  ): Promise<Response>;
  advance(seconds: number): void;
}

/** Builds the hub (config file-shaped overrides, as for createTestHub). */
export async function createOAuthHub(
  file: Record<string, unknown> = {},
): Promise<OAuthHub> {
  const hub = await createTestHub(file);
  const { config } = hub;
  let clock = hub.now.getTime();
  const now = () => new Date(clock);
  const apiPrefix = `${config.baseUrl}hub/api`;
  const app = new Hono<HubEnv>({ strict: false });
  app.onError((error, c) => {
    const status = error instanceof HubError ? error.status : 500;
    // deno-lint-ignore no-explicit-any
    return c.json({ status, message: error.message }, status as any);
  });
  app.use(
    "*",
    identityMiddleware({
      db: hub.handle.db,
      xsrfKey: await importXsrfKey(new Uint8Array(32).fill(7)),
      now: () => hub.now,
    }, { cookieRulesApply: apiCookieRules(config.baseUrl) }),
  );
  app.route(
    `${apiPrefix}/oauth2`,
    createOAuthProvider({
      db: hub.handle.db,
      config,
      logger: silentLogger,
      now,
    }),
  );
  app.all("*", (c) => hub.app.fetch(c.req.raw, c.env));

  const request: OAuthHub["request"] = (path, init = {}) => {
    const headers = new Headers(init.headers);
    if (init.token) headers.set("Authorization", `token ${init.token}`);
    if (init.cookie) headers.set("cookie", init.cookie);
    const { token: _t, cookie: _c, ...rest } = init;
    return Promise.resolve(
      app.request(`http://127.0.0.1:8000${path}`, { ...rest, headers }),
    );
  };

  return {
    hub,
    app,
    request,
    async register(user, server = "", secret = "server-secret-token", scopes) {
      const prefix = serverPrefix(config.baseUrl, { user, server });
      const redirectUri = `${prefix}oauth_callback`;
      // A server's client belongs to its row, as after a spawn.
      // (A user not added yet is made now, as a login would.)
      const owner = await getUser(hub.handle.db, user) ??
        (await getUserById(hub.handle.db, await hub.addUser(user)))!;
      await recordSpawning(hub.handle.db, {
        userId: owner.id,
        name: server,
        url: prefix,
        userOptions: {},
        hubInstance: "",
        at: now().toISOString(),
      });
      await upsertServerClient(hub.handle.db, {
        user,
        server,
        serverId: (await getServer(hub.handle.db, owner.id, server))!.id,
        secret,
        redirectUri,
        allowedScopes: scopes ??
          [`access:servers!server=${user}/${server}`],
        description: `Server at ${prefix}`,
        now: now(),
      });
      return { clientId: clientIdFor(user, server), secret, redirectUri };
    },
    authorizeUrl(clientId, extra = {}) {
      const params = new URLSearchParams({
        "client_id": clientId,
        "response_type": "code",
        ...extra,
      });
      return `${apiPrefix}/oauth2/authorize?${params}`;
    },
    exchange(code, clientId, secret, extra = {}) {
      return request(`${apiPrefix}/oauth2/token`, {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          // what HubOAuth sends too; irrelevant to the provider
          authorization: `token ${secret}`,
        },
        body: new URLSearchParams({
          "client_id": clientId,
          "client_secret": secret,
          "grant_type": "authorization_code",
          code,
          ...extra,
        }).toString(),
      });
    },
    advance(seconds) {
      clock += seconds * 1000;
    },
    async [Symbol.asyncDispose]() {
      await hub[Symbol.asyncDispose]();
    },
  };
}
