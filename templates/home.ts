/**
 * The home page (a first plain version: who you are, log out).
 *
 * @module
 */
import { html } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import { layout } from "./layout.ts";

/** What the home page shows. */
export interface HomeView {
  baseUrl: string;
  user: string;
  admin: boolean;
}

/** Renders the home page. */
export function homePage(
  view: HomeView,
): HtmlEscapedString | Promise<HtmlEscapedString> {
  return layout({
    title: "Home",
    baseUrl: view.baseUrl,
    user: view.user,
    body: html`<div class="card">
  <h1>Welcome, ${view.user}</h1>
  <p class="muted">You are logged in${view.admin ? " as an admin" : ""}.</p>
  <p><a class="button" href="${view.baseUrl}hub/logout">Log out</a></p>
</div>`,
  });
}
