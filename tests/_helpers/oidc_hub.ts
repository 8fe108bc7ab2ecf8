/**
 * A hub in this process with OpenID Connect sign-in against the test
 * provider (oidc_provider.ts), both on loopback; `spawner` picks the local
 * spawner for tests that start real servers.
 *
 * @module
 */
import { resolveConfig } from "../../hub/config.ts";
import { migrateToLatest, openDatabase } from "../../hub/db/mod.ts";
import { createAuthenticator } from "../../hub/auth/mod.ts";
import { silentLogger } from "../../hub/log.ts";
import { createHub, type Hub } from "../../hub/mod.ts";
import { freePorts } from "./free_ports.ts";
import { CLIENT_ID, CLIENT_SECRET, startProvider } from "./oidc_provider.ts";

/** The hub and its provider. */
export interface OidcHub extends AsyncDisposable {
  url: string;
  issuer: string;
  hub: Hub;
}

/** Starts a provider and a hub that signs in with it; `oauth` and `file` add config. */
export async function startOidcHub(
  oauth: Record<string, unknown> = {},
  file: Record<string, unknown> = {},
): Promise<OidcHub> {
  const dir = await Deno.makeTempDir({ prefix: "onehub-oidc-" });
  const [port, hubPort] = freePorts(2);
  const url = `http://127.0.0.1:${port}/`;
  const provider = await startProvider(url);
  const config = resolveConfig({
    file: {
      "data_dir": dir,
      auth: {
        type: "pam",
        oauth: {
          enabled: true,
          issuer: provider.issuer,
          "client_id": CLIENT_ID,
          "client_secret": CLIENT_SECRET,
          scopes: ["openid", "profile", "groups"],
          ...oauth,
        },
      },
      users: { "allow_all": true },
      http: { ip: "127.0.0.1", port },
      hub: { port: hubPort },
      ...file,
    },
  });
  const handle = openDatabase(config.dbPath);
  await migrateToLatest(handle);
  const hub = await createHub({
    config,
    db: handle.db,
    authenticator: createAuthenticator(config),
    logger: silentLogger,
    cookieSecret: new Uint8Array(32).fill(5),
  });
  await hub.start();
  return {
    url,
    issuer: provider.issuer,
    hub,
    async [Symbol.asyncDispose]() {
      await hub.stop();
      await handle.close();
      await provider[Symbol.asyncDispose]();
      await Deno.remove(dir, { recursive: true });
    },
  };
}
