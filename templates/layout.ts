/**
 * The document shell every page shares (head, top bar, main) and the
 * pieces pages repeat: the card of a form page ({@linkcode formCard}), the
 * shell of a script-driven page ({@linkcode scriptPage}) and a table its
 * script fills ({@linkcode dataTable}).
 *
 * @module
 */
import { html } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import { dataScript } from "./page_script.ts";
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

/** A rendered page or piece of one. */
export type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

/** What a template puts in a slot: markup, text (escaped), or nothing (`""`). */
export type Fragment = Html | string;

/** Who a page is for. */
export interface PageOwner {
  baseUrl: string;
  user: string;
}

/** The form of a {@linkcode formCard}: a POST carrying the XSRF token. */
export interface CardForm {
  action: string;
  xsrf: string;
  /** The form's id. */
  id?: string;
  /** More hidden fields, after `_xsrf`, as `[name, value]`. @default {[]} */
  hidden?: readonly (readonly [string, string])[];
  /** What the user fills in. */
  fields?: Fragment;
  /** The submit button. */
  submit: { id: string; label: string };
  /** After the button (a Cancel link). */
  after?: Fragment;
}

/** A form page: a card with a heading, its text and (usually) one form. */
export interface CardPage {
  /** The document title. */
  title: string;
  heading: Fragment;
  /** Between the heading and the form. */
  intro?: Fragment;
  form?: CardForm;
  /** A narrower card. @default {false} */
  narrow?: boolean;
  /** After the card (the page's script). */
  after?: Fragment;
}

/** Renders a form page: the shell around one card, every form page's markup in one place. */
export function formCard(owner: PageOwner, page: CardPage): Html {
  return layout({
    title: page.title,
    baseUrl: owner.baseUrl,
    user: owner.user,
    body: html`<div class="${page.narrow ? "card narrow" : "card"}">
  <h1>${page.heading}</h1>
  ${page.intro ?? ""} ${page.form ? cardForm(page.form) : ""}
</div>${page.after ?? ""}`,
  });
}

function cardForm(form: CardForm): Html {
  return html`
    <form method="post" action="${form.action}" ${form.id
      ? html`
        id="${form.id}"
      `
      : ""}>
        <input type="hidden" name="_xsrf" value="${form.xsrf}">
        ${(form.hidden ?? []).map(([name, value]) =>
          html`<input type="hidden" name="${name}" value="${value}">`
        )} ${form.fields ?? ""}
        <button type="submit" id="${form.submit.id}">${form.submit
          .label}</button>
        ${form.after ?? ""}
      </form>
  `;
}

/** A page its script (one of templates/client/*.ts, bundled) drives through the REST API. */
export interface ScriptPage extends PageOwner {
  title: string;
  xsrf: string;
  /** The static script's file name, e.g. `"home.js"`. */
  script: string;
  /** The page's sections. */
  body: Fragment;
  /** Data for the script beside `api`, `hub`, `xsrf` and `user`. @default {{}} */
  data?: Record<string, unknown>;
  /** Show the Admin link. @default {false} */
  admin?: boolean;
  /** Use the full width. @default {false} */
  wide?: boolean;
  /** The announcement banner. @default {""} */
  banner?: string;
}

/** Renders a script-driven page: alert and status lines, its sections, its data and its script. */
export function scriptPage(page: ScriptPage): Html {
  const hub = `${page.baseUrl}hub/`;
  return layout({
    banner: page.banner ?? "",
    title: page.title,
    baseUrl: page.baseUrl,
    user: page.user,
    admin: page.admin ?? false,
    wide: page.wide ?? false,
    body: html`
      <div id="alert" class="error" role="alert" hidden></div>
      <p id="status" class="sr-status" role="status" aria-live="polite"></p>
      ${page.body} ${dataScript({
        api: `${hub}api/`,
        hub,
        xsrf: page.xsrf,
        user: page.user,
        ...page.data,
      })}
      <script type="module" src="${staticUrl(
        page.baseUrl,
        page.script,
      )}"></script>
    `,
  });
}

/** A table its page's script fills: the header row, an empty (or given) body. */
export function dataTable(table: {
  id: string;
  /** The header cells (text or markup). */
  columns: readonly Fragment[];
  /** The body's id, for the script. */
  bodyId?: string;
  /** Rows rendered on the server. */
  rows?: Fragment | readonly Html[];
}): Html {
  return html`<div class="table-wrap">
  <table id="${table.id}">
    <thead>
      <tr>${
    table.columns.map((column) => html`<th scope="col">${column}</th>`)
  }</tr>
    </thead>
    <tbody${
    table.bodyId
      ? html`
        id="${table.bodyId}"
      `
      : ""
  }>${table.rows ?? ""}</tbody>
  </table>
</div>`;
}
