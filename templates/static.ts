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

/** One embedded file. */
export interface StaticAsset {
  body: string;
  contentType: string;
  /** Changes whenever the body does (FNV-1a of the text, hex). */
  version: string;
}

function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, "0");
}

function asset(body: string, contentType: string): StaticAsset {
  return { body, contentType, version: fnv1a(body) };
}

const JS = "text/javascript; charset=utf-8";

/** Every asset by file name. */
export const STATIC_ASSETS: Readonly<Record<string, StaticAsset>> = {
  "style.css": asset(STYLES, "text/css; charset=utf-8"),
  "admin.js": asset(adminJs, JS),
  "home.js": asset(homeJs, JS),
  "token.js": asset(tokenJs, JS),
  "spawn_pending.js": asset(spawnPendingJs, JS),
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
