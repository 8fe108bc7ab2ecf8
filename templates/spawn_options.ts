/**
 * The spawn options form (JupyterHub's `Spawner.options_form`): the admin's
 * own form fields, trusted HTML from the config file, inside a page with the
 * XSRF token and a Start button.
 *
 * @module
 */
import { html, type HtmlEscapedString, layout, raw } from "./layout.ts";

/** What the options page needs. */
export interface SpawnOptionsView {
  baseUrl: string;
  user: string;
  label: string;
  /** Where the form posts (the same /hub/spawn URL). */
  action: string;
  xsrf: string;
  /** The admin's form fields (HTML from config; not escaped on purpose). */
  formHtml: string;
  error: string | null;
  /** Server profiles the user may pick (a radio list). @default {[]} */
  profiles?: readonly ProfileChoice[];
}

/** One profile as the form shows it. */
export interface ProfileChoice {
  slug: string;
  displayName: string;
  description: string;
  /** Checked when the page opens. */
  checked: boolean;
}

function profileList(profiles: readonly ProfileChoice[]) {
  if (!profiles.length) return "";
  return html`<fieldset id="profiles" class="profiles">
    <legend>Server size</legend>
    ${
    profiles.map((p) =>
      html`<label class="profile"><input type="radio" name="profile" value="${p.slug}"
        ${
        p.checked ? "checked" : ""
      } required> <strong>${p.displayName}</strong>${
        p
            .description
          ? html`
            <span class="muted">${p.description}</span>
          `
          : ""
      }</label>`
    )
  }
  </fieldset>`;
}

/** Renders the options page. */
export function spawnOptionsPage(
  view: SpawnOptionsView,
): HtmlEscapedString | Promise<HtmlEscapedString> {
  return layout({
    title: "Server options",
    baseUrl: view.baseUrl,
    user: view.user,
    body: html`<div class="card">
  <h1>Start ${view.label}</h1>
  ${view.error ? html`<p class="error" role="alert">${view.error}</p>` : ""}
  <form method="post" action="${view.action}" id="spawn-form">
    <input type="hidden" name="_xsrf" value="${view.xsrf}">
    ${profileList(view.profiles ?? [])} ${raw(view.formHtml)}
    <button type="submit" id="spawn-submit">Start</button>
  </form>
</div>`,
  });
}
