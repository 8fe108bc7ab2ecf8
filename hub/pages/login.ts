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
import { type HubConfig, oauthOn } from "../config/mod.ts";
import type { Db } from "../db/mod.ts";
import { createUsers, getUser, updateUser, type UserRow } from "../db/users.ts";
import { deleteTokensOfSession } from "../db/tokens.ts";
import { type Authenticator, BUSY_RETRY_AFTER_SECONDS } from "../auth/mod.ts";
import type { LoginThrottle } from "../auth/login_throttle.ts";
import {
  endAllSessions,
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
import { newSecret } from "../secrets.ts";
import type { Logger } from "../observe/log.ts";
import { truncate } from "../observe/log.ts";
import type { HubEnv } from "../middleware/identity.ts";
import { formOf, formXsrf } from "../middleware/form_xsrf.ts";
import type { EventLog } from "../observe/events.ts";
import type { ServerManager } from "../servers/manager.ts";
import type { Announcement } from "../announcement.ts";
import { getServer, serversByUser } from "../db/servers.ts";

/** Dependencies of the login pages. */
export interface LoginDeps {
  /** Checks the password. */
  authenticator: Authenticator;
  /** Counts failed logins; blocked clients get 429 before the authenticator. */
  throttle: LoginThrottle;
  /** Where logins and logouts are recorded. */
  events: EventLog;
  db: Db;
  config: HubConfig;
  logger: Logger;
  now: () => Date;
  /** Where a login without `next` goes. @default {"{base_url}hub/home"} */
  defaultNext?: string;
  /** Stops servers at logout when `session.shutdown_on_logout` is set. */
  servers?: ServerManager;
  /** The announcement banner shown above the form. */
  announcement?: Pick<Announcement, "text">;
}

/** True when the request arrived over HTTPS (directly, through a believed proxy, or as configured publicly). */
export function isSecure(c: Context<HubEnv>, config: HubConfig): boolean {
  return config.publicUrl.startsWith("https:") ||
    new URL(c.req.url).protocol === "https:" || c.get("client").https;
}

/** The login form's statuses. */
type LoginStatus = 200 | 400 | 403 | 429 | 503;

/** How the login page renders, shared by its handlers. */
interface LoginView {
  hubPath: string;
  afterLogin: string;
  nextOf(c: Context): string | null;
  render(
    c: Context,
    status: LoginStatus,
    view: { username: string; error: string | null },
  ): Response | Promise<Response>;
}

function loginView(deps: LoginDeps): LoginView {
  const { config } = deps;
  const hubPath = `${config.baseUrl}hub/`;
  const hint = config.auth.type === "oauth"
    ? "Sign in with your organisation's account."
    : config.auth.type === "pam"
    ? "Use the username and password of your account on this machine."
    : config.auth.dummy.password
    ? "Use any username and the hub's shared password."
    : "Trial mode: any username and password are accepted.";
  const nextOf = (c: Context) =>
    safeNextUrl(c.req.query("next"), {
      baseUrl: config.baseUrl,
      publicOrigin: config.publicUrl,
      subdomainHost: config.subdomainHost,
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
  return {
    hubPath,
    afterLogin: deps.defaultNext ?? `${hubPath}home`,
    nextOf,
    render(c, status, view) {
      c.header("Cache-Control", "no-store");
      const next = nextOf(c) ?? "";
      return c.html(
        loginPage({
          baseUrl: config.baseUrl,
          xsrf: formToken(c),
          next,
          hint,
          banner: deps.announcement?.text() ?? "",
          ...oauthButton(config, next),
          ...view,
        }),
        status,
      );
    },
  };
}

/** A refusal shown on the login form. */
interface Refusal {
  status: LoginStatus;
  error: string;
  retryAfter?: number;
}

/** Step 1: the throttle's verdict on this address and name; a 429 refusal, or null to go on. */
function throttleRefusal(
  deps: LoginDeps,
  login: { who: string; name: string },
): Refusal | null {
  const { who, name } = login;
  const verdict = deps.throttle.check(who, name);
  if (verdict.ok) return null;
  // Once a minute per address: a flood is one line a minute, with a count.
  deps.events.recordAtMostEvery("login.throttled", {
    key: `throttled ${who}`,
    windowMs: 60_000,
    fields: {
      user: truncate(name, 64),
      address: who,
      reason: `too many failures by ${verdict.by}`,
    },
  });
  const by = verdict.by === "address"
    ? "from your address"
    : "for this username";
  return {
    status: 429,
    retryAfter: verdict.retryAfterSeconds,
    error:
      `Too many failed logins ${by}. Please try again in ${verdict.retryAfterSeconds} seconds.`,
  };
}

/** Steps 1–2: the throttle's verdict, then the authenticator's; the login name or a refusal. */
async function checkPassword(
  c: Context<HubEnv>,
  deps: LoginDeps,
  name: string,
  password: string,
): Promise<{ name: string } | Refusal> {
  const address = c.get("client").address;
  const who = address ?? "unknown";
  const throttled = throttleRefusal(deps, { who, name });
  if (throttled) return throttled;
  const result = await deps.authenticator.authenticate({
    username: name,
    password,
    penalty: deps.throttle.penalty(who),
    ...(address ? { remoteHost: address } : {}),
  });
  if (result.ok) {
    deps.throttle.success(who, name);
    return { name: normalizeUsername(result.name) };
  }
  if (result.status === 429) {
    deps.events.recordAtMostEvery("login.throttled", {
      key: "busy",
      windowMs: 60_000,
      fields: {
        user: truncate(name, 64),
        address: who,
        reason: "authenticator busy",
      },
    });
    return {
      status: 429,
      retryAfter: BUSY_RETRY_AFTER_SECONDS,
      error: result.message,
    };
  }
  if (result.status === 403) deps.throttle.failure(who, name);
  deps.events.record("login.failed", {
    user: truncate(name, 64),
    address: who,
    reason: result.message,
  });
  return { status: result.status === 503 ? 503 : 403, error: result.message };
}

/** Step 3: the allow rules; the user's row (made on first login, admin per users.admin), or a refusal. */
async function admit(
  deps: LoginDeps,
  loginName: string,
): Promise<UserRow | Refusal> {
  const { config } = deps;
  const existing = await getUser(deps.db, loginName);
  const rules = effectiveAllowRules(config.auth.type, config.users);
  if (!isAllowed(loginName, { rules, existsInDb: existing !== undefined })) {
    deps.events.record("login.refused", {
      user: loginName,
      reason: "not allowed by users.allowed / users.blocked",
    });
    return {
      status: 403,
      error:
        `User ${loginName} is not allowed to use this hub. Ask the hub's admin to add you.`,
    };
  }
  const isAdmin = config.users.admin.includes(loginName);
  if (existing) {
    if (isAdmin && existing.admin !== 1) {
      await updateUser(deps.db, existing.id, { admin: true });
    }
    return existing;
  }
  const [made] = await createUsers(deps.db, [loginName], {
    admin: isAdmin,
    now: deps.now().toISOString(),
  });
  return made ?? (await getUser(deps.db, loginName))!;
}

/** The provider's button (and whether the password form shows) for the login page. */
function oauthButton(config: HubConfig, next: string) {
  if (!oauthOn(config)) return {};
  return {
    oauth: {
      text: config.auth.oauth.buttonText,
      url: `${config.baseUrl}hub/oauth_login${
        next ? `?next=${encodeURIComponent(next)}` : ""
      }`,
    },
    passwordForm: config.auth.type !== "oauth",
  };
}

/** Step 4: a session, its login cookie and the session id cookie servers see. */
export async function startLogin(
  c: Context<HubEnv>,
  deps: LoginDeps,
  login: {
    user: UserRow;
    /** `{base_url}hub/`: the login cookie's path. */
    hubPath: string;
  },
) {
  const { config } = deps;
  const { user, hubPath } = login;
  const { cookie, row } = await startSession(deps.db, {
    userId: user.id,
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
  deps.events.record("login.ok", {
    user: user.name,
    address: c.get("client").address ?? "unknown",
  });
}

/** `POST /login`: the form's fields, then the steps above; a refusal re-renders the form. */
async function loginRoute(
  c: Context<HubEnv>,
  deps: LoginDeps,
  view: LoginView,
): Promise<Response> {
  const form = formOf(c);
  const rawName = (form.get("username") ?? "").slice(0, 1024);
  const password = form.get("password") ?? "";
  const refuse = (r: Refusal) => {
    if (r.retryAfter !== undefined) {
      c.header("Retry-After", String(r.retryAfter));
    }
    return view.render(c, r.status, { username: rawName, error: r.error });
  };
  // People type stray spaces around their name; the form forgives that (the API does not).
  const name = normalizeUsername(rawName.trim());
  const problem = usernameProblem(name, deps.config.users.usernamePattern);
  if (problem || password === "") {
    return refuse({
      status: 400,
      error: problem
        ? `That username is not valid: ${problem}.`
        : "Enter your password.",
    });
  }
  const checked = await checkPassword(c, deps, name, password);
  if ("status" in checked) return refuse(checked);
  const user = await admit(deps, checked.name);
  if ("status" in user) return refuse(user);
  await startLogin(c, deps, { user, hubPath: view.hubPath });
  return c.redirect(
    view.nextOf(c) ??
      await landingAfterLogin(deps, { user, fallback: view.afterLogin }),
    302,
  );
}

/**
 * Where a login without `next` lands: the user's default server when it is
 * running (one redirect less than going through `/hub/spawn`, which would
 * send the browser there anyway), else `fallback`.
 */
export async function landingAfterLogin(
  deps: Pick<LoginDeps, "db" | "config" | "servers">,
  login: { user: UserRow; fallback: string },
): Promise<string> {
  const { user, fallback } = login;
  if (!deps.servers) return fallback;
  const own = await getServer(deps.db, user.id, "");
  return own?.status === "running" && own.url ? own.url : fallback;
}

/** With `session.shutdown_on_logout`: every server of the user is stopped. */
async function shutdownOnLogout(
  deps: LoginDeps,
  user: { id: number; name: string },
): Promise<void> {
  if (!deps.config.session.shutdownOnLogout || !deps.servers) return;
  const rows = (await serversByUser(deps.db, [user.id])).get(user.id) ?? [];
  for (const row of rows.filter((r) => r.status !== "stopped")) {
    await deps.servers.stop(user, row.name, {
      actor: user.name,
      reason: "logged out (session.shutdown_on_logout)",
    });
  }
}

/**
 * `GET /logout`: ends the session and the server tokens issued under it,
 * clears the cookies. `POST /logout` with `everywhere=1` (the home page's
 * button) ends every session of the user, on every browser.
 */
async function logoutRoute(
  c: Context<HubEnv>,
  deps: LoginDeps,
  view: LoginView,
): Promise<Response> {
  const cookie = getCookie(c, LOGIN_COOKIE);
  const identity = c.get("identity");
  const everywhere = c.req.method === "POST" &&
    formOf(c).get("everywhere") === "1";
  if (cookie) {
    const row = await endSession(deps.db, cookie, deps.now());
    // Tokens issued to servers under this browser session end with it.
    if (row) await deleteTokensOfSession(deps.db, row.session_id);
  }
  if (identity?.userId != null) {
    const user = { id: identity.userId, name: identity.name };
    if (everywhere) {
      const ended = await endAllSessions(deps.db, user.id);
      deps.events.record("sessions.revoked", {
        user: user.name,
        actor: user.name,
        reason: "logged out everywhere",
        ...ended,
      });
    } else deps.events.record("logout", { user: user.name });
    await shutdownOnLogout(deps, user);
  }
  deleteCookie(c, LOGIN_COOKIE, { path: view.hubPath });
  deleteCookie(c, SESSION_ID_COOKIE, { path: deps.config.baseUrl });
  deleteCookie(c, XSRF_COOKIE, { path: view.hubPath });
  // With a provider, its own sign-out page ends the provider's session too.
  return c.redirect(
    deps.config.auth.oauth.logoutUrl || `${view.hubPath}login`,
    302,
  );
}

/** The login sub-app (paths relative to `{base_url}hub`). */
export function createLoginPages(deps: LoginDeps): Hono<HubEnv> {
  const app = new Hono<HubEnv>();
  const view = loginView(deps);
  app.get("/login", (c) => {
    if (c.get("identity")) {
      return c.redirect(view.nextOf(c) ?? view.afterLogin, 302);
    }
    if (deps.config.auth.oauth.autoLogin && oauthOn(deps.config)) {
      const next = view.nextOf(c);
      return c.redirect(
        `${view.hubPath}oauth_login${
          next ? `?next=${encodeURIComponent(next)}` : ""
        }`,
        302,
      );
    }
    return view.render(c, 200, { username: "", error: null });
  });
  const loginXsrf = formXsrf({
    token: "anonymous",
    onFail: (c) =>
      view.render(c, 403, {
        username: (c.get("form")?.get("username") ?? "").slice(0, 1024),
        error:
          "This login form has expired or came from another site. Please try again.",
      }),
  });
  app.post("/login", loginXsrf, (c) => loginRoute(c, deps, view));
  app.get("/logout", (c) => logoutRoute(c, deps, view));
  app.post(
    "/logout",
    formXsrf({ token: "session" }),
    (c) => logoutRoute(c, deps, view),
  );
  return app;
}
