/**
 * The home page: start, stop and open my server; with named servers
 * enabled, a list of them with add and remove. The buttons call the REST
 * API with the session's XSRF token; the status refreshes by polling.
 *
 * @module
 */
import {
  dataTable,
  type Fragment,
  type Html,
  html,
  scriptPage,
} from "./layout.ts";

/** What the home page shows. */
export interface HomeView {
  baseUrl: string;
  user: string;
  admin: boolean;
  /** The session's XSRF token (sent as `X-XSRFToken`). */
  xsrf: string;
  /** Whether named servers are enabled. */
  namedServers: boolean;
  /** How many named servers a user may have (0: no limit). @default {0} */
  namedServerLimit?: number;
  /** Whether the user may share their server (sharing.enabled). @default {false} */
  canShare?: boolean;
  /** Services to link (JupyterHub's services menu). @default {[]} */
  services?: readonly { name: string; url: string }[];
  /** The announcement banner ("" for none). @default {""} */
  banner?: string;
}

/** Links to the services that are shown (`display`) and have a url. */
function servicesCard(services: readonly { name: string; url: string }[]) {
  if (!services.length) return "";
  return html`
    <section class="card" aria-labelledby="services-title">
      <h2 id="services-title">Services</h2>
      <ul id="services">${services.map((s) =>
        html`<li><a href="${s.url}">${s.name}</a></li>`
      )}</ul>
    </section>
  `;
}

/** "Log out everywhere": a plain form post with the session's XSRF token. */
function sessionsCard(view: HomeView) {
  return html`
    <section class="card" aria-labelledby="sessions-title">
      <h2 id="sessions-title">Sessions</h2>
      <form method="post" action="${view.baseUrl}hub/logout" class="inline">
        <input type="hidden" name="_xsrf" value="${view.xsrf}">
        <input type="hidden" name="everywhere" value="1">
        <p class="muted">Signs you out in every browser and revokes the access
                those browsers gave your servers.</p>
        <button type="submit" id="logout-everywhere"
          class="secondary">Log out everywhere</button>
      </form>
    </section>
  `;
}

/** "Share my server": a user or group name, and the current shares (filled by the script). */
function shareCard(view: HomeView) {
  if (!view.canShare) return "";
  return html`
    <section class="card" aria-labelledby="share-title">
      <h2 id="share-title">Share my server</h2>
      <p class="muted">Whoever you share with can open your server (for
          example a teacher helping you) until you stop sharing.</p>
      <form id="share-form" class="inline">
        <label for="share-with">User or group</label>
        <input type="text" id="share-with" name="with" autocomplete="off"
          autocapitalize="none" required>
        <select id="share-kind" name="kind" aria-label="Share with a">
          <option value="user">user</option>
          <option value="group">group</option>
        </select>
        <button type="submit">Share</button>
      </form>
      <ul id="share-list" class="members"></ul>
      <p id="share-empty" class="muted">Not shared with anyone.</p>
    </section>
  `;
}

/** Named servers (when enabled): a form that adds one, and the list the script fills. */
function namedCard(view: HomeView): Fragment {
  if (!view.namedServers) return "";
  return html`
    <section class="card" aria-labelledby="named-title">
      <h2 id="named-title">Named servers</h2>
      <p class="muted">Extra servers, each with its own name${view
          .namedServerLimit
        ? ` (at most ${view.namedServerLimit})`
        : ""}.</p>
      <form id="add-server" class="inline">
        <label for="server-name">New server name</label>
        <input type="text" id="server-name" name="server_name" autocomplete="off"
          pattern="[^/]+" required>
        <button type="submit">Add and start</button>
      </form>
      ${dataTable({
        id: "named-servers",
        bodyId: "named-body",
        columns: ["Server", "Status", "Actions"],
      })}
      <p id="named-empty" class="muted">No named servers yet.</p>
    </section>
  `;
}

/** Renders the home page. */
export function homePage(view: HomeView): Html {
  return scriptPage({
    ...view,
    title: "Home",
    script: "home.js",
    data: {
      namedServers: view.namedServers,
      canShare: view.canShare ?? false,
    },
    body: html`
      <section class="card" aria-labelledby="home-title">
        <h1 id="home-title">Welcome, ${view.user}</h1>
        <p>Your server is <strong id="server-status">…</strong>.</p>
        <div class="button-row">
          <button type="button" id="start">Start my server</button>
          <button type="button" id="stop" class="secondary">Stop my server</button>
          <a id="open" class="button" href="#" hidden>Open my server</a>
        </div>
        ${view.admin
          ? html`<p><a href="${view.baseUrl}hub/admin">Go to the admin page</a></p>`
          : ""}
      </section>
      ${namedCard(view)} ${servicesCard(view.services ?? [])} ${shareCard(
        view,
      )}
      ${sessionsCard(view)}
    `,
  });
}
