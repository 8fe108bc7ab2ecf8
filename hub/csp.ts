/**
 * The hub's Content-Security-Policy headers, in one place. Pages load
 * scripts and styles only from the hub itself (templates/static.ts): no
 * inline script or style anywhere, so no `'unsafe-inline'`.
 *
 * @module
 */

/** API answers: nothing may load or frame them. */
export const API_CSP = "frame-ancestors 'none'; default-src 'none'";

const PAGE_BASE = "default-src 'self'; script-src 'self'; style-src 'self'; " +
  "img-src 'self' data:; frame-ancestors 'none'; base-uri 'self'";

/** Hub pages: forms post to the hub only. */
export const PAGE_CSP = `${PAGE_BASE}; form-action 'self'`;

/**
 * {@linkcode PAGE_CSP} for a hub with `subdomain_host`: a form's answer
 * (login, spawn options) may redirect on to a user's host, and Chromium
 * applies form-action to the redirects after a form, so the users' hosts
 * (`http://*.hub.example.org:8000`) are allowed as well.
 */
export function pageCsp(subdomainHost: string): string {
  if (!subdomainHost) return PAGE_CSP;
  const hub = new URL(subdomainHost);
  return `${PAGE_CSP} ${hub.protocol}//*.${hub.host}`;
}

/**
 * The OAuth consent page: its form's answer redirects to the client's
 * redirect URI, which `form-action 'self'` would block in browsers that
 * apply form-action to redirects (Chromium does).
 */
export const CONSENT_CSP = PAGE_BASE;
