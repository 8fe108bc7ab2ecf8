/**
 * The token page: request an API token with a note, an expiry and
 * optional scopes; list my tokens; revoke one. All through the REST API
 * with the session's XSRF token.
 *
 * @module
 */
import { dataTable, type Html, html, raw, scriptPage } from "./layout.ts";

/** What the token page needs. */
export interface TokenView {
  baseUrl: string;
  user: string;
  admin: boolean;
  xsrf: string;
}

/** Expiry choices: label and seconds ("" = never). */
export const EXPIRY_CHOICES: readonly (readonly [string, string])[] = [
  ["1 hour", "3600"],
  ["1 day", "86400"],
  ["1 week", "604800"],
  ["30 days", "2592000"],
  ["Never", ""],
];

/** The form that asks for a new token, and the box that shows it once. */
function requestCard(view: TokenView): Html {
  return html`
    <section class="card" aria-labelledby="token-title">
      <h1 id="token-title">Request an API token</h1>
      <form id="token-form">
        <label for="token-note">Note (what the token is for)</label>
        <input type="text" id="token-note" name="note" maxlength="1000"
          autocomplete="off">
        <label for="token-expires">Expires in</label>
        <select id="token-expires" name="expires_in">${EXPIRY_CHOICES.map((
          [label, seconds],
        ) =>
          html`
            <option value="${seconds}" ${raw(
              seconds === "2592000" ? " selected" : "",
            )}>${label}</option>
          `
        )}</select>
        <label for="token-scopes">Scopes (optional, space separated)</label>
        <input type="text" id="token-scopes" name="scopes" autocomplete="off"
          placeholder="read:users!user=${view.user} access:servers"
          aria-describedby="token-scopes-hint">
        <p id="token-scopes-hint"
          class="muted">Leave empty for all of your permissions.</p>
        <button type="submit" id="token-submit">Request new token</button>
      </form>
      <div id="new-token-box" class="ok" hidden>
        <label
          for="new-token">Your new token (copy it now: it is not shown again)</label>
        <input type="text" id="new-token" readonly>
      </div>
    </section>
  `;
}

/** Renders the token page. */
export function tokenPage(view: TokenView): Html {
  return scriptPage({
    ...view,
    title: "Tokens",
    script: "token.js",
    body: html`
      ${requestCard(view)}
      <section class="card" aria-labelledby="tokens-title">
        <h2 id="tokens-title">Your tokens</h2>
        ${dataTable({
          id: "tokens",
          bodyId: "token-body",
          columns: [
            "Note",
            "Scopes",
            "Created",
            "Last used",
            "Expires",
            html`<span class="visually-hidden">Actions</span>`,
          ],
        })}
        <p id="token-empty" class="muted" hidden>You have no tokens.</p>
      </section>
    `,
  });
}
