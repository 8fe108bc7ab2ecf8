/**
 * Page templates: pure functions from view data to HTML, built with hono's
 * `html` helper (interpolations are escaped). They never read config, db or
 * the request, and import only hono and each other.
 *
 * Tests: tests/templates/.
 *
 * @module
 */
export { layout, type LayoutView } from "./layout.ts";
export { loginPage, type LoginView } from "./login.ts";
export { errorPage, type ErrorView } from "./error.ts";
export { HOME_SCRIPT, homePage, type HomeView } from "./home.ts";
export {
  notRunningPage,
  type NotRunningView,
  spawnPendingPage,
  type SpawnPendingView,
} from "./spawn_pending.ts";
export { STYLES } from "./styles.ts";
export {
  authorizePage,
  type AuthorizeScopeLine,
  type AuthorizeView,
} from "./authorize.ts";
export { TOKEN_SCRIPT, tokenPage, type TokenView } from "./token.ts";
export { ADMIN_SCRIPT, adminPage, type AdminView } from "./admin.ts";
export { CLIENT_HELPERS, dataScript } from "./page_script.ts";
export { LOGO_SVG } from "./logo.ts";
export { spawnOptionsPage, type SpawnOptionsView } from "./spawn_options.ts";
