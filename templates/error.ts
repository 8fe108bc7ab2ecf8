/**
 * Error pages that say what happened and what to do next.
 *
 * @module
 */
import { html, type HtmlEscapedString, layout } from "./layout.ts";

/** What an error page shows. */
export interface ErrorView {
  baseUrl: string;
  user: string | null;
  status: number;
  message: string;
}

const ADVICE: Record<number, string> = {
  403:
    "You are not allowed to see this page. Log in as another user or ask your hub's admin.",
  404:
    "There is nothing here. Check the address, or go back to your home page.",
};

/** Renders an error page. */
export function errorPage(
  view: ErrorView,
): HtmlEscapedString | Promise<HtmlEscapedString> {
  const advice = ADVICE[view.status] ??
    (view.status >= 500
      ? "Something went wrong on the hub. Try again in a moment; if it keeps happening, tell your admin."
      : "");
  return layout({
    title: `Error ${view.status}`,
    baseUrl: view.baseUrl,
    user: view.user,
    body: html`<div class="card">
  <h1>${view.status}: ${view.message}</h1>
  <p>${advice}</p>
  <p><a class="button" href="${view.baseUrl}hub/home">Go to your home page</a></p>
</div>`,
  });
}
