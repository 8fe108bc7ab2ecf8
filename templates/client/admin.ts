/// <reference lib="dom" />
/**
 * The admin page (runs in the browser): the class's users with server
 * status, memory and last activity; search, sort and pages; add users one at
 * a time or in bulk; delete; make/unmake admin; start, stop and open
 * servers, for one user or many; stop all; groups and their members. Every
 * action goes through the REST API; the page refreshes every `pollMs`.
 *
 * @module
 */
import { api, ApiError, byId, enc, focusedKey, guarded, h } from "./page.ts";
import { type PageData, pageData, refocus, say, serverStatus } from "./page.ts";
import { showError, type UserModel, when } from "./page.ts";

const D = pageData<PageData & { pageSize: number; pollMs: number }>();

interface Page<T> {
  items?: T[];
  _pagination?: {
    total: number;
    next: { offset: number; limit: number } | null;
  };
}

interface GroupModel {
  name: string;
  users?: string[];
}

const S = {
  offset: 0,
  limit: D.pageSize,
  total: 0,
  users: [] as UserModel[],
  memory: {} as Record<string, number>,
  memoryLimits: {} as Record<string, number>,
  culled: {} as Record<string, string>,
  selected: new Set<string>(),
};
const PAGINATED = { Accept: "application/jupyterhub-pagination+json" };

function mib(bytes: number | undefined): string {
  if (typeof bytes !== "number") return "–";
  return bytes >= 1073741824
    ? (bytes / 1073741824).toFixed(2) + " GiB"
    : Math.round(bytes / 1048576) + " MiB";
}

function query(): string {
  const p = new URLSearchParams({
    include_stopped_servers: "1",
    offset: String(S.offset),
    limit: String(S.limit),
    sort: byId<HTMLSelectElement>("sort").value,
  });
  const q = byId<HTMLInputElement>("search").value.trim();
  if (q) p.set("name_filter", q);
  return "users?" + p.toString();
}

async function loadUsers(): Promise<void> {
  const page = await api<Page<UserModel>>(query(), { headers: PAGINATED });
  S.users = page.items || [];
  S.total = page._pagination ? page._pagination.total : S.users.length;
  if (S.offset > 0 && S.users.length === 0 && S.total > 0) {
    S.offset = Math.max(0, S.total - S.limit);
    return loadUsers();
  }
  try {
    S.memory = await api(D.hub + "admin/api/memory");
  } catch {
    S.memory = {};
  }
  try {
    S.memoryLimits = await api(D.hub + "admin/api/memory-limits");
  } catch {
    S.memoryLimits = {};
  }
  try {
    S.culled = await api(D.hub + "admin/api/culled");
  } catch {
    S.culled = {};
  }
  renderUsers();
}

function action(
  text: string,
  label: string,
  key: string,
  fn: () => Promise<void>,
  cls = "",
): HTMLButtonElement {
  return h("button", {
    type: "button",
    class: "small " + cls,
    text,
    "aria-label": label,
    dataset: { key },
    onclick: () => guarded(fn),
  });
}

function serverPath(u: UserModel, name: string): string {
  return name
    ? "users/" + enc(u.name) + "/servers/" + enc(name)
    : "users/" + enc(u.name) + "/server";
}

/** The memory cell: the default server plus every ready named server. */
function memoryText(u: UserModel, named: string[]): string {
  const mem = S.memory[u.name + "/"];
  const extra = named.map((n) => S.memory[u.name + "/" + n])
    .filter((b): b is number => typeof b === "number");
  if (typeof mem !== "number" && !extra.length) return "–";
  const used = mib((mem || 0) + extra.reduce((a, b) => a + b, 0));
  const limit = S.memoryLimits[u.name + "/"];
  return typeof limit === "number" ? used + " / " + mib(limit) : used;
}

function selectBox(u: UserModel): HTMLInputElement {
  const box = h("input", {
    type: "checkbox",
    "aria-label": "Select " + u.name,
    dataset: { key: "select|" + u.name },
    onchange: (e: Event) => {
      if ((e.target as HTMLInputElement).checked) S.selected.add(u.name);
      else S.selected.delete(u.name);
      updateSelection();
    },
  });
  box.checked = S.selected.has(u.name);
  return box;
}

/** Says what changed, then reloads the table. */
async function changed(message: string): Promise<void> {
  say(message);
  await loadUsers();
}

/** The Start or Stop button of a user's default server. */
function serverButton(u: UserModel, verb: "Start" | "Stop"): HTMLButtonElement {
  const start = verb === "Start";
  return action(
    verb,
    verb + " server of " + u.name,
    (start ? "start|" : "stop|") + u.name,
    async () => {
      await api(serverPath(u, ""), { method: start ? "POST" : "DELETE" });
      await changed((start ? "Starting " : "Stopping ") + u.name);
    },
    start ? "" : "secondary",
  );
}

/** Start, stop and open the user's default server, as its status allows. */
function serverActions(u: UserModel, status: string): (Node | null)[] {
  const main = u.servers?.[""];
  return [
    status === "stopped" ? serverButton(u, "Start") : null,
    status === "running" || status === "starting"
      ? serverButton(u, "Stop")
      : null,
    status === "running" && main
      ? h("a", {
        class: "button small",
        href: main.url,
        target: "_blank",
        rel: "noopener",
        text: "Open",
        "aria-label": "Open server of " + u.name,
        dataset: { key: "open|" + u.name },
      })
      : null,
  ];
}

/** Make or unmake admin, revoke logins, delete: the user's account actions. */
function accountActions(u: UserModel): HTMLButtonElement[] {
  return [
    action(
      u.admin ? "Unmake admin" : "Make admin",
      (u.admin ? "Unmake admin " : "Make admin ") + u.name,
      "admin|" + u.name,
      async () => {
        await api("users/" + enc(u.name), {
          method: "PATCH",
          body: { admin: !u.admin },
        });
        await changed(
          (u.admin ? "Removed admin from " : "Made admin: ") + u.name,
        );
      },
      "secondary",
    ),
    action(
      "Revoke logins",
      "Revoke logins and tokens of " + u.name,
      "revoke|" + u.name,
      async () => {
        const question = "Log " + u.name +
          " out everywhere and revoke their API tokens? Running servers keep running.";
        if (!confirm(question)) return;
        await api("users/" + enc(u.name) + "/sessions", { method: "DELETE" });
        await api("users/" + enc(u.name) + "/tokens", { method: "DELETE" });
        await changed("Revoked the logins and tokens of " + u.name);
      },
      "secondary",
    ),
    action(
      "Delete",
      "Delete user " + u.name,
      "delete|" + u.name,
      async () => {
        const question = "Delete the user " + u.name +
          "? Their servers are stopped; their files stay on disk.";
        if (!confirm(question)) return;
        await api("users/" + enc(u.name), { method: "DELETE" });
        S.selected.delete(u.name);
        await changed("Deleted " + u.name);
      },
      "danger",
    ),
  ];
}

function userActions(u: UserModel, status: string): HTMLElement {
  return h("div", {
    class: "actions",
    children: [...serverActions(u, status), ...accountActions(u)],
  });
}

function userRow(u: UserModel): HTMLTableRowElement {
  const servers = u.servers || {};
  const status = serverStatus(servers[""]);
  const named = Object.keys(servers).filter((n) =>
    n !== "" && servers[n]!.ready
  );
  return h("tr", {
    dataset: { user: u.name },
    children: [
      h("td", { children: [selectBox(u)] }),
      h("th", { scope: "row", text: u.name }),
      h("td", {
        text: (u.roles ?? (u.admin ? ["admin"] : [])).filter((r) =>
          r !== "user"
        )
          .join(", "),
        dataset: { role: "roles" },
      }),
      h("td", {
        children: [
          h("span", {
            class: "badge status-" + status,
            text: status,
            dataset: { role: "server-status" },
          }),
          typeof servers[""]?.user_options?.profile === "string" &&
            status !== "stopped"
            ? h("span", {
              class: "muted",
              text: " " + servers[""]!.user_options!.profile,
              dataset: { role: "profile" },
            })
            : null,
          named.length
            ? h("span", {
              class: "muted",
              text: " +" + named.length + " named",
            })
            : null,
        ],
      }),
      h("td", { text: memoryText(u, named), dataset: { role: "memory" } }),
      h("td", {
        text: when(u.last_activity) +
          (S.culled[u.name] ? " · culled " + when(S.culled[u.name]) : ""),
        title: u.last_activity || "",
        dataset: { role: "activity" },
      }),
      h("td", { children: [userActions(u, status)] }),
    ],
  });
}

function renderUsers(): void {
  const body = byId("user-body");
  const focused = focusedKey();
  body.replaceChildren(...S.users.map(userRow));
  byId("user-empty").hidden = S.users.length > 0;
  const first = S.total === 0 ? 0 : S.offset + 1;
  byId("page-info").textContent = first + "–" + (S.offset + S.users.length) +
    " of " + S.total +
    " users";
  byId<HTMLButtonElement>("prev").disabled = S.offset === 0;
  byId<HTMLButtonElement>("next").disabled =
    S.offset + S.users.length >= S.total;
  byId<HTMLInputElement>("select-all").checked = S.users.length > 0 &&
    S.users.every((u) => S.selected.has(u.name));
  updateSelection();
  refocus(body, focused);
}

function updateSelection(): void {
  byId("selected-count").textContent = S.selected.size + " selected";
  byId<HTMLButtonElement>("start-selected").disabled = S.selected.size === 0;
  byId<HTMLButtonElement>("stop-selected").disabled = S.selected.size === 0;
  byId<HTMLButtonElement>("group-selected").disabled = S.selected.size === 0 ||
    !byId<HTMLSelectElement>("bulk-group").value;
}

/** Adds the selected users to the group chosen beside the button. */
async function addSelectedToGroup(): Promise<void> {
  const group = byId<HTMLSelectElement>("bulk-group").value;
  const users = [...S.selected];
  if (!group || !users.length) return;
  await api("groups/" + enc(group) + "/users", {
    method: "POST",
    body: { users },
  });
  say("Added " + users.length + " users to " + group);
  await loadGroups();
}

/** The group choices of the bulk action, kept in step with the groups list. */
function fillGroupChoice(groups: GroupModel[]): void {
  const select = byId<HTMLSelectElement>("bulk-group");
  const chosen = select.value;
  select.replaceChildren(
    h("option", { value: "", text: "Add to group…" }),
    ...groups.map((g) => h("option", { value: g.name, text: g.name })),
  );
  select.value = groups.some((g) => g.name === chosen) ? chosen : "";
  updateSelection();
}

async function eachSelected(verb: string, method: string): Promise<void> {
  const names = [...S.selected];
  const failures: string[] = [];
  await Promise.all(names.map(async (name) => {
    try {
      await api("users/" + enc(name) + "/server", { method });
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 400) {
        failures.push(name + ": " + (e as Error).message);
      }
    }
  }));
  say(verb + " " + names.length + " servers");
  await loadUsers();
  if (failures.length) throw new Error(failures.join("; "));
}

async function allActive(): Promise<UserModel[]> {
  const found: UserModel[] = [];
  let url: string | null = "users?state=active&limit=200&offset=0";
  for (let i = 0; i < 100 && url; i++) {
    const page: Page<UserModel> = await api(url, { headers: PAGINATED });
    found.push(...(page.items || []));
    const next = page._pagination?.next;
    url = next
      ? "users?state=active&limit=" + next.limit + "&offset=" + next.offset
      : null;
  }
  return found;
}

/** A member of a group, with a button that removes them. */
function memberItem(g: GroupModel, m: string): HTMLLIElement {
  return h("li", {
    children: [
      h("span", { text: m }),
      action(
        "Remove",
        "Remove " + m + " from " + g.name,
        "rm|" + g.name + "|" + m,
        async () => {
          await api("groups/" + enc(g.name) + "/users", {
            method: "DELETE",
            body: { users: [m] },
          });
          await loadGroups();
        },
        "secondary",
      ),
    ],
  });
}

/** The form that adds the names typed in it to group `g`. */
function addMemberForm(g: GroupModel): HTMLFormElement {
  const input = h("input", {
    type: "text",
    id: "member-" + g.name,
    autocomplete: "off",
    "aria-label": "User to add to " + g.name,
  });
  const addMember = async () => {
    const names = input.value.split(/[\s,]+/).filter(Boolean);
    if (!names.length) throw new Error("Enter a user name to add to " + g.name);
    await api("groups/" + enc(g.name) + "/users", {
      method: "POST",
      body: { users: names },
    });
    input.value = "";
    say("Added to " + g.name);
    await loadGroups();
  };
  return h("form", {
    class: "inline",
    onsubmit: (e: Event) => {
      e.preventDefault();
      guarded(addMember);
    },
    children: [
      input,
      h("button", { type: "submit", class: "small", text: "Add member" }),
    ],
  });
}

function groupItem(g: GroupModel): HTMLLIElement {
  return h("li", {
    class: "group card",
    dataset: { group: g.name },
    children: [
      h("h3", { text: g.name }),
      h("ul", {
        class: "members",
        children: (g.users || []).map((m) => memberItem(g, m)),
      }),
      addMemberForm(g),
      action(
        "Delete group",
        "Delete group " + g.name,
        "delgroup|" + g.name,
        async () => {
          if (!confirm("Delete the group " + g.name + "?")) return;
          await api("groups/" + enc(g.name), { method: "DELETE" });
          say("Deleted group " + g.name);
          await loadGroups();
        },
        "danger",
      ),
    ],
  });
}

async function loadGroups(): Promise<void> {
  const groups = await api<GroupModel[] | null>("groups") || [];
  const list = byId("group-list");
  const active = document.activeElement;
  // Someone is typing a member name: a refresh now would throw it away.
  if (
    list.contains(active) && active instanceof HTMLInputElement && active.value
  ) return;
  list.replaceChildren(...groups.map(groupItem));
  byId("group-empty").hidden = groups.length > 0;
  fillGroupChoice(groups);
}

async function addUsers(names: string[], admin: boolean): Promise<void> {
  const made = await api<UserModel[]>("users", {
    method: "POST",
    body: {
      usernames: names,
      admin,
    },
  });
  say("Added " + made.map((u) => u.name).join(", "));
  await loadUsers();
}

/** Wires a form's submit to `fn`, errors shown in the alert region. */
function onSubmit(id: string, fn: () => Promise<void>): void {
  byId(id).addEventListener("submit", (e) => {
    e.preventDefault();
    guarded(fn);
  });
}

function reload(offset: number): void {
  S.offset = offset;
  guarded(loadUsers);
}

async function stopAll(): Promise<void> {
  const active = await allActive();
  const targets: string[] = [];
  for (const u of active) {
    for (const name of Object.keys(u.servers || {})) {
      targets.push(serverPath(u, name));
    }
  }
  if (!targets.length) {
    say("No servers are running");
    return;
  }
  if (!confirm("Stop all " + targets.length + " running servers?")) return;
  const results = await Promise.allSettled(
    targets.map((t) => api(t, { method: "DELETE" })),
  );
  const failed = results.filter((r): r is PromiseRejectedResult =>
    r.status === "rejected"
  )
    .map((r) => (r.reason as Error).message);
  say("Stopping " + targets.length + " servers");
  await loadUsers();
  if (failed.length) {
    throw new Error("Some servers did not stop: " + failed.join("; "));
  }
}

function wireControls(): void {
  const text = (id: string) => byId<HTMLInputElement | HTMLTextAreaElement>(id);
  const checked = (id: string) => byId<HTMLInputElement>(id).checked;
  onSubmit("add-user", async () => {
    const name = text("new-user").value.trim();
    if (!name) throw new Error("Enter a user name");
    await addUsers([name], checked("new-user-admin"));
    text("new-user").value = "";
  });
  onSubmit("bulk-add", async () => {
    const names = text("bulk-names").value.split("\n").map((n) => n.trim())
      .filter(Boolean);
    if (!names.length) {
      throw new Error("Paste at least one user name, one per line");
    }
    await addUsers(names, checked("bulk-admin"));
    text("bulk-names").value = "";
  });
  onSubmit("add-group", async () => {
    const name = text("new-group").value.trim();
    if (!name) throw new Error("Enter a group name");
    await api("groups/" + enc(name), { method: "POST" });
    text("new-group").value = "";
    say("Created group " + name);
    await loadGroups();
  });
  let searchTimer: ReturnType<typeof setTimeout> | undefined;
  byId("search").addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => reload(0), 250);
  });
  onSubmit("search-form", () => Promise.resolve(reload(0)));
  byId("sort").addEventListener("change", () => reload(0));
  byId("prev").addEventListener(
    "click",
    () => reload(Math.max(0, S.offset - S.limit)),
  );
  byId("next").addEventListener("click", () => reload(S.offset + S.limit));
  byId("select-all").addEventListener("change", () => {
    for (const u of S.users) {
      if (checked("select-all")) S.selected.add(u.name);
      else S.selected.delete(u.name);
    }
    renderUsers();
  });
  byId("start-selected").addEventListener(
    "click",
    () => guarded(() => eachSelected("Starting", "POST")),
  );
  byId("stop-selected").addEventListener(
    "click",
    () => guarded(() => eachSelected("Stopping", "DELETE")),
  );
  byId("stop-all").addEventListener("click", () => guarded(stopAll));
  byId("group-selected").addEventListener(
    "click",
    () => guarded(addSelectedToGroup),
  );
  byId("bulk-group").addEventListener("change", updateSelection);
}

async function poll(): Promise<void> {
  try {
    await loadUsers();
    await loadGroups();
    byId("updated").textContent = "Updated " + new Date().toLocaleTimeString();
  } catch (e) {
    showError(e instanceof Error ? e.message : String(e));
  }
  setTimeout(poll, D.pollMs);
}

wireControls();
poll();
