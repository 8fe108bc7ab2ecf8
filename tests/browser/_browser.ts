/**
 * Fixtures for the browser tests:
 * - `CHROMIUM` / `chromiumMissing`: Debian's `/usr/bin/chromium` (never a
 *   downloaded browser); when it is missing the tests skip and say why
 *   (CI installs it: `apt-get install -y chromium`).
 * - `startBrowser()`: a headless Chromium with a fresh user-data-dir;
 *   `await using` closes it and removes the directory.
 * - `startClassHub()`: the real hub (`main.ts serve`) with dummy auth,
 *   password `classroom`, admin `teacher`, in a temporary data_dir.
 * - `screenshot(page, name)`: saves `test-output/screenshots/<name>.png`.
 * - `login(page, base, name, password?)`: fills the login form.
 * - `browserTest(setup, fn)`: one Chromium test on a fresh class hub, the
 *   page already logged in when `setup.as` names a user.
 * - `skipWithoutJupyter(test)`: whether a test that needs Chromium, root and
 *   the real singleuser must skip here (prints why).
 * - `browserAs(hub, name)`: a second browser, logged in as `name`.
 * - `pageErrorsOf(page)`, `addUserInForm(page, name)`, `assertNoAlert(page)`:
 *   steps the admin and home page tests share.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { startServe, writeHubConfig } from "../_helpers/serve_process.ts";
import { repoPath } from "../_helpers/paths.ts";
import { skipWithoutSingleuser } from "../_helpers/system_users.ts";

/** Where Debian installs Chromium. */
export const CHROMIUM = "/usr/bin/chromium";

/** Why the browser tests cannot run here, or null when they can. */
export const chromiumMissing: string | null = (() => {
  try {
    Deno.statSync(CHROMIUM);
    return null;
  } catch {
    return `${CHROMIUM} is missing: install it with "apt-get install -y chromium"`;
  }
})();

if (chromiumMissing) {
  // deno-lint-ignore no-console
  console.warn(`Skipping browser tests: ${chromiumMissing}`);
}

/** The shared password of the test hub's dummy authenticator. */
export const PASSWORD = "classroom";

/** A launched browser context. */
export interface Browser extends AsyncDisposable {
  context: BrowserContext;
  page: Page;
}

/** Launches headless Chromium with a fresh profile. */
export async function startBrowser(): Promise<Browser> {
  const profile = await Deno.makeTempDir({ prefix: "onehub-chromium-" });
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    viewport: { width: 1280, height: 900 },
  });
  const page = context.pages()[0] ?? await context.newPage();
  page.setDefaultTimeout(15_000);
  return {
    context,
    page,
    async [Symbol.asyncDispose]() {
      await context.close();
      await Deno.remove(profile, { recursive: true }).catch(() => {});
    },
  };
}

/** A running hub for a class. */
export interface ClassHub extends AsyncDisposable {
  url: string;
  log(): string;
}

/** Starts the real hub with dummy auth and `teacher` as admin; `extraYaml` is appended to its config. */
export async function startClassHub(extraYaml = ""): Promise<ClassHub> {
  const dir = await Deno.makeTempDir({ prefix: "onehub-browser-" });
  const config = await writeHubConfig(dir, [
    "auth:",
    "  type: dummy",
    "  dummy:",
    `    password: ${PASSWORD}`,
    "users:",
    "  allow_all: true",
    "  admin: [teacher]",
    extraYaml,
  ]);
  const hub = await startServe(["--config", config]);
  return {
    url: hub.url,
    log: hub.log,
    async [Symbol.asyncDispose]() {
      await hub.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** Saves a full-page screenshot under test-output/screenshots/. */
export async function screenshot(page: Page, name: string): Promise<void> {
  const dir = repoPath("test-output/screenshots");
  await Deno.mkdir(dir, { recursive: true });
  await page.screenshot({ path: `${dir}/${name}.png`, fullPage: true });
}

/** Logs in through the form and waits for `next` (a hub path, default the home page). */
export async function login(
  page: Page,
  base: string,
  name: string,
  options: { password?: string; next?: string | undefined } = {},
): Promise<void> {
  const password = options.password ?? PASSWORD;
  const next = new URL(`hub/${options.next ?? "home"}`, base).pathname;
  await page.goto(`${base}hub/login?next=${encodeURIComponent(next)}`);
  await page.getByLabel("Username").fill(name);
  await page.getByLabel("Password").fill(password);
  await Promise.all([
    page.waitForURL((url) => !url.pathname.endsWith("/hub/login")),
    page.click("#login_submit"),
  ]);
}

/** Options shared by the browser tests. */
export const BROWSER_TEST = {
  ignore: chromiumMissing !== null,
  sanitizeOps: false,
  sanitizeResources: false,
} as const;

/**
 * Whether a test that needs Chromium, root and the real single-user server
 * must skip here; prints why when only root or the singleuser is missing.
 */
export function skipWithoutJupyter(test: string): boolean {
  return chromiumMissing !== null || skipWithoutSingleuser(test);
}

/** How {@linkcode browserTest} sets up the hub and the page. */
export interface BrowserTestSetup {
  /** The test's name. */
  name: string;
  /** YAML appended to the class hub's config (see {@linkcode startClassHub}). */
  config?: string;
  /** The user the page logs in as before the body runs; none: logged out. */
  as?: string;
  /** Where that login lands (a hub path, default `home`). */
  next?: string;
  /** Skip for another reason too (e.g. {@linkcode skipWithoutJupyter}). */
  ignore?: boolean;
}

/** What the body of a {@linkcode browserTest} gets. */
export interface BrowserTestContext {
  hub: ClassHub;
  browser: Browser;
  page: Page;
  /** The page's uncaught script errors since the browser started (login included). */
  pageErrors: string[];
}

/**
 * Registers one Chromium test on a fresh class hub: starts the hub and a
 * browser, logs the page in as `setup.as` (when given), runs `fn`, and
 * closes both afterwards.
 */
export function browserTest(
  setup: BrowserTestSetup,
  fn: (t: BrowserTestContext) => Promise<void>,
): void {
  Deno.test({
    name: setup.name,
    ...BROWSER_TEST,
    ignore: BROWSER_TEST.ignore || (setup.ignore ?? false),
    fn: async () => {
      await using hub = await startClassHub(setup.config);
      await using browser = await startBrowser();
      const { page } = browser;
      const pageErrors = pageErrorsOf(page);
      if (setup.as) await login(page, hub.url, setup.as, { next: setup.next });
      await fn({ hub, browser, page, pageErrors });
    },
  });
}

/** Collects the page's uncaught script errors from now on (check it is `[]` at the end). */
export function pageErrorsOf(page: Page): string[] {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  return errors;
}

/** A second browser, logged in, with its page's script errors collected from the start. */
export interface LoggedInBrowser extends Browser {
  pageErrors: string[];
}

/** Starts another browser and logs its page in as `name` (landing on `options.next`, default home). */
export async function browserAs(
  hub: ClassHub,
  name: string,
  options: { next?: string } = {},
): Promise<LoggedInBrowser> {
  const browser = await startBrowser();
  const pageErrors = pageErrorsOf(browser.page);
  await login(browser.page, hub.url, name, { next: options.next });
  return Object.assign(browser, { pageErrors });
}

/** Submits the admin page's "add user" form for `name` (waits for nothing). */
export async function addUserInForm(page: Page, name: string): Promise<void> {
  await page.getByLabel("User name", { exact: true }).fill(name);
  await page.click("#add-user button[type=submit]");
}

/** Asserts the page's alert region (`#alert`) is hidden: no error was shown. */
export async function assertNoAlert(page: Page): Promise<void> {
  assert.equal(await page.locator("#alert").isHidden(), true);
}
