/**
 * Starting and stopping a whole hub: the hub app on its own loopback
 * listener (`hub.ip:hub.port`, what single-user servers call), the proxy
 * in front of it on the public port (or a separate proxy driven over its
 * API), the routes restored from the database, and the activity pull.
 * `serve` uses it; tests use it in process.
 *
 * @module
 */
import {
  createProxy,
  type Proxy,
  type ProxyListener,
} from "../../proxy/mod.ts";
import type { HubConfig } from "../config.ts";
import { ConfigError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { Db } from "../db/mod.ts";
import type { Authenticator } from "../auth/mod.ts";
import {
  inProcessControl,
  type ProxyControl,
  remoteControl,
  RouteService,
} from "../routes.ts";
import { pullActivity } from "../activity.ts";
import { createHub, renderProxyError } from "../mod.ts";
import { ServerManager } from "../servers.ts";
import { createSpawner, type Spawner } from "../../spawners/mod.ts";
import {
  AcmeChallenges,
  CHALLENGE_PREFIX,
  ensureCertificate,
} from "../acme/mod.ts";

/** What {@linkcode startHub} needs. */
export interface StartHubOptions {
  config: HubConfig;
  db: Db;
  authenticator: Authenticator;
  logger: Logger;
  cookieSecret: Uint8Array;
  /** The external proxy's token when config has none. @default {$CONFIGPROXY_AUTH_TOKEN} */
  proxyToken?: string;
  /** The spawner (tests may pass a fake). @default {createSpawner(config.spawner.type)} */
  spawner?: Spawner;
  /** This hub's instance id: only its own servers are adopted. @default {""} */
  instanceId?: string;
  /** How often a Let's Encrypt certificate is checked for renewal. @default {12 h} */
  acmeRenewCheckMs?: number;
}

/** A running hub. */
export interface RunningHub {
  /** Where people connect, e.g. "http://127.0.0.1:8000/" (the proxy's listener). */
  publicUrl: string;
  /** The hub's own listener, e.g. "http://127.0.0.1:8081". */
  hubUrl: string;
  /** The built-in proxy, or null in external mode. */
  proxy: Proxy | null;
  routes: RouteService;
  servers: ServerManager;
  stop(): Promise<void>;
}

function urlOf(scheme: string, hostname: string, port: number): string {
  return `${scheme}://${
    hostname.includes(":") ? `[${hostname}]` : hostname
  }:${port}`;
}

/** Starts the hub (and its proxy); resolves once both listen. */
export async function startHub(options: StartHubOptions): Promise<RunningHub> {
  const { config, logger } = options;
  let proxy: Proxy | null = null;
  let control: ProxyControl;
  if (config.proxy.mode === "builtin") {
    proxy = createProxy({
      renderError: renderProxyError(config),
      connectTimeoutMs: config.proxy.connectTimeoutSeconds * 1000,
      trustedProxies: config.proxy.trustedProxies,
      logger,
      ...(config.https.hsts ? { hstsMaxAge: config.https.hstsMaxAge } : {}),
    });
    control = inProcessControl(proxy);
  } else {
    const token = config.proxy.authToken || options.proxyToken ||
      Deno.env.get("CONFIGPROXY_AUTH_TOKEN") || "";
    if (!token) {
      throw new ConfigError(
        'proxy.mode is "external" but no proxy token is set: set proxy.auth_token or CONFIGPROXY_AUTH_TOKEN to the token the proxy was started with',
      );
    }
    control = remoteControl({ apiUrl: config.proxy.apiUrl, token });
  }
  const routes = new RouteService(options.db, control);
  let hubApiUrl = "";
  const servers = new ServerManager({
    db: options.db,
    config,
    routes,
    spawner: options.spawner ?? createSpawner(config.spawner.type),
    logger,
    hubApiUrl: () => hubApiUrl,
    ...(options.instanceId ? { instanceId: options.instanceId } : {}),
  });
  const acmeOn = config.https.enabled &&
    config.https.letsencrypt.domains.length > 0;
  const challenges = acmeOn ? new AcmeChallenges() : undefined;
  const hub = await createHub({
    config,
    db: options.db,
    authenticator: options.authenticator,
    logger,
    cookieSecret: options.cookieSecret,
    routes,
    servers,
    ...(challenges ? { acmeChallenges: challenges } : {}),
  });

  const hubController = new AbortController();
  const hubListening = Promise.withResolvers<Deno.NetAddr>();
  const hubServer = Deno.serve({
    hostname: config.hub.ip,
    port: config.hub.port,
    signal: hubController.signal,
    onListen: (addr) => hubListening.resolve(addr as Deno.NetAddr),
    onError: (error) => {
      logger.error("hub request failed", {
        error: (error as Error).stack ?? error,
      });
      return new Response("Internal Server Error", { status: 500 });
    },
  }, hub.fetch);
  const hubAddr = await hubListening.promise;
  const hubUrl = urlOf("http", hubAddr.hostname, hubAddr.port);
  hubApiUrl = `${hubUrl}${config.baseUrl}hub/api`;

  const listeners: ProxyListener[] = [];
  let redirectServer: Deno.HttpServer | null = null;
  let renewTimer: ReturnType<typeof setInterval> | undefined;
  let tls: ProxyListener | undefined;
  const stopAll = async () => {
    clearInterval(renewTimer);
    for (const l of listeners) l.close();
    proxy?.close();
    hubController.abort();
    await hubServer.finished;
    if (redirectServer) await redirectServer.shutdown();
  };
  let publicUrl: string;
  try {
    await control.add("/", hubUrl, { hub: true });
    const synced = await routes.sync(new Set(["/"]));
    if (synced.added.length || synced.removed.length) {
      logger.info("proxy routes restored", {
        added: synced.added.length,
        removed: synced.removed.length,
      });
    }
    const adopted = await servers.reconcile();
    if (adopted.kept.length || adopted.cleaned.length) {
      logger.info("servers re-adopted", {
        kept: adopted.kept.join(",") || "none",
        cleaned: adopted.cleaned.join(",") || "none",
      });
    }
    servers.startPolling();
    if (proxy) {
      if (config.https.enabled) {
        // With Let's Encrypt the plain port answers http-01 challenges (and
        // redirects the rest), so it listens before the certificate is asked for.
        if (config.https.redirectHttp || challenges) {
          redirectServer = serveRedirect(
            config.http.ip,
            config.http.port,
            () => tls?.port ?? config.https.port,
            challenges,
          );
        }
        const certDir = `${config.dataDir}/certs`;
        const acme = () =>
          ensureCertificate({
            domains: config.https.letsencrypt.domains,
            email: config.https.letsencrypt.email,
            directoryUrl: config.https.letsencrypt.directory,
            dir: certDir,
            challenges: challenges!,
            logger,
          });
        const { cert, key } = challenges ? await acme() : {
          cert: await readPem(config.https.cert, "https.tls.cert"),
          key: await readPem(config.https.key, "https.tls.key"),
        };
        tls = proxy.listen({
          hostname: config.http.ip,
          port: config.https.port,
          cert,
          key,
        });
        listeners.push(tls);
        publicUrl = `${
          urlOf("https", tls.hostname, tls.port)
        }${config.baseUrl}`;
        if (challenges) {
          // Twice a day: renew when fewer than 30 days are left, then listen
          // again with the new certificate (open connections stay).
          renewTimer = setInterval(() => {
            acme().then(async (fresh) => {
              if (!fresh.renewed) return;
              const old = tls!;
              old.close();
              // The closed listener's socket is released a moment later
              // (its pending accept ends first): retry the bind briefly.
              const port = old.port;
              for (let attempt = 0;; attempt++) {
                try {
                  tls = proxy!.listen({
                    hostname: config.http.ip,
                    port,
                    cert: fresh.cert,
                    key: fresh.key,
                  });
                  break;
                } catch (error) {
                  if (
                    !(error instanceof Deno.errors.AddrInUse) || attempt >= 100
                  ) throw error;
                  await new Promise((r) => setTimeout(r, 20));
                }
              }
              listeners.splice(listeners.indexOf(old), 1, tls);
              logger.info("HTTPS now uses the renewed certificate");
            }).catch((error) =>
              logger.error("certificate renewal failed; will retry", {
                error: (error as Error).message,
              })
            );
          }, options.acmeRenewCheckMs ?? 12 * 3600_000);
          Deno.unrefTimer(renewTimer);
        }
      } else {
        const plain = proxy.listen({
          hostname: config.http.ip,
          port: config.http.port,
        });
        listeners.push(plain);
        publicUrl = `${
          urlOf("http", plain.hostname, plain.port)
        }${config.baseUrl}`;
      }
    } else {
      publicUrl = config.publicUrl
        ? `${config.publicUrl}${config.baseUrl}`
        : `${hubUrl}${config.baseUrl}`;
    }
  } catch (error) {
    await stopAll();
    throw error;
  }

  const timer = setInterval(() => {
    pullActivity(options.db, routes).catch((error) =>
      logger.warn("could not pull proxy activity", {
        error: (error as Error).message,
      })
    );
  }, config.proxy.activityIntervalSeconds * 1000);
  Deno.unrefTimer(timer);

  return {
    publicUrl,
    hubUrl,
    proxy,
    routes,
    servers,
    async stop() {
      clearInterval(timer);
      await servers.shutdown(config.spawner.stopOnShutdown).catch((error) =>
        logger.warn("could not stop servers", {
          error: (error as Error).message,
        })
      );
      await pullActivity(options.db, routes).catch(() => 0);
      await stopAll();
    },
  };
}

async function readPem(path: string, key: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    throw new ConfigError(
      `Cannot read ${key} "${path}": ${
        (error as Error).message
      }; point it at a readable PEM file`,
    );
  }
}

/**
 * Plain-HTTP listener answering every request with a redirect to HTTPS,
 * except Let's Encrypt's http-01 challenges, which it answers.
 */
function serveRedirect(
  hostname: string,
  port: number,
  httpsPort: () => number,
  challenges?: AcmeChallenges,
): Deno.HttpServer {
  return Deno.serve({ hostname, port, onListen: () => {} }, (request) => {
    const url = new URL(request.url);
    const answer = challenges?.answer(url.pathname) ?? null;
    if (answer !== null) {
      return new Response(answer, {
        headers: { "content-type": "text/plain" },
      });
    }
    if (url.pathname.startsWith(CHALLENGE_PREFIX)) {
      return new Response("No such challenge", { status: 404 });
    }
    const host = (request.headers.get("host") ?? url.hostname).replace(
      /:\d+$/,
      "",
    );
    const port = httpsPort();
    const target = `https://${host}${
      port === 443 ? "" : `:${port}`
    }${url.pathname}${url.search}`;
    return new Response(null, { status: 301, headers: { location: target } });
  });
}
