/**
 * The spawn options form (JupyterHub's `Spawner.options_form`): the admin's
 * own form fields, trusted HTML from the config file, inside a page with the
 * XSRF token and a Start button.
 *
 * @module
 */
import { formCard, type Html, html, raw } from "./layout.ts";

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
export function spawnOptionsPage(view: SpawnOptionsView): Html {
  return formCard(view, {
    title: "Server options",
    heading: html`Start ${view.label}`,
    intro: view.error
      ? html`<p class="error" role="alert">${view.error}</p>`
      : "",
    form: {
      action: view.action,
      id: "spawn-form",
      xsrf: view.xsrf,
      fields: html`${profileList(view.profiles ?? [])} ${raw(view.formHtml)}`,
      submit: { id: "spawn-submit", label: "Start" },
    },
  });
}
