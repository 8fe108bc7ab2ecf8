/**
 * The admin page for a class: users with server status, memory and last
 * activity; search, sort and pagination; add users one at a time or in
 * bulk; delete; make/unmake admin; start, stop and open servers, for one
 * user or many; stop all; groups and their members. Everything goes
 * through the REST API with cookie auth; the table refreshes every 5 s.
 *
 * @module
 */
import { html, raw } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import { layout } from "./layout.ts";
import { CLIENT_HELPERS, dataScript } from "./page_script.ts";

/** What the admin page needs. */
export interface AdminView {
  baseUrl: string;
  user: string;
  xsrf: string;
  /** Users per page. @default {50} */
  pageSize?: number;
  /** Polling interval in milliseconds. @default {5000} */
  pollMs?: number;
}

/** The admin page's script (after {@linkcode CLIENT_HELPERS}). */
export const ADMIN_SCRIPT = `
const S = { offset: 0, limit: D.pageSize, total: 0, users: [], memory: {}, selected: new Set() };
const $ = (id) => document.getElementById(id);
function serverStatus(s) {
  if (!s) return "stopped";
  return s.ready ? "running" : s.pending === "spawn" ? "starting" : s.pending === "stop" ? "stopping" : "stopped";
}
function mib(bytes) {
  if (typeof bytes !== "number") return "–";
  return bytes >= 1073741824 ? (bytes / 1073741824).toFixed(2) + " GiB" : Math.round(bytes / 1048576) + " MiB";
}
function query() {
  const p = new URLSearchParams({ include_stopped_servers: "1", offset: String(S.offset), limit: String(S.limit), sort: $("sort").value });
  const q = $("search").value.trim();
  if (q) p.set("name_filter", q);
  return "users?" + p.toString();
}
async function loadUsers() {
  const page = await api("GET", query(), undefined, { Accept: "application/jupyterhub-pagination+json" });
  S.users = page.items || [];
  S.total = page._pagination ? page._pagination.total : S.users.length;
  if (S.offset > 0 && S.users.length === 0 && S.total > 0) { S.offset = Math.max(0, S.total - S.limit); return loadUsers(); }
  try { S.memory = await api("GET", D.hub + "admin/api/memory"); } catch (e) { S.memory = {}; }
  renderUsers();
}
function action(text, label, key, fn, cls) {
  return h("button", { type: "button", class: "small " + (cls || ""), text, "aria-label": label, dataset: { key }, onclick: () => guarded(fn) });
}
function serverRow(u, name) {
  return name ? "users/" + enc(u.name) + "/servers/" + enc(name) : "users/" + enc(u.name) + "/server";
}
function renderUsers() {
  const body = $("user-body");
  const focused = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.key : null;
  body.replaceChildren(...S.users.map((u) => {
    const servers = u.servers || {};
    const main = servers[""];
    const status = serverStatus(main);
    const named = Object.keys(servers).filter((n) => n !== "" && servers[n].ready);
    const mem = S.memory[u.name + "/"];
    const extraMem = named.map((n) => S.memory[u.name + "/" + n]).filter((b) => typeof b === "number");
    const box = h("input", { type: "checkbox", "aria-label": "Select " + u.name, dataset: { key: "select|" + u.name }, onchange: (e) => { if (e.target.checked) S.selected.add(u.name); else S.selected.delete(u.name); updateSelection(); } });
    box.checked = S.selected.has(u.name);
    return h("tr", { dataset: { user: u.name } }, [
      h("td", {}, [box]),
      h("th", { scope: "row", text: u.name }),
      h("td", { text: u.admin ? "admin" : "" }),
      h("td", {}, [h("span", { class: "badge status-" + status, text: status, dataset: { role: "server-status" } }),
        named.length ? h("span", { class: "muted", text: " +" + named.length + " named" }) : null]),
      h("td", { text: typeof mem === "number" || extraMem.length ? mib((mem || 0) + extraMem.reduce((a, b) => a + b, 0)) : "–", dataset: { role: "memory" } }),
      h("td", { text: when(u.last_activity), title: u.last_activity || "" }),
      h("td", {}, [h("div", { class: "actions" }, [
        status === "stopped" ? action("Start", "Start server of " + u.name, "start|" + u.name, async () => { await api("POST", serverRow(u, "")); say("Starting " + u.name); await loadUsers(); }) : null,
        status === "running" || status === "starting" ? action("Stop", "Stop server of " + u.name, "stop|" + u.name, async () => { await api("DELETE", serverRow(u, "")); say("Stopping " + u.name); await loadUsers(); }, "secondary") : null,
        status === "running" ? h("a", { class: "button small", href: main.url, target: "_blank", rel: "noopener", text: "Open", "aria-label": "Open server of " + u.name, dataset: { key: "open|" + u.name } }) : null,
        action(u.admin ? "Unmake admin" : "Make admin", (u.admin ? "Unmake admin " : "Make admin ") + u.name, "admin|" + u.name, async () => { await api("PATCH", "users/" + enc(u.name), { admin: !u.admin }); say((u.admin ? "Removed admin from " : "Made admin: ") + u.name); await loadUsers(); }, "secondary"),
        action("Delete", "Delete user " + u.name, "delete|" + u.name, async () => {
          if (!confirm("Delete the user " + u.name + "? Their servers are stopped; their files stay on disk.")) return;
          await api("DELETE", "users/" + enc(u.name));
          S.selected.delete(u.name);
          say("Deleted " + u.name);
          await loadUsers();
        }, "danger"),
      ])]),
    ]);
  }));
  $("user-empty").hidden = S.users.length > 0;
  const first = S.total === 0 ? 0 : S.offset + 1;
  $("page-info").textContent = first + "–" + (S.offset + S.users.length) + " of " + S.total + " users";
  $("prev").disabled = S.offset === 0;
  $("next").disabled = S.offset + S.users.length >= S.total;
  $("select-all").checked = S.users.length > 0 && S.users.every((u) => S.selected.has(u.name));
  updateSelection();
  if (focused) { const el = body.querySelector('[data-key="' + CSS.escape(focused) + '"]'); if (el) el.focus(); }
}
function updateSelection() {
  $("selected-count").textContent = S.selected.size + " selected";
  $("start-selected").disabled = S.selected.size === 0;
  $("stop-selected").disabled = S.selected.size === 0;
}
async function eachSelected(verb, method) {
  const names = [...S.selected];
  const failures = [];
  await Promise.all(names.map(async (name) => {
    try { await api(method, "users/" + enc(name) + "/server"); }
    catch (e) { if (e.status !== 400) failures.push(name + ": " + e.message); }
  }));
  say(verb + " " + names.length + " servers");
  await loadUsers();
  if (failures.length) throw new Error(failures.join("; "));
}
async function allActive() {
  const found = [];
  let url = "users?state=active&limit=200&offset=0";
  for (let i = 0; i < 100 && url; i++) {
    const page = await api("GET", url, undefined, { Accept: "application/jupyterhub-pagination+json" });
    found.push(...(page.items || []));
    const next = page._pagination && page._pagination.next;
    url = next ? "users?state=active&limit=" + next.limit + "&offset=" + next.offset : null;
  }
  return found;
}
async function loadGroups() {
  const groups = await api("GET", "groups");
  const list = $("group-list");
  if (list.contains(document.activeElement) && document.activeElement.tagName === "INPUT" && document.activeElement.value) return;
  list.replaceChildren(...(groups || []).map((g) => {
    const input = h("input", { type: "text", id: "member-" + g.name, autocomplete: "off", "aria-label": "User to add to " + g.name });
    return h("li", { class: "group card", dataset: { group: g.name } }, [
      h("h3", { text: g.name }),
      h("ul", { class: "members" }, (g.users || []).map((m) => h("li", {}, [
        h("span", { text: m }),
        action("Remove", "Remove " + m + " from " + g.name, "rm|" + g.name + "|" + m, async () => { await api("DELETE", "groups/" + enc(g.name) + "/users", { users: [m] }); await loadGroups(); }, "secondary"),
      ]))),
      h("form", { class: "inline", onsubmit: (e) => { e.preventDefault(); guarded(async () => {
        const names = input.value.split(/[\\s,]+/).filter(Boolean);
        if (!names.length) throw new Error("Enter a user name to add to " + g.name);
        await api("POST", "groups/" + enc(g.name) + "/users", { users: names });
        input.value = ""; say("Added to " + g.name); await loadGroups();
      }); } }, [input, h("button", { type: "submit", class: "small", text: "Add member" })]),
      action("Delete group", "Delete group " + g.name, "delgroup|" + g.name, async () => {
        if (!confirm("Delete the group " + g.name + "?")) return;
        await api("DELETE", "groups/" + enc(g.name)); say("Deleted group " + g.name); await loadGroups();
      }, "danger"),
    ]);
  }));
  $("group-empty").hidden = (groups || []).length > 0;
}
async function addUsers(names, admin) {
  const made = await api("POST", "users", { usernames: names, admin });
  say("Added " + made.map((u) => u.name).join(", "));
  await loadUsers();
}
$("add-user").addEventListener("submit", (e) => { e.preventDefault(); guarded(async () => {
  const name = $("new-user").value.trim();
  if (!name) throw new Error("Enter a user name");
  await addUsers([name], $("new-user-admin").checked);
  $("new-user").value = "";
}); });
$("bulk-add").addEventListener("submit", (e) => { e.preventDefault(); guarded(async () => {
  const names = $("bulk-names").value.split("\\n").map((n) => n.trim()).filter(Boolean);
  if (!names.length) throw new Error("Paste at least one user name, one per line");
  await addUsers(names, $("bulk-admin").checked);
  $("bulk-names").value = "";
}); });
$("add-group").addEventListener("submit", (e) => { e.preventDefault(); guarded(async () => {
  const name = $("new-group").value.trim();
  if (!name) throw new Error("Enter a group name");
  await api("POST", "groups/" + enc(name));
  $("new-group").value = ""; say("Created group " + name); await loadGroups();
}); });
let searchTimer = null;
$("search").addEventListener("input", () => { clearTimeout(searchTimer); searchTimer = setTimeout(() => { S.offset = 0; guarded(loadUsers); }, 250); });
$("search-form").addEventListener("submit", (e) => { e.preventDefault(); S.offset = 0; guarded(loadUsers); });
$("sort").addEventListener("change", () => { S.offset = 0; guarded(loadUsers); });
$("prev").addEventListener("click", () => { S.offset = Math.max(0, S.offset - S.limit); guarded(loadUsers); });
$("next").addEventListener("click", () => { S.offset += S.limit; guarded(loadUsers); });
$("select-all").addEventListener("change", (e) => { for (const u of S.users) { if (e.target.checked) S.selected.add(u.name); else S.selected.delete(u.name); } renderUsers(); });
$("start-selected").addEventListener("click", () => guarded(() => eachSelected("Starting", "POST")));
$("stop-selected").addEventListener("click", () => guarded(() => eachSelected("Stopping", "DELETE")));
$("stop-all").addEventListener("click", () => guarded(async () => {
  const active = await allActive();
  const targets = [];
  for (const u of active) for (const name of Object.keys(u.servers || {})) targets.push(serverRow(u, name));
  if (!targets.length) { say("No servers are running"); return; }
  if (!confirm("Stop all " + targets.length + " running servers?")) return;
  const results = await Promise.allSettled(targets.map((t) => api("DELETE", t)));
  const failed = results.filter((r) => r.status === "rejected").map((r) => r.reason.message);
  say("Stopping " + targets.length + " servers");
  await loadUsers();
  if (failed.length) throw new Error("Some servers did not stop: " + failed.join("; "));
}));
async function poll() {
  try { await loadUsers(); await loadGroups(); $("updated").textContent = "Updated " + new Date().toLocaleTimeString(); }
  catch (e) { showError(e.message || String(e)); }
  setTimeout(poll, D.pollMs);
}
poll();
`;

/** Renders the admin page. */
export function adminPage(
  view: AdminView,
): HtmlEscapedString | Promise<HtmlEscapedString> {
  return layout({
    title: "Admin",
    baseUrl: view.baseUrl,
    user: view.user,
    admin: true,
    wide: true,
    body: html`
      <div id="alert" class="error" role="alert" hidden></div>
      <p id="status" class="sr-status" role="status" aria-live="polite"></p>
      <section class="card" aria-labelledby="admin-title">
        <div class="title-row">
          <h1 id="admin-title">Users</h1>
          <span id="updated" class="muted"></span>
        </div>
        <form id="search-form" class="toolbar" role="search">
          <div>
            <label for="search">Search users</label>
            <input type="search" id="search" name="name_filter" autocomplete="off"
              placeholder="Name starts with…">
          </div>
          <div>
            <label for="sort">Sort by</label>
            <select id="sort" name="sort">
              <option value="name">Name (A–Z)</option>
              <option value="-name">Name (Z–A)</option>
              <option value="-last_activity">Most recently active</option>
              <option value="last_activity">Least recently active</option>
              <option value="id">Date added</option>
            </select>
          </div>
        </form>
        <div class="toolbar actions-bar">
          <span id="selected-count" class="muted">0 selected</span>
          <button type="button" id="start-selected" class="small"
            disabled>Start selected</button>
          <button type="button" id="stop-selected" class="small secondary"
            disabled>Stop selected</button>
          <button type="button" id="stop-all"
            class="small danger">Stop all servers</button>
        </div>
        <div class="table-wrap">
          <table id="users">
            <thead>
              <tr>
                <th scope="col"><input type="checkbox" id="select-all"
                aria-label="Select all users on this page"></th>
                <th scope="col">Name</th>
                <th scope="col">Admin</th>
                <th
                  scope="col">Server</th>
                <th scope="col">Memory</th>
                <th
                  scope="col">Last activity</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody id="user-body"></tbody>
          </table>
        </div>
        <p id="user-empty" class="muted" hidden>No users match.</p>
        <nav class="pager" aria-label="Pages of users">
          <button type="button" id="prev" class="small secondary"
            disabled>Previous</button>
          <span id="page-info" aria-live="polite"></span>
          <button type="button" id="next" class="small secondary"
            disabled>Next</button>
        </nav>
      </section>
      <div class="grid-2">
        <section class="card" aria-labelledby="add-title">
          <h2 id="add-title">Add a user</h2>
          <form id="add-user">
            <label for="new-user">User name</label>
            <input type="text" id="new-user" name="username" autocomplete="off"
              autocapitalize="none">
            <label
              class="check"><input type="checkbox" id="new-user-admin"> Admin</label>
            <button type="submit">Add user</button>
          </form>
        </section>
        <section class="card" aria-labelledby="bulk-title">
          <h2 id="bulk-title">Add many users</h2>
          <form id="bulk-add">
            <label for="bulk-names">User names, one per line</label>
            <textarea id="bulk-names" name="usernames" rows="6" autocapitalize="none"
              spellcheck="false"></textarea>
            <label
              class="check"><input type="checkbox" id="bulk-admin"> Make them admins</label>
            <button type="submit">Add users</button>
          </form>
        </section>
      </div>
      <section class="card" aria-labelledby="groups-title">
        <h2 id="groups-title">Groups</h2>
        <form id="add-group" class="inline">
          <label for="new-group">New group name</label>
          <input type="text" id="new-group" name="group" autocomplete="off">
          <button type="submit">Create group</button>
        </form>
        <ul id="group-list" class="groups"></ul>
        <p id="group-empty" class="muted" hidden>No groups yet.</p>
      </section>
      ${dataScript({
        api: `${view.baseUrl}hub/api/`,
        hub: `${view.baseUrl}hub/`,
        xsrf: view.xsrf,
        user: view.user,
        pageSize: view.pageSize ?? 50,
        pollMs: view.pollMs ?? 5000,
      })}
      <script>(() => {${raw(CLIENT_HELPERS)}${raw(ADMIN_SCRIPT)}})();</script>
    `,
  });
}
