/**
 * The page that accepts a share code: who shares which server, and a
 * button that turns the code into a share (a form post with the session's
 * XSRF token).
 *
 * @module
 */
import { html, type HtmlEscapedString, layout } from "./layout.ts";

/** What the page shows. */
export interface AcceptShareView {
  baseUrl: string;
  user: string;
  xsrf: string;
  owner: string;
  serverUrl: string;
  code: string;
}

/** Renders the page. */
export function acceptSharePage(
  view: AcceptShareView,
): HtmlEscapedString | Promise<HtmlEscapedString> {
  return layout({
    title: "Accept a shared server",
    baseUrl: view.baseUrl,
    user: view.user,
    body: html`<div class="card narrow">
  <h1>${view.owner} shares a server with you</h1>
  <p>Accept to open <code>${view.serverUrl}</code> whenever it runs, until
    ${view.owner} stops sharing it.</p>
  <form method="post" action="${view.baseUrl}hub/accept-share">
    <input type="hidden" name="_xsrf" value="${view.xsrf}">
    <input type="hidden" name="code" value="${view.code}">
    <button type="submit" id="accept-share">Accept</button>
  </form>
</div>`,
  });
}
