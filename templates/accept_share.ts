/**
 * The page that accepts a share code: who shares which server, and a
 * button that turns the code into a share (a form post with the session's
 * XSRF token).
 *
 * @module
 */
import { formCard, type Html, html } from "./layout.ts";

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
export function acceptSharePage(view: AcceptShareView): Html {
  return formCard(view, {
    title: "Accept a shared server",
    heading: html`${view.owner} shares a server with you`,
    intro:
      html`<p>Accept to open <code>${view.serverUrl}</code> whenever it runs,
    until ${view.owner} stops sharing it.</p>`,
    narrow: true,
    form: {
      action: `${view.baseUrl}hub/accept-share`,
      xsrf: view.xsrf,
      hidden: [["code", view.code]],
      submit: { id: "accept-share", label: "Accept" },
    },
  });
}
