/**
 * The public side of a hub with the built-in proxy: plain HTTP, or HTTPS
 * with files or a Let's Encrypt certificate (asked for, renewed twice a day
 * and swapped in without a restart), plus the plain port that redirects to
 * HTTPS and answers http-01 challenges.
 *
 * @module
 */
import type { Proxy, ProxyListener } from "../../proxy/mod.ts";
import type { HubConfig } from "../config/mod.ts";
import { ConfigError } from "../errors.ts";
import type { Logger } from "../observe/log.ts";
import {
  type AcmeChallenges,
  CHALLENGE_PREFIX,
  ensureCertificate,
} from "./acme/mod.ts";

/** The listeners a hub opened, and how to close them. */
export interface PublicListeners {
  /** e.g. "https://127.0.0.1:8443" */
  origin: string;
  close(): Promise<void>;
}

/** `scheme://host:port`, with brackets around an IPv6 host. */
export function urlOf(
  scheme: string,
  { hostname, port }: { hostname: string; port: number },
): string {
  return `${scheme}://${
    hostname.includes(":") ? `[${hostname}]` : hostname
  }:${port}`;
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
    const target = `https://${host}${
      httpsPort() === 443 ? "" : `:${httpsPort()}`
    }${url.pathname}${url.search}`;
    return new Response(null, { status: 301, headers: { location: target } });
  });
}

/** A TLS listener on `port`; a just-closed one's socket is released a moment later, so binding retries briefly. */
async function listenTls(
  proxy: Proxy,
  hostname: string,
  port: number,
  pem: { cert: string; key: string },
): Promise<ProxyListener> {
  for (let attempt = 0;; attempt++) {
    try {
      return proxy.listen({ hostname, port, ...pem });
    } catch (error) {
      if (!(error instanceof Deno.errors.AddrInUse) || attempt >= 100) {
        throw error;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/** What {@linkcode listenPublic} needs. */
export interface ListenPublicOptions {
  config: HubConfig;
  proxy: Proxy;
  logger: Logger;
  /** Present when Let's Encrypt is on. */
  challenges?: AcmeChallenges;
  /**
   * More names the Let's Encrypt certificate must cover, asked at every
   * check: the users' hosts with `subdomain_host` (a wildcard needs DNS-01,
   * which onehub does not do; http-01 proves each name). A new name gets a
   * new certificate at the next check.
   */
  moreDomains?: () => Promise<string[]>;
  /** @default {12 h; 1 h with moreDomains} */
  acmeRenewCheckMs?: number;
}

/** Let's Encrypt's limit of names on one certificate. */
export const MAX_CERT_NAMES = 100;

/** What {@linkcode certificateNames} adds to the configured names. */
export interface CertificateNamesOptions {
  /** More names (the users' hosts), in any order. */
  more: readonly string[];
  /** Told when there are more than {@linkcode MAX_CERT_NAMES}. */
  logger: Logger;
}

/** The configured names, then the others, without repeats, at most {@linkcode MAX_CERT_NAMES}. */
export function certificateNames(
  configured: readonly string[],
  options: CertificateNamesOptions,
): string[] {
  const more = [...options.more].sort();
  const names = [...new Set([...configured, ...more])];
  if (names.length > MAX_CERT_NAMES) {
    options.logger.error(
      "too many names for one Let's Encrypt certificate: the last ones get none; use a wildcard certificate (https.tls) for this many users",
      { names: names.length, limit: MAX_CERT_NAMES },
    );
  }
  return names.slice(0, MAX_CERT_NAMES);
}

/** Opens the proxy's public listeners as the config says. */
export async function listenPublic(
  options: ListenPublicOptions,
): Promise<PublicListeners> {
  const { config, proxy } = options;
  if (!config.https.enabled) {
    const plain = proxy.listen({
      hostname: config.http.ip,
      port: config.http.port,
    });
    return {
      origin: urlOf("http", plain),
      close: () => Promise.resolve(plain.close()),
    };
  }
  return await listenHttps(options);
}

/** The TLS listener of the moment (renewal replaces it) and the renewal timer. */
interface HttpsState {
  tls?: ProxyListener;
  renewTimer?: ReturnType<typeof setInterval>;
}

type Certificate = Awaited<ReturnType<typeof ensureCertificate>>;

async function listenHttps(
  options: ListenPublicOptions,
): Promise<PublicListeners> {
  const { config, proxy, challenges } = options;
  const state: HttpsState = {};
  // With Let's Encrypt the plain port answers http-01 challenges (and
  // redirects the rest), so it listens before the certificate is asked for.
  const redirect = config.https.redirectHttp || challenges
    ? serveRedirect(
      config.http.ip,
      config.http.port,
      () => state.tls?.port ?? config.https.port,
      challenges,
    )
    : null;
  const acme = letsEncryptCheck(options);
  const close = async () => {
    clearInterval(state.renewTimer);
    state.tls?.close();
    if (redirect) await redirect.shutdown();
  };
  let tls: ProxyListener;
  try {
    const pem = challenges ? await acme() : await filesCertificate(config);
    tls = state.tls = proxy.listen({
      hostname: config.http.ip,
      port: config.https.port,
      ...pem,
    });
  } catch (error) {
    await close();
    throw error;
  }
  if (challenges) state.renewTimer = renewEvery(options, { acme, state });
  return { origin: urlOf("https", tls), close };
}

/** The certificate and key from the files `https.tls` names. */
async function filesCertificate(
  config: HubConfig,
): Promise<{ cert: string; key: string }> {
  return {
    cert: await readPem(config.https.cert, "https.tls.cert"),
    key: await readPem(config.https.key, "https.tls.key"),
  };
}

/** One Let's Encrypt check: a certificate for today's names, renewed when due. */
function letsEncryptCheck(
  options: ListenPublicOptions,
): () => Promise<Certificate> {
  const { config, logger, challenges } = options;
  return async () =>
    ensureCertificate({
      domains: certificateNames(config.https.letsencrypt.domains, {
        more: await options.moreDomains?.() ?? [],
        logger,
      }),
      email: config.https.letsencrypt.email,
      directoryUrl: config.https.letsencrypt.directory,
      dir: `${config.dataDir}/certs`,
      challenges: challenges!,
      logger,
    });
}

/**
 * Twice a day (hourly with more domains): renew when fewer than 30 days
 * are left, then listen again with the new certificate (open connections
 * stay). One check at a time: an order slower than the interval must not
 * start a second, identical one.
 */
function renewEvery(
  options: ListenPublicOptions,
  run: { acme: () => Promise<Certificate>; state: HttpsState },
): ReturnType<typeof setInterval> {
  const { config, proxy, logger } = options;
  const { acme, state } = run;
  let checking = false;
  const timer = setInterval(() => {
    if (checking) return;
    checking = true;
    acme().then(async (fresh) => {
      if (!fresh.renewed) return;
      const port = state.tls!.port;
      state.tls!.close();
      state.tls = await listenTls(proxy, config.http.ip, port, fresh);
      logger.info("HTTPS now uses the renewed certificate");
    }).catch((error) =>
      logger.error("certificate renewal failed; will retry", {
        error: (error as Error).message,
      })
    ).finally(() => checking = false);
  }, options.acmeRenewCheckMs ?? (options.moreDomains ? 1 : 12) * 3600_000);
  Deno.unrefTimer(timer);
  return timer;
}
