/**
 * `safeNextUrl`: where a login may send the browser afterwards. Only paths
 * on this hub are accepted (JupyterHub's `get_next_url` rules): no scheme or
 * host unless it is the configured public origin or, with `subdomain_host`,
 * a user's host under it (reduced to its path, as JupyterHub does: the hub
 * sends it on to the right host), no `//` or `/\` (which
 * browsers treat as another host), no control characters, and the path must
 * stay under `base_url`. Pure.
 *
 * @module
 */

/**
 * The path to redirect to, or null when `candidate` would leave the hub.
 *
 * @param candidate The `next` argument as received.
 * @param options.baseUrl Always with leading and trailing `/`.
 * @param options.publicOrigin "" or e.g. "https://hub.example.org".
 * @param options.subdomainHost "" or the origin users' hosts hang under.
 */
export function safeNextUrl(
  candidate: string | null | undefined,
  options: { baseUrl: string; publicOrigin: string; subdomainHost?: string },
): string | null {
  if (!candidate || candidate.length > 2048) return null;
  // deno-lint-ignore no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(candidate)) return null;
  let path = candidate;
  if (/^[a-z][a-z0-9+.-]*:/i.test(candidate) || candidate.startsWith("//")) {
    if (!options.publicOrigin) return null;
    let url: URL;
    try {
      url = new URL(candidate);
    } catch {
      return null;
    }
    if (
      url.origin !== options.publicOrigin &&
      !underSubdomainHost(url, options.subdomainHost ?? "")
    ) return null;
    path = url.pathname + url.search + url.hash;
  }
  if (!path.startsWith("/") || path.startsWith("//")) return null;
  let decoded: string;
  try {
    decoded = decodeURIComponent(path.split(/[?#]/)[0]!);
  } catch {
    return null;
  }
  if (
    decoded.startsWith("//") || decoded.includes("\\") ||
    /(^|\/)\.\.(\/|$)/.test(decoded)
  ) return null;
  const base = options.baseUrl;
  if (!(path + "/").startsWith(base) && !path.startsWith(base)) return null;
  return path;
}

/** Whether `url` is on a user's host under `subdomainHost` (same scheme and port). */
function underSubdomainHost(url: URL, subdomainHost: string): boolean {
  if (!subdomainHost) return false;
  const hub = new URL(subdomainHost);
  return url.protocol === hub.protocol && !url.username && !url.password &&
    url.host.endsWith(`.${hub.host}`);
}
