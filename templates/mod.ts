/**
 * Page templates: pure functions from view data to HTML, built with hono's
 * `html` helper (interpolations are escaped). They never read config, db or
 * the request, and import only hono and each other.
 *
 * Tests: tests/templates/.
 *
 * @module
 */
export { type Html, layout, type LayoutView } from "./layout.ts";
export { loginPage, type LoginView } from "./login.ts";
export { errorPage, type ErrorView } from "./error.ts";
export { homePage, type HomeView } from "./home.ts";
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
export { tokenPage, type TokenView } from "./token.ts";
export {
  adminPage,
  type AdminView,
  type CullerView,
  type ServiceStatus,
} from "./admin.ts";
export { dataScript } from "./page_script.ts";
export { STATIC_ASSETS, type StaticAsset, staticUrl } from "./static.ts";
export { LOGO_SVG } from "./logo.ts";
export {
  type ProfileChoice,
  spawnOptionsPage,
  type SpawnOptionsView,
} from "./spawn_options.ts";
export { acceptSharePage, type AcceptShareView } from "./accept_share.ts";
