/**
 * The home page: start, stop and open my server; with named servers
 * enabled, a list of them with add and remove. The buttons call the REST
 * API with the session's XSRF token; the status refreshes by polling.
 *
 * @module
 */
import { html, raw } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import { layout } from "./layout.ts";
import { CLIENT_HELPERS, dataScript } from "./page_script.ts";

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
}

/** The home page's script (after {@linkcode CLIENT_HELPERS}). */
export const HOME_SCRIPT = `
const me = "users/" + enc(D.user);
const statusText = (s) => !s ? "stopped" : s.ready ? "running" : s.pending === "spawn" ? "starting" : s.pending === "stop" ? "stopping" : "stopped";
let timer = null;
async function refresh() {
  const model = await api("GET", me + "?include_stopped_servers=1");
  const servers = model.servers || {};
  const main = servers[""];
  const status = statusText(main);
  document.getElementById("server-status").textContent = status;
  document.getElementById("start").disabled = status !== "stopped";
  document.getElementById("stop").disabled = status === "stopped" || status === "stopping";
  const open = document.getElementById("open");
  open.hidden = status !== "running";
  open.href = main ? main.url : "#";
  const busy = Object.values(servers).some((s) => s.pending);
  if (D.namedServers) renderNamed(servers);
  clearTimeout(timer);
  timer = setTimeout(() => guarded(refresh), busy ? 1000 : 5000);
}
function renderNamed(servers) {
  const body = document.getElementById("named-body");
  const names = Object.keys(servers).filter((n) => n !== "").sort();
  const focused = document.activeElement && document.activeElement.dataset.key;
  body.replaceChildren(...names.map((name) => {
    const s = servers[name];
    const status = statusText(s);
    return h("tr", {}, [
      h("td", { text: name }),
      h("td", { text: status, class: "status-" + status }),
      h("td", {}, [h("div", { class: "actions" }, [
        status === "running" ? h("a", { class: "button small", href: s.url, text: "Open", dataset: { key: "open|" + name } }) : null,
        status === "stopped" ? h("button", { type: "button", class: "small", text: "Start", "aria-label": "Start " + name, dataset: { key: "start|" + name }, onclick: () => guarded(async () => { await api("POST", me + "/servers/" + enc(name)); say("Starting " + name); await refresh(); }) }) : null,
        status === "running" || status === "starting" ? h("button", { type: "button", class: "small secondary", text: "Stop", "aria-label": "Stop " + name, dataset: { key: "stop|" + name }, onclick: () => guarded(async () => { await api("DELETE", me + "/servers/" + enc(name)); say("Stopping " + name); await refresh(); }) }) : null,
        h("button", { type: "button", class: "small danger", text: "Remove", "aria-label": "Remove " + name, dataset: { key: "remove|" + name }, onclick: () => guarded(async () => {
          if (!confirm("Remove the server " + name + "? Its settings are forgotten.")) return;
          await api("DELETE", me + "/servers/" + enc(name), { remove: true });
          say("Removed " + name); await refresh();
        }) }),
      ])]),
    ]);
  }));
  document.getElementById("named-empty").hidden = names.length > 0;
  if (focused) { const el = body.querySelector('[data-key="' + CSS.escape(focused) + '"]'); if (el) el.focus(); }
}
document.getElementById("start").addEventListener("click", () => guarded(async () => {
  await api("POST", me + "/server");
  say("Your server is starting");
  await refresh();
}));
document.getElementById("stop").addEventListener("click", () => guarded(async () => {
  await api("DELETE", me + "/server");
  say("Your server is stopping");
  await refresh();
}));
const addForm = document.getElementById("add-server");
if (addForm) addForm.addEventListener("submit", (e) => {
  e.preventDefault();
  guarded(async () => {
    const input = document.getElementById("server-name");
    const name = input.value.trim();
    if (!name) throw new Error("Enter a name for the new server");
    await api("POST", me + "/servers/" + enc(name));
    input.value = "";
    say("Starting " + name);
    await refresh();
  });
});
guarded(refresh);
`;

/** Renders the home page. */
export function homePage(
  view: HomeView,
): HtmlEscapedString | Promise<HtmlEscapedString> {
  const named = view.namedServers
    ? html`
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
        <div class="table-wrap">
          <table id="named-servers">
            <thead>
              <tr>
                <th scope="col">Server</th>
                <th scope="col">Status</th>
                <th
                  scope="col">Actions</th>
              </tr>
            </thead>
            <tbody id="named-body"></tbody>
          </table>
        </div>
        <p id="named-empty" class="muted">No named servers yet.</p>
      </section>
    `
    : "";
  return layout({
    title: "Home",
    baseUrl: view.baseUrl,
    user: view.user,
    admin: view.admin,
    body: html`<div id="alert" class="error" role="alert" hidden></div>
<p id="status" class="sr-status" role="status" aria-live="polite"></p>
<section class="card" aria-labelledby="home-title">
  <h1 id="home-title">Welcome, ${view.user}</h1>
  <p>Your server is <strong id="server-status">…</strong>.</p>
  <div class="button-row">
    <button type="button" id="start">Start my server</button>
    <button type="button" id="stop" class="secondary">Stop my server</button>
    <a id="open" class="button" href="#" hidden>Open my server</a>
  </div>
  ${
      view.admin
        ? html`<p><a href="${view.baseUrl}hub/admin">Go to the admin page</a></p>`
        : ""
    }
</section>
${named}
${
      dataScript({
        api: `${view.baseUrl}hub/api/`,
        hub: `${view.baseUrl}hub/`,
        xsrf: view.xsrf,
        user: view.user,
        namedServers: view.namedServers,
      })
    }
<script>(() => {${raw(CLIENT_HELPERS)}${raw(HOME_SCRIPT)}})();</script>`,
  });
}
