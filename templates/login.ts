/**
 * The login page: a username/password form with the XSRF token, the `next`
 * target kept, and an error message after a failed attempt.
 *
 * @module
 */
import { html, type HtmlEscapedString, layout } from "./layout.ts";

/** What the login page shows. */
export interface LoginView {
  baseUrl: string;
  xsrf: string;
  next: string;
  username: string;
  error: string | null;
  /** e.g. "Log in with your Linux account". */
  hint: string;
  /** The announcement banner ("" for none). @default {""} */
  banner?: string;
  /** "Sign in with …": the button's text and where it goes (absent: no provider). */
  oauth?: { text: string; url: string };
  /** Show the username/password form. @default {true} */
  passwordForm?: boolean;
}

/** Renders the login page. */
export function loginPage(
  view: LoginView,
): HtmlEscapedString | Promise<HtmlEscapedString> {
  const action = `${view.baseUrl}hub/login${
    view.next ? `?next=${encodeURIComponent(view.next)}` : ""
  }`;
  return layout({
    banner: view.banner ?? "",
    title: "Log in",
    baseUrl: view.baseUrl,
    user: null,
    body: html`<div class="card narrow">
  <h1>Log in</h1>
  <p class="muted">${view.hint}</p>
  ${
      view.error
        ? html`<p class="error" role="alert" id="login-error">${view.error}</p>`
        : ""
    }
  ${
      view.oauth
        ? html`<p><a class="button" id="oauth-login" href="${view.oauth.url}">${view.oauth.text}</a></p>`
        : ""
    }
  ${
      view.passwordForm === false ? "" : html`
        <form method="post" action="${action}">
          <input type="hidden" name="_xsrf" value="${view.xsrf}">
          <label for="username">Username</label>
          <input id="username" name="username" type="text" autocomplete="username"
            autocapitalize="off" spellcheck="false"
            required autofocus value="${view.username}">
          <label for="password">Password</label>
          <input id="password" name="password" type="password"
            autocomplete="current-password" required>
          <button type="submit" id="login_submit">Log in</button>
        </form>
      `
    }
</div>`,
  });
}
