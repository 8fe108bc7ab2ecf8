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
 * The OAuth consent page: its form's answer redirects to the client's
 * redirect URI, which `form-action 'self'` would block in browsers that
 * apply form-action to redirects (Chromium does).
 */
export const CONSENT_CSP = PAGE_BASE;
