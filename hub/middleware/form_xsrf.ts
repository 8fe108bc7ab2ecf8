/**
 * The one XSRF check of HTML form POSTs (login, spawn options, OAuth
 * consent): the form's `_xsrf` field must equal the expected token, and a
 * browser's `Origin`, when sent, must be this hub's. The expected token is
 * the login session's (an HMAC of the session id, set by the identity
 * middleware) or, on the login form, the anonymous double-submit `_xsrf`
 * cookie. The parsed form is left for the handler in `c.var.form`.
 *
 * Bodies are already bounded by body_limit.ts, which runs first.
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import { sameToken, XSRF_COOKIE } from "../auth/xsrf.ts";
import { HubError } from "../errors.ts";
import type { HubEnv } from "./identity.ts";

/** Options for {@linkcode formXsrf}. */
export interface FormXsrfOptions {
  /**
   * `"session"`: the login session's token (a request without a session is
   * handed on unchecked and without a form: the handler sends it to the
   * login page). `"anonymous"`: the `_xsrf` cookie (the login form).
   */
  token: "session" | "anonymous";
  /** How a failed check is answered. @default {throw HubError(403)} */
  onFail?: (
    c: Context<HubEnv>,
    message: string,
  ) => Response | Promise<Response>;
}

const FORM_TYPE =
  /^(application\/x-www-form-urlencoded|multipart\/form-data)\s*(;|$)/i;

/** The form the middleware read (text fields only). */
export function formOf(c: Context<HubEnv>): URLSearchParams {
  const form = c.get("form");
  if (!form) throw new Error("formXsrf() must run before this handler");
  return form;
}

/** Whether `origin` (a request's Origin header) names another site than `host`. */
function crossSite(origin: string | undefined, host: string): boolean {
  if (origin === undefined) return false;
  try {
    return new URL(origin).host !== host;
  } catch {
    return true; // "null" or garbage: not this hub's own page
  }
}

/** Reads the form and checks its `_xsrf` field (see the module doc). */
export function formXsrf(options: FormXsrfOptions): MiddlewareHandler<HubEnv> {
  const fail = options.onFail ?? ((_c, message) => {
    throw new HubError(403, message);
  });
  return async (c, next) => {
    const expected = options.token === "session"
      ? c.get("xsrf")
      : getCookie(c, XSRF_COOKIE) ?? "";
    if (options.token === "session" && !expected) return await next();
    if (!FORM_TYPE.test(c.req.header("content-type") ?? "")) {
      return await fail(
        c,
        "Send the form as application/x-www-form-urlencoded or multipart/form-data: submit it from its page",
      );
    }
    let data: FormData;
    try {
      data = await c.req.formData();
    } catch {
      throw new HubError(
        400,
        "The form could not be read: submit it from its page",
      );
    }
    const form = new URLSearchParams();
    for (const [key, value] of data.entries()) {
      if (typeof value === "string") form.append(key, value);
    }
    c.set("form", form);
    const host = c.req.header("host") ?? new URL(c.req.url).host;
    const given = form.get("_xsrf");
    if (!given) {
      return await fail(
        c,
        "'_xsrf' argument missing from POST: reload the page and try again",
      );
    }
    if (!expected || !sameToken(given, expected)) {
      return await fail(
        c,
        "XSRF cookie does not match POST argument: reload the page and try again",
      );
    }
    if (crossSite(c.req.header("origin"), host)) {
      return await fail(
        c,
        "This form was posted from another site: open it on this hub and try again",
      );
    }
    await next();
  };
}
