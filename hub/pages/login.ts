/**
 * `/hub/login` (form, CSRF-checked POST, allow rules, session cookie) and
 * `/hub/logout`. Failed logins re-render the form with a 4xx and start no
 * session; `next` is honoured only when it stays on this hub.
 *
 * @module
 */
import { type Context, Hono } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { loginPage } from "../../templates/mod.ts";
import type { HubConfig } from "../config.ts";
import type { Db } from "../db/mod.ts";
import { createUsers, getUser, updateUser } from "../db/users.ts";
import { type Authenticator, BUSY_RETRY_AFTER_SECONDS } from "../auth/mod.ts";
import type { LoginThrottle } from "../auth/login_throttle.ts";
import {
  endSession,
  LOGIN_COOKIE,
  SESSION_ID_COOKIE,
  startSession,
} from "../auth/sessions.ts";
import { XSRF_COOKIE } from "../auth/xsrf.ts";
import {
  effectiveAllowRules,
  isAllowed,
  normalizeUsername,
  usernameProblem,
} from "../auth/usernames.ts";
import { safeNextUrl } from "../next_url.ts";
import { newSecret } from "../tokens.ts";
import type { Logger } from "../log.ts";
import { truncate } from "../log.ts";
import type { HubEnv } from "../middleware/identity.ts";
import { formOf, formXsrf } from "../middleware/form_xsrf.ts";

/** Dependencies of the login pages. */
export interface LoginDeps {
  db: Db;
  config: HubConfig;
  authenticator: Authenticator;
  logger: Logger;
  now: () => Date;
  /** Counts failed logins; blocked clients get 429 before the authenticator. */
  throttle: LoginThrottle;
  /** Where a login without `next` goes. @default {"{base_url}hub/home"} */
  defaultNext?: string;
}

/** True when the request arrived over HTTPS (directly or as configured publicly). */
export function isSecure(c: Context, config: HubConfig): boolean {
  if (
    config.publicUrl.startsWith("https:") ||
    new URL(c.req.url).protocol === "https:"
  ) return true;
  return peerIsLoopback(c) &&
    c.req.header("x-forwarded-proto")?.split(",").at(-1)?.trim() === "https";
}

function peerAddress(c: Context): string | undefined {
  // deno-lint-ignore no-explicit-any
  const info = (c.env as any)?.remoteAddr;
  return info && typeof info.hostname === "string" ? info.hostname : undefined;
}

/** The hub's own listener is reached through onehub's proxy on loopback: trust what it forwards. */
function peerIsLoopback(c: Context): boolean {
  const peer = peerAddress(c);
  return peer !== undefined && (peer === "::1" || peer.startsWith("127."));
}

/**
 * The client's address. Through onehub's proxy (a loopback peer), the
 * rightmost X-Forwarded-For entry that is not one of `proxy.trusted_proxies`
 * (the proxy appends the address it saw; a trusted proxy in front of it,
 * such as nginx, has appended the one it saw before that).
 */
export function clientAddress(
  c: Context,
  trustedProxies: readonly string[],
): string | undefined {
  if (peerIsLoopback(c)) {
    const hops = (c.req.header("x-forwarded-for") ?? "").split(",")
      .map((h) => h.trim()).filter(Boolean);
    while (hops.length > 1 && trustedProxies.includes(hops.at(-1)!)) {
      hops.pop();
    }
    if (hops.length) return hops.at(-1);
  }
  return peerAddress(c);
}

/** The login sub-app (paths relative to `{base_url}hub`). */
export function createLoginPages(deps: LoginDeps): Hono<HubEnv> {
  const app = new Hono<HubEnv>();
  const { config } = deps;
  const hubPath = `${config.baseUrl}hub/`;
  const home = `${hubPath}home`;
  const afterLogin = deps.defaultNext ?? home;
  const hint = config.auth.type === "pam"
    ? "Use the username and password of your account on this machine."
    : config.auth.dummy.password
    ? "Use any username and the hub's shared password."
    : "Trial mode: any username and password are accepted.";

  const nextOf = (c: Context) =>
    safeNextUrl(c.req.query("next"), {
      baseUrl: config.baseUrl,
      publicOrigin: config.publicUrl,
    });

  /** The anonymous double-submit XSRF token (cookie + hidden field). */
  const formToken = (c: Context): string => {
    const existing = getCookie(c, XSRF_COOKIE);
    if (existing && /^[A-Za-z0-9_-]{20,64}$/.test(existing)) return existing;
    const token = newSecret();
    setCookie(c, XSRF_COOKIE, token, {
      path: hubPath,
      httpOnly: true,
      sameSite: "Lax",
      secure: isSecure(c, config),
    });
    return token;
  };

  const render = (
    c: Context,
    status: 200 | 400 | 403 | 429 | 503,
    view: { username: string; error: string | null },
  ) => {
    c.header("Cache-Control", "no-store");
    return c.html(
      loginPage({
        baseUrl: config.baseUrl,
        xsrf: formToken(c),
        next: nextOf(c) ?? "",
        hint,
        ...view,
      }),
      status,
    );
  };

  app.get("/login", (c) => {
    if (c.get("identity")) return c.redirect(nextOf(c) ?? afterLogin, 302);
    return render(c, 200, { username: "", error: null });
  });

  const loginXsrf = formXsrf({
    token: "anonymous",
    onFail: (c) =>
      render(c, 403, {
        username: (c.get("form")?.get("username") ?? "").slice(0, 1024),
        error:
          "This login form has expired or came from another site. Please try again.",
      }),
  });

  app.post("/login", loginXsrf, async (c) => {
    const form = formOf(c);
    const rawName = (form.get("username") ?? "").slice(0, 1024);
    const password = form.get("password") ?? "";
    // People type stray spaces around their name; the form forgives that (the API does not).
    const name = normalizeUsername(rawName.trim());
    const problem = usernameProblem(name, config.users.usernamePattern);
    if (problem || password === "") {
      return render(c, 400, {
        username: rawName,
        error: problem
          ? `That username is not valid: ${problem}.`
          : "Enter your password.",
      });
    }
    const address = clientAddress(c, config.proxy.trustedProxies);
    const who = address ?? "unknown";
    const verdict = deps.throttle.check(who, name);
    if (!verdict.ok) {
      c.header("Retry-After", String(verdict.retryAfterSeconds));
      return render(c, 429, {
        username: rawName,
        error: `Too many failed logins ${
          verdict.by === "address" ? "from your address" : "for this username"
        }. Please try again in ${verdict.retryAfterSeconds} seconds.`,
      });
    }
    const result = await deps.authenticator.authenticate({
      username: name,
      password,
      penalty: deps.throttle.penalty(who),
      ...(address ? { remoteHost: address } : {}),
    });
    if (!result.ok) {
      if (result.status === 429) {
        c.header("Retry-After", String(BUSY_RETRY_AFTER_SECONDS));
        return render(c, 429, { username: rawName, error: result.message });
      }
      if (result.status === 403) deps.throttle.failure(who, name);
      deps.logger.warn("login failed", {
        user: truncate(name, 64),
        address: who,
        reason: result.message,
      });
      return render(c, result.status === 503 ? 503 : 403, {
        username: rawName,
        error: result.message,
      });
    }
    deps.throttle.success(who, name);
    const loginName = normalizeUsername(result.name);
    const existing = await getUser(deps.db, loginName);
    if (
      !isAllowed(
        loginName,
        effectiveAllowRules(config.auth.type, config.users),
        existing !== undefined,
      )
    ) {
      deps.logger.warn("login refused by allow rules", { user: loginName });
      return render(c, 403, {
        username: rawName,
        error:
          `User ${loginName} is not allowed to use this hub. Ask the hub's admin to add you.`,
      });
    }
    const isAdmin = config.users.admin.includes(loginName);
    let user = existing;
    if (!user) {
      [user] = await createUsers(deps.db, [loginName], {
        admin: isAdmin,
        now: deps.now().toISOString(),
      });
      user ??= await getUser(deps.db, loginName);
    } else if (isAdmin && user.admin !== 1) {
      await updateUser(deps.db, user.id, { admin: true });
    }
    const { cookie, row } = await startSession(deps.db, {
      userId: user!.id,
      now: deps.now(),
      maxAgeSeconds: config.session.maxAgeSeconds,
    });
    const secure = isSecure(c, config);
    setCookie(c, LOGIN_COOKIE, cookie, {
      path: hubPath,
      httpOnly: true,
      sameSite: "Lax",
      secure,
      maxAge: config.session.maxAgeSeconds,
    });
    setCookie(c, SESSION_ID_COOKIE, row.session_id, {
      path: config.baseUrl,
      httpOnly: true,
      sameSite: "Lax",
      secure,
    });
    deps.logger.info("login", { user: loginName });
    return c.redirect(nextOf(c) ?? afterLogin, 302);
  });

  app.get("/logout", async (c) => {
    const cookie = getCookie(c, LOGIN_COOKIE);
    if (cookie) {
      const row = await endSession(deps.db, cookie, deps.now());
      if (row) {
        // Tokens issued to servers under this browser session end with it.
        await deps.db.deleteFrom("api_tokens").where(
          "session_id",
          "=",
          row.session_id,
        ).execute();
      }
    }
    deleteCookie(c, LOGIN_COOKIE, { path: hubPath });
    deleteCookie(c, SESSION_ID_COOKIE, { path: config.baseUrl });
    deleteCookie(c, XSRF_COOKIE, { path: hubPath });
    return c.redirect(`${hubPath}login`, 302);
  });

  return app;
}
