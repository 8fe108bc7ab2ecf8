/**
 * The document shell every page shares: head, top bar, main.
 *
 * @module
 */
import { html } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import { staticUrl } from "./static.ts";

// The page toolkit every template uses, from one import: `html`, its result type, `layout`.
export { html, raw } from "hono/html";
export type { HtmlEscapedString };

/** What the shell needs. */
export interface LayoutView {
  title: string;
  baseUrl: string;
  /** Logged-in user, or null. */
  user: string | null;
  body: HtmlEscapedString | Promise<HtmlEscapedString>;
  /** Show the Admin link. @default {false} */
  admin?: boolean;
  /** Use the full width (tables). @default {false} */
  wide?: boolean;
  /** The announcement banner's text ("" or absent: none). */
  banner?: string;
}

/** Renders a whole page. */
export function layout(
  view: LayoutView,
): HtmlEscapedString | Promise<HtmlEscapedString> {
  const hub = `${view.baseUrl}hub/`;
  return html`
    <!DOCTYPE html>
    <html lang="en">
      <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>${view.title} · onehub</title>
        <link rel="stylesheet" href="${staticUrl(view.baseUrl, "style.css")}">
      </head>
      <body>
        <header class="top">
          <a class="brand" href="${hub}home">onehub</a>
          <nav>${view.user
            ? html`
              <span class="muted">${view
                .user}</span><a href="${hub}home">Home</a><a
                href="${hub}token">Token</a>${view.admin
                  ? html`<a href="${hub}admin">Admin</a>`
                  : ""}<a
                href="${hub}logout">Log out</a>
            `
            : ""}</nav>
        </header>
        <main class="${view.wide ? "wide" : ""}">${view.banner
          ? html`<p id="announcement" class="announcement" role="note">${view.banner}</p>`
          : ""}${view.body}</main>
      </body>
    </html>
  `;
}
