/**
 * `onehub proxy`: the proxy alone, as its own process, with
 * configurable-http-proxy's REST API on a loopback port. A hub configured
 * with `proxy.mode: external` drives it; restarting that hub leaves every
 * open connection (kernels' WebSockets included) alone.
 *
 * @module
 */
import {
  createProxy,
  createProxyApi,
  hubProofFromToken,
  type Proxy,
} from "../../proxy/mod.ts";
import { ConfigError, UsageError } from "../errors.ts";
import { createLogger } from "../observe/log.ts";
import { type Command, parseCommandArgs } from "./_command.ts";

const HELP = `Usage: onehub proxy [options]

Runs onehub's proxy as a separate process with configurable-http-proxy's
REST API (GET/POST/DELETE /api/routes[/<prefix>], ?inactive_since=).
The API token comes from $CONFIGPROXY_AUTH_TOKEN (required).

Options:
  --ip ADDRESS             Public address (default 127.0.0.1)
  --port N                 Public port (default 8000; 0 picks a free one)
  --api-ip ADDRESS         API address (default 127.0.0.1; keep it on loopback)
  --api-port N             API port (default 8001; 0 picks a free one)
  --default-target URL     Route "/" to this origin (e.g. the hub, http://127.0.0.1:8081)
  --ssl-cert FILE          Serve HTTPS with this PEM certificate chain
  --ssl-key FILE           ... and this PEM key
  --connect-timeout S      Seconds before an unanswered connect becomes 504 (default 10)
  --trusted-proxies LIST   Comma-separated addresses whose X-Forwarded-* are kept
  --host-routing           Route by host and path (for the hub's subdomain_host)
  --log-level LEVEL        debug, info, warn or error
  -h, --help               Show this help`;

const OPTIONS = {
  help: { type: "boolean", short: "h" },
  ip: { type: "string" },
  port: { type: "string" },
  "api-ip": { type: "string" },
  "api-port": { type: "string" },
  "default-target": { type: "string" },
  "ssl-cert": { type: "string" },
  "ssl-key": { type: "string" },
  "connect-timeout": { type: "string" },
  "trusted-proxies": { type: "string" },
  "host-routing": { type: "boolean" },
  "log-level": { type: "string" },
} as const;

function port(
  value: string | undefined,
  flag: string,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) {
    throw new UsageError(
      `${flag} must be a port number from 0 to 65535, got "${value}"`,
    );
  }
  return Number(value);
}

type ProxyValues = ReturnType<
  typeof parseCommandArgs<typeof OPTIONS>
>["values"];

/** The flags, checked: log level, connect timeout, TLS pair, default target. */
function checkFlags(values: ProxyValues) {
  const level = values["log-level"] ?? "info";
  if (!["debug", "info", "warn", "error"].includes(level)) {
    throw new UsageError(
      `--log-level must be debug, info, warn or error, got "${level}"`,
    );
  }
  const timeout = values["connect-timeout"] ?? "10";
  if (!/^\d{1,3}$/.test(timeout) || Number(timeout) < 1) {
    throw new UsageError(
      `--connect-timeout must be a number of seconds from 1 to 999, got "${timeout}"`,
    );
  }
  if (
    (values["ssl-cert"] === undefined) !== (values["ssl-key"] === undefined)
  ) {
    throw new UsageError("--ssl-cert and --ssl-key go together");
  }
  let defaultTarget: string | undefined;
  if (values["default-target"] !== undefined) {
    try {
      const url = new URL(values["default-target"]);
      if (url.protocol !== "http:") throw new Error("not http");
      defaultTarget = url.origin;
    } catch {
      throw new UsageError(
        `--default-target must be an http origin such as http://127.0.0.1:8081`,
      );
    }
  }
  return {
    level: level as "info",
    connectTimeoutMs: Number(timeout) * 1000,
    defaultTarget,
  };
}

/** The REST API's listener; resolves once it listens. */
async function serveApi(values: ProxyValues, proxy: Proxy, token: string) {
  const listening = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve({
    hostname: values["api-ip"] ?? "127.0.0.1",
    port: port(values["api-port"], "--api-port", 8001),
    onListen: (addr) => listening.resolve(addr as Deno.NetAddr),
  }, createProxyApi({ proxy, token }));
  return { server, addr: await listening.promise };
}

async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, OPTIONS);
  if (positionals.length) {
    throw new UsageError(`Unexpected argument "${positionals[0]}"`);
  }
  const flags = checkFlags(values);
  const logger = createLogger({ level: flags.level });
  const token = Deno.env.get("CONFIGPROXY_AUTH_TOKEN") ?? "";
  if (!token) {
    throw new ConfigError(
      "Set CONFIGPROXY_AUTH_TOKEN to a random secret before starting the proxy (the hub needs the same value in proxy.auth_token)",
    );
  }
  const proxy = createProxy({
    // Shows the hub its X-Forwarded-* come from here (hub/middleware/client.ts).
    hubProof: await hubProofFromToken(token),
    connectTimeoutMs: flags.connectTimeoutMs,
    trustedProxies: (values["trusted-proxies"] ?? "").split(",").map((s) =>
      s.trim()
    )
      .filter((s) => s),
    hostRouting: values["host-routing"] ?? false,
    logger,
  });
  if (flags.defaultTarget) proxy.addRoute("/", flags.defaultTarget, {});
  const tls = values["ssl-cert"] !== undefined
    ? {
      cert: await Deno.readTextFile(values["ssl-cert"]),
      key: await Deno.readTextFile(values["ssl-key"]!),
    }
    : {};
  const listener = proxy.listen({
    hostname: values.ip ?? "127.0.0.1",
    port: port(values.port, "--port", 8000),
    ...tls,
  });
  const api = await serveApi(values, proxy, token);
  logger.info("onehub proxy listening", {
    url: `${
      tls.cert ? "https" : "http"
    }://${listener.hostname}:${listener.port}/`,
    api: `http://${api.addr.hostname}:${api.addr.port}/api/routes`,
  });
  const stopped = Promise.withResolvers<void>();
  Deno.addSignalListener("SIGINT", stopped.resolve);
  Deno.addSignalListener("SIGTERM", stopped.resolve);
  await stopped.promise;
  Deno.removeSignalListener("SIGINT", stopped.resolve);
  Deno.removeSignalListener("SIGTERM", stopped.resolve);
  proxy.close();
  await api.server.shutdown();
  logger.info("onehub proxy stopped");
  return 0;
}

/** The proxy command. */
export const proxyCommand: Command = {
  name: "proxy",
  summary: "Run the proxy alone, with a configurable-http-proxy API",
  help: HELP,
  run,
};
