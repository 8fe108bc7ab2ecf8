/**
 * A hub in this process with OpenID Connect sign-in against the test
 * provider (oidc_provider.ts), both on loopback; `spawner` picks the local
 * spawner for tests that start real servers.
 *
 * @module
 */
import { resolveConfig } from "../../hub/config/mod.ts";
import { hubParts } from "./hub_parts.ts";
import { createHub, type Hub } from "../../hub/mod.ts";
import { freePorts } from "./free_ports.ts";
import {
  CLIENT_ID,
  CLIENT_SECRET,
  type ProviderOptions,
  startProvider,
  type TestProvider,
} from "./oidc_provider.ts";
import { AuthStateBox } from "../../hub/auth/auth_state.ts";
import type { Db } from "../../hub/db/mod.ts";
import type { Spawner } from "../../spawners/mod.ts";
import { FakeSpawner } from "./fake_spawner.ts";
import { getUser } from "../../hub/db/users.ts";
import { issueToken } from "../../hub/api/mod.ts";

/** The hub and its provider. */
export interface OidcHub extends AsyncDisposable {
  url: string;
  issuer: string;
  hub: Hub;
  provider: TestProvider;
  db: Db;
  /** The hub's auth state box (opens what the hub stored). */
  authState: AuthStateBox;
}

/** More of the setup: the spawner, the provider's behaviour. */
export interface OidcHubOptions {
  spawner?: Spawner;
  provider?: ProviderOptions;
}

/** Starts a provider and a hub that signs in with it; `oauth` and `file` add config. */
export async function startOidcHub(
  oauth: Record<string, unknown> = {},
  file: Record<string, unknown> = {},
  options: OidcHubOptions = {},
): Promise<OidcHub> {
  const dir = await Deno.makeTempDir({ prefix: "onehub-oidc-" });
  const [port, hubPort] = freePorts(2);
  const url = `http://127.0.0.1:${port}/`;
  const provider = await startProvider(url, options.provider);
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
  const { handle, options: parts } = await hubParts(config, 5);
  const authState = new AuthStateBox([new Uint8Array(32).fill(6)]);
  const hub = await createHub({
    ...parts,
    authState,
    ...(options.spawner ? { spawner: options.spawner } : {}),
    ...(options.spawner instanceof FakeSpawner
      ? { isReady: options.spawner.isReady }
      : {}),
  });
  await hub.start();
  return {
    url,
    issuer: provider.issuer,
    hub,
    provider,
    db: handle.db,
    authState,
    async [Symbol.asyncDispose]() {
      await hub.stop();
      await handle.close();
      await provider[Symbol.asyncDispose]();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** POST `…/users/<name>/server` with a new API token of that user; the status (201: ready) and text. */
export async function spawnWithToken(
  h: OidcHub,
  name: string,
): Promise<{ status: number; text: string }> {
  const owner = await getUser(h.db, name);
  if (!owner) throw new Error(`spawnWithToken: no user ${name}`);
  const { token } = await issueToken(h.db, owner, {
    note: "test",
    expiresInSeconds: null,
    now: new Date(),
  });
  const res = await fetch(`${h.url}hub/api/users/${name}/server`, {
    method: "POST",
    headers: { authorization: `token ${token}` },
  });
  return { status: res.status, text: await res.text() };
}
