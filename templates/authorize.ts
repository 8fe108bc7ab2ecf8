/**
 * The OAuth consent page ("… would like permission to …"): shown when a
 * user opens a server that is not their own (an admin visiting a user's
 * server). The form posts back to the authorize URL with the granted scopes
 * and the XSRF token.
 *
 * @module
 */
import { formCard, type Html, html } from "./layout.ts";

/** One permission line on the consent page. */
export interface AuthorizeScopeLine {
  /** The scope name, or null for "identify only". */
  scope: string | null;
  description: string;
  /** "" (everything), "only you", "user bob", … */
  filter: string;
}

/** What the consent page shows. */
export interface AuthorizeView {
  baseUrl: string;
  user: string;
  /** The client's description, e.g. "Server at /user/alice/". */
  clientDescription: string;
  /** Where the client's browser goes afterwards (its redirect URI). */
  redirectUri: string;
  /** Human-readable permissions. */
  lines: readonly AuthorizeScopeLine[];
  /** The raw scopes the form grants (hidden fields). */
  scopes: readonly string[];
  xsrf: string;
  /** The form's target: the authorize URL with its query. */
  action: string;
}

/** The permission lines of the consent form. */
function scopeList(view: AuthorizeView): Html {
  return html`
    <fieldset>
      <legend>It will be able to:</legend>
      <ul id="oauth-scopes">
          ${view.lines.map((line) =>
            html`<li>${line.description}${
              line.filter
                ? html`
                  <span class="muted">(${line.filter})</span>
                `
                : ""
            }</li>`
          )}
        </ul>
    </fieldset>
  `;
}

/** Renders the consent page. */
export function authorizePage(view: AuthorizeView): Html {
  return formCard(view, {
    title: "Authorize access",
    heading: "Authorize access",
    intro: html`
      <p><strong>${view
        .clientDescription}</strong> would like permission to identify you as
            <strong>${view.user}</strong>.</p>
      <p
        class="muted">After you authorize, your browser continues to <code>${view
          .redirectUri}</code>.</p>
    `,
    form: {
      action: view.action,
      xsrf: view.xsrf,
      hidden: view.scopes.map((scope) => ["scopes", scope] as const),
      fields: scopeList(view),
      submit: { id: "authorize", label: "Authorize" },
      after: html`<a class="muted" href="${view.baseUrl}hub/home">Cancel</a>`,
    },
  });
}
