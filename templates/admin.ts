/**
 * The admin page for a class: users with server status, memory and last
 * activity; search, sort and pagination; add users one at a time or in
 * bulk; delete; make/unmake admin; start, stop and open servers, for one
 * user or many; stop all; groups and their members. Everything goes
 * through the REST API with cookie auth; the table refreshes every 5 s.
 *
 * @module
 */
import { dataTable, type Html, html, scriptPage } from "./layout.ts";

/** What the admin page needs. */
export interface AdminView {
  baseUrl: string;
  user: string;
  xsrf: string;
  /** Users per page. @default {50} */
  pageSize?: number;
  /** Polling interval in milliseconds. @default {5000} */
  pollMs?: number;
  /** The idle culler's settings and last pass. */
  culler?: CullerView;
  /** Configured services and their state. */
  services?: readonly ServiceStatus[];
  /** The announcement banner ("" for none). @default {""} */
  banner?: string;
  /** The text an admin set (the form's value; "" = the config's applies). @default {""} */
  announcementText?: string;
  /** Course files, when configured. */
  courseFiles?: {
    source: string;
    target: string;
    last:
      | { at: string; users: number; failed: string[]; skipped: string[] }
      | null;
    /** An update under way: users done of all. */
    running: { started: string; users: number; done: number } | null;
  };
}

/** The idle culler as the page shows it. */
export interface CullerView {
  enabled: boolean;
  timeoutSeconds: number;
  everySeconds: number;
  maxAgeSeconds: number;
  users: boolean;
  last: {
    at: string;
    checked: number;
    stopped: string[];
    deletedUsers: string[];
  } | null;
}

/** One service as the page shows it. */
export interface ServiceStatus {
  name: string;
  /** "managed" (onehub runs its command) or "external". */
  kind: "managed" | "external";
  /** Its public prefix ("/services/name/") or "". */
  prefix: string;
  /** "running", "starting", "restarting", "stopped" or "external". */
  state: string;
  pid: number | null;
  restarts: number;
  /** Why it last exited, if it did. */
  lastExit: string | null;
  /** Whether its url answered the last check (null: no url, or not checked yet). */
  answers: boolean | null;
}

function seconds(n: number): string {
  return n % 3600 === 0 && n > 0
    ? `${n / 3600} h`
    : n % 60 === 0 && n > 0
    ? `${n / 60} min`
    : `${n} s`;
}

/** The culler's line: on/off, its settings, what its last pass did. */
function cullerText(c: CullerView): string {
  if (!c.enabled) {
    return "Off (services.cull.enabled is false): idle servers keep running.";
  }
  const parts = [
    `Stops servers idle for ${seconds(c.timeoutSeconds)}, checking every ${
      seconds(c.everySeconds)
    }`,
  ];
  if (c.maxAgeSeconds > 0) {
    parts.push(`and any server older than ${seconds(c.maxAgeSeconds)}`);
  }
  if (c.users) parts.push("and deletes idle users");
  let text = parts.join(" ") + ".";
  if (c.last) {
    text +=
      ` Last check ${c.last.at}: ${c.last.checked} running, ${c.last.stopped.length} stopped${
        c.last.deletedUsers.length
          ? `, ${c.last.deletedUsers.length} users deleted`
          : ""
      }.`;
  } else text += " It has not checked yet since the hub started.";
  return text;
}

/** One service's row of the services table. */
function serviceRow(s: ServiceStatus): Html {
  return html`
    <tr data-service="${s.name}">
      <th scope="row">${s.prefix
        ? html`<a href="${s.prefix}">${s.name}</a>`
        : s.name}</th>
      <td>${s.kind}</td>
      <td><span class="badge status-${s.state}">${s
        .state}</span>${s.pid
        ? html`
          <span class="muted">pid ${s.pid}</span>
        `
        : ""}</td>
      <td>${s.answers === null ? "–" : s.answers ? "yes" : "no"}</td>
      <td>${s.restarts}</td>
      <td>${s.lastExit ?? "–"}</td>
    </tr>
  `;
}

/** The culler and the services (rendered on the server; reload to refresh). */
function termSection(view: AdminView) {
  const services = view.services ?? [];
  return html`
    <section class="card" aria-labelledby="ops-title">
      <h2 id="ops-title">Idle culler and services</h2>
      ${view.culler
        ? html`<p id="culler-status">${cullerText(view.culler)}</p>`
        : ""}
      ${services.length
        ? dataTable({
          id: "services",
          columns: [
            "Service",
            "Kind",
            "State",
            "Answers",
            "Restarts",
            "Last exit",
          ],
          rows: services.map(serviceRow),
        })
        : html`<p class="muted">No services configured (services.list).</p>`}
    </section>
  `;
}

/** The users table with its search, sort, bulk actions and pager (filled by the script). */
const USERS_SECTION = html`
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
      <label class="visually-hidden"
        for="bulk-group">Group for the selected users</label>
      <select id="bulk-group" class="small"></select>
      <button type="button" id="group-selected" class="small secondary"
        disabled>Add selected to group</button>
      <button type="button" id="stop-all"
        class="small danger">Stop all servers</button>
    </div>
    ${dataTable({
      id: "users",
      bodyId: "user-body",
      columns: [
        html`
          <input type="checkbox" id="select-all"
            aria-label="Select all users on this page">
        `,
        "Name",
        "Roles",
        "Server",
        "Memory",
        "Last activity",
        "Actions",
      ],
    })}
    <p id="user-empty" class="muted" hidden>No users match.</p>
    <nav class="pager" aria-label="Pages of users">
      <button type="button" id="prev" class="small secondary"
        disabled>Previous</button>
      <span id="page-info" aria-live="polite"></span>
      <button type="button" id="next" class="small secondary"
        disabled>Next</button>
    </nav>
  </section>
`;

/** The forms that add one user or many. */
const ADD_SECTION = html`
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
`;

/** Groups and their members (filled by the script). */
const GROUPS_SECTION = html`
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
`;

/** "Update course files": a plain POST; the last update's outcome. */
function courseFilesSection(view: AdminView) {
  const cf = view.courseFiles;
  if (!cf) return "";
  return html`
    <section class="card" aria-labelledby="course-title">
      <h2 id="course-title">Course files</h2>
      <p>From <code>${cf.source}</code> into each user's <code>~/${cf
        .target}</code>, at every spawn; files a student changed are never
        overwritten.</p>
      ${cf.last
        ? html`
          <p
            id="course-status">Last update ${cf.last.at}: ${cf.last
              .users} users${cf.last.failed.length
              ? html`, <span class="error">failed for ${
                cf.last.failed.join(
                  ", ",
                )
              }</span>`
              : ""}${cf.last.skipped.length
              ? html`; skipped ${
                cf.last.skipped.join(", ")
              } (no Linux account of their own at or above spawner.min_uid)`
              : ""}.</p>
        `
        : ""}
      ${cf.running
        ? html`
          <p id="course-running"
            role="status">Updating since ${cf.running
              .started}: ${cf.running.done} of ${cf.running
              .users} users done (reload for progress).</p>
        `
        : ""}
      <form method="post" action="${view.baseUrl}hub/admin/course-files">
        <input type="hidden" name="_xsrf" value="${view.xsrf}">
        <button type="submit">Update course files for everyone</button>
      </form>
    </section>
  `;
}

/** The banner form: a plain POST with the session's XSRF token (no script needed). */
function announcementSection(view: AdminView) {
  return html`
    <section class="card" aria-labelledby="announce-title">
      <h2 id="announce-title">Announcement</h2>
      <form method="post" action="${view.baseUrl}hub/admin/announcement">
        <input type="hidden" name="_xsrf" value="${view.xsrf}">
        <label for="announcement-text">Shown on the login and home pages (plain
          text; empty shows the config's, if any)</label>
        <textarea id="announcement-text" name="text" rows="2"
          maxlength="1000">${view
            .announcementText ?? ""}</textarea>
        <button type="submit">Save announcement</button>
      </form>
    </section>
  `;
}

/** Renders the admin page. */
export function adminPage(view: AdminView): Html {
  return scriptPage({
    ...view,
    title: "Admin",
    script: "admin.js",
    admin: true,
    wide: true,
    data: { pageSize: view.pageSize ?? 50, pollMs: view.pollMs ?? 5000 },
    body: html`
      ${USERS_SECTION} ${ADD_SECTION} ${GROUPS_SECTION} ${announcementSection(
        view,
      )} ${courseFilesSection(view)} ${termSection(view)}
    `,
  });
}
