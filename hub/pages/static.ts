/**
 * `GET {base_url}hub/static/<name>`: the embedded stylesheet and page
 * scripts (templates/static.ts). With the current `?v=` version the answer
 * may be cached for a year (the URL changes with the file); without it,
 * browsers revalidate. No auth: nothing in them is secret.
 *
 * @module
 */
import { Hono } from "hono";
import { STATIC_ASSETS } from "../../templates/mod.ts";
import type { HubEnv } from "../middleware/identity.ts";

/** The static sub-app (paths relative to `{base_url}hub`). */
export function createStaticPages(): Hono<HubEnv> {
  const app = new Hono<HubEnv>();
  app.get("/static/:name", (c) => {
    const name = c.req.param("name");
    const asset = Object.hasOwn(STATIC_ASSETS, name)
      ? STATIC_ASSETS[name]
      : undefined;
    if (!asset) return c.text(`No static file named ${name}`, 404);
    const etag = `"${asset.version}"`;
    c.header("ETag", etag);
    c.header(
      "Cache-Control",
      c.req.query("v") === asset.version
        ? "public, max-age=31536000, immutable"
        : "no-cache",
    );
    if (c.req.header("If-None-Match") === etag) return c.body(null, 304);
    c.header("Content-Type", asset.contentType);
    return c.body(asset.body);
  });
  return app;
}
