/**
 * onehub's proxy, the replacement for configurable-http-proxy: the names
 * other packages use. The proxy itself is in server.ts, its REST API (CHP's)
 * in api.ts, the routing table in route_table.ts.
 *
 * Imports: Web/Deno APIs and its own files only (never hub/).
 *
 * @example Route /user/alice/ to a server and everything else to the hub
 * ```ts
 * import { createProxy } from "./mod.ts";
 *
 * const proxy = createProxy();
 * proxy.routes.set("/", { target: "http://127.0.0.1:8081" });
 * proxy.routes.set("/user/alice/", { target: "http://127.0.0.1:50001" });
 * ```
 *
 * @module
 */
export {
  createProxy,
  type ErrorPage,
  hostKey,
  hubProofFromToken,
  type ListenOptions,
  type Proxy,
  type ProxyListener,
  type ProxyLogger,
  type ProxyOptions,
  type Refusal,
  type RequestSummary,
  routingPath,
} from "./server.ts";
export { createProxyApi, type ProxyApiOptions } from "./api.ts";
export { normalizePrefix, type Route, RouteTable } from "./route_table.ts";
export { Activity } from "./activity.ts";
export { LINGER_DEFAULTS, type LingerLimits } from "./linger.ts";
export { PROOF_HEADER } from "./headers.ts";
export type { Fence } from "./fence.ts";
