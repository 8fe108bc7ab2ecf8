/**
 * The pages' static assets, embedded in the program: the stylesheet and the
 * bundled browser scripts (text imports of templates/static/*.js, which
 * tools/bundle_client.ts builds from templates/client/). The hub serves them
 * at `{base_url}hub/static/<name>`; pages link them with a `?v=` version so a
 * browser may cache them for good.
 *
 * @module
 */
import adminJs from "./static/admin.js" with { type: "text" };
import homeJs from "./static/home.js" with { type: "text" };
import tokenJs from "./static/token.js" with { type: "text" };
import spawnPendingJs from "./static/spawn_pending.js" with { type: "text" };
import { STYLES } from "./styles.ts";
import { VERSIONS } from "./static/versions.ts";

/** One embedded file. */
export interface StaticAsset {
  body: string;
  contentType: string;
  /** Changes whenever the body does (SHA-256 prefix, from templates/static/versions.ts). */
  version: string;
}

function asset(name: string, body: string, contentType: string): StaticAsset {
  const version = VERSIONS[name];
  if (!version) throw new Error(`no version for ${name}: run deno task bundle`);
  return { body, contentType, version };
}

const JS = "text/javascript; charset=utf-8";

/** Every asset by file name. */
export const STATIC_ASSETS: Readonly<Record<string, StaticAsset>> = {
  "style.css": asset("style.css", STYLES, "text/css; charset=utf-8"),
  "admin.js": asset("admin.js", adminJs, JS),
  "home.js": asset("home.js", homeJs, JS),
  "token.js": asset("token.js", tokenJs, JS),
  "spawn_pending.js": asset("spawn_pending.js", spawnPendingJs, JS),
};

/** The versioned URL of an asset: `{base_url}hub/static/admin.js?v=…`. */
export function staticUrl(
  baseUrl: string,
  name: keyof typeof STATIC_ASSETS,
): string {
  const found = STATIC_ASSETS[name];
  if (!found) throw new Error(`no static asset ${name}`);
  return `${baseUrl}hub/static/${name}?v=${found.version}`;
}
