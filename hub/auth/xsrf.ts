/**
 * XSRF tokens for cookie-authenticated requests. A logged-in browser's token
 * is an HMAC of its session id under the cookie secret, so it is stable for
 * the session and useless anywhere else; anonymous forms (login) use a
 * double-submit `_xsrf` cookie.
 *
 * @module
 */
import { constantTimeEqual } from "../secrets.ts";

/** Cookie carrying the XSRF token (JupyterHub's name). */
export const XSRF_COOKIE = "_xsrf";

/** Imports the HMAC key once. */
export function importXsrfKey(secret: Uint8Array): Promise<CryptoKey> {
  return crypto.subtle.importKey(
    "raw",
    secret as Uint8Array<ArrayBuffer>,
    { name: "HMAC", hash: "SHA-256" },
    false,
    [
      "sign",
    ],
  );
}

/** The XSRF token bound to a login session id. */
export async function xsrfForSession(
  key: CryptoKey,
  sessionId: string,
): Promise<string> {
  const mac = await crypto.subtle.sign(
    "HMAC",
    key,
    new TextEncoder().encode(`xsrf|${sessionId}`),
  );
  return new Uint8Array(mac).toBase64({
    alphabet: "base64url",
    omitPadding: true,
  });
}

/** Constant-time string equality. */
export function sameToken(a: string, b: string): boolean {
  return constantTimeEqual(a, b);
}

/**
 * JupyterHub 4.1+/5.x: which cookie-authenticated requests need no XSRF
 * token (JupyterHub's REST API reference): HEAD/OPTIONS; WebSocket handshakes; navigations
 * (or no Sec-Fetch-Mode) that are GET; same-origin no-cors GETs.
 */
export function isXsrfExempt(method: string, headers: Headers): boolean {
  if (method === "HEAD" || method === "OPTIONS") return true;
  const mode = headers.get("sec-fetch-mode");
  if (mode === "websocket") return true;
  if ((mode === null || mode === "navigate") && method === "GET") return true;
  return mode === "no-cors" &&
    headers.get("sec-fetch-site") === "same-origin" && method === "GET";
}
