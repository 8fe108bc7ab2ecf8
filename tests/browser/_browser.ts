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
 *
 * @module
 */
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { startServe } from "../_helpers/serve_process.ts";
import { repoPath } from "../_helpers/paths.ts";

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
  const config = `${dir}/config.yaml`;
  await Deno.writeTextFile(
    config,
    [
      `data_dir: ${dir}`,
      "auth:",
      "  type: dummy",
      "  dummy:",
      `    password: ${PASSWORD}`,
      "users:",
      "  allow_all: true",
      "  admin: [teacher]",
      extraYaml,
    ].join("\n"),
  );
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
  options: { password?: string; next?: string } = {},
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
