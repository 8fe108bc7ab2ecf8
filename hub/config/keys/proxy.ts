/**
 * The hub's own listener (`hub.*`) and the proxy in front of it
 * (`proxy.*`: built in or external).
 *
 * @module
 */
import { invalid, type KeySpec } from "../schema.ts";

function checkProxyApiUrl(value: string): string | null {
  let url: URL | null = null;
  try {
    url = new URL(value);
  } catch { /* reported below */ }
  const ok = url && url.protocol === "http:" &&
    (url.pathname === "/" || url.pathname === "");
  return ok ? null : invalid("proxy.api_url", {
    value,
    expected: 'an http origin such as "http://127.0.0.1:8001"',
  });
}

/** The `hub.*` and `proxy.*` keys, in table order. */
export const PROXY_KEYS = [
  {
    key: "hub.ip",
    field: "hub.ip",
    kind: "string",
    default: "127.0.0.1",
    reload: "restart",
    doc:
      "Address of the hub's own listener (the proxy and single-user servers reach the hub there)",
  },
  {
    key: "hub.port",
    field: "hub.port",
    kind: "int",
    default: 8081,
    min: 0,
    max: 65535,
    reload: "restart",
    doc: "Port of the hub's own listener (0 picks a free one)",
  },
  {
    key: "hub.nice",
    field: "hub.nice",
    kind: "int",
    default: -5,
    min: -20,
    max: 19,
    reload: "restart",
    doc:
      "Niceness the hub gives itself when it runs as root (its threads and, leading its session, its autogroup), so pages and the API keep answering while a class's servers start; servers never inherit it",
  },
  {
    key: "proxy.mode",
    field: "proxy.mode",
    kind: "enum",
    default: "builtin",
    values: ["builtin", "external"],
    reload: "restart",
    doc:
      "builtin: the proxy runs inside onehub; external: a separate `onehub proxy` (or configurable-http-proxy) driven over its REST API",
  },
  {
    key: "proxy.api_url",
    field: "proxy.apiUrl",
    kind: "string",
    default: "http://127.0.0.1:8001",
    reload: "restart",
    doc: "REST API of the external proxy",
    check: checkProxyApiUrl,
    resolve: (v) => v.replace(/\/+$/, ""),
  },
  {
    key: "proxy.auth_token",
    field: "proxy.authToken",
    kind: "string",
    default: "",
    reload: "restart",
    doc:
      "Token for the external proxy's API (default: $CONFIGPROXY_AUTH_TOKEN)",
  },
  {
    key: "proxy.connect_timeout",
    field: "proxy.connectTimeoutSeconds",
    kind: "int",
    default: 10,
    min: 1,
    max: 300,
    reload: "restart",
    doc:
      "Seconds to wait for a server to accept a connection before answering 504",
  },
  {
    key: "proxy.trusted_proxies",
    field: "proxy.trustedProxies",
    kind: "list",
    default: [],
    reload: "restart",
    doc:
      "Addresses of proxies in front of onehub (e.g. nginx) whose X-Forwarded-* headers are kept",
  },
  {
    key: "proxy.activity_interval",
    field: "proxy.activityIntervalSeconds",
    kind: "int",
    default: 300,
    min: 5,
    max: 86400,
    reload: "restart",
    doc:
      "Seconds between pulls of the proxy's per-route activity into the database",
  },
] as const satisfies readonly KeySpec[];
