/// <reference lib="dom" />
/**
 * The home page (runs in the browser): the user's default server (start,
 * stop, open) and, when enabled, their named servers; refreshes every 5 s
 * (every second while something is pending).
 *
 * @module
 */
import { api, byId, enc, focusedKey, guarded, h } from "./page.ts";
import { type PageData, pageData, refocus, say } from "./page.ts";
import { type ServerModel, serverStatus, type UserModel } from "./page.ts";

const data = pageData<
  PageData & { namedServers: boolean; canShare: boolean }
>();
const me = "users/" + enc(data.user);
let timer: ReturnType<typeof setTimeout> | undefined;

async function refresh(): Promise<void> {
  const model = await api<UserModel>(me + "?include_stopped_servers=1");
  const servers = model.servers || {};
  const main = servers[""];
  const status = serverStatus(main);
  byId("server-status").textContent = status;
  byId<HTMLButtonElement>("start").disabled = status !== "stopped";
  byId<HTMLButtonElement>("stop").disabled = status === "stopped" ||
    status === "stopping";
  const open = byId<HTMLAnchorElement>("open");
  open.hidden = status !== "running";
  open.href = main ? main.url : "#";
  const busy = Object.values(servers).some((s) => s.pending);
  if (data.namedServers) renderNamed(servers);
  clearTimeout(timer);
  timer = setTimeout(() => guarded(refresh), busy ? 1000 : 5000);
}

function button(
  text: string,
  cls: string,
  name: string,
  key: string,
  fn: () => Promise<void>,
): HTMLButtonElement {
  return h("button", {
    type: "button",
    class: cls,
    text,
    "aria-label": `${text} ${name}`,
    dataset: { key: `${key}|${name}` },
    onclick: () => guarded(fn),
  });
}

function namedRow(name: string, s: ServerModel): HTMLTableRowElement {
  const status = serverStatus(s);
  const path = me + "/servers/" + enc(name);
  return h("tr", {
    children: [
      h("td", { text: name }),
      h("td", { text: status, class: "status-" + status }),
      h("td", {
        children: [h("div", {
          class: "actions",
          children: [
            status === "running"
              ? h("a", {
                class: "button small",
                href: s.url,
                text: "Open",
                dataset: { key: "open|" + name },
              })
              : null,
            status === "stopped"
              ? button("Start", "small", name, "start", async () => {
                await api(path, { method: "POST" });
                say("Starting " + name);
                await refresh();
              })
              : null,
            status === "running" || status === "starting"
              ? button("Stop", "small secondary", name, "stop", async () => {
                await api(path, { method: "DELETE" });
                say("Stopping " + name);
                await refresh();
              })
              : null,
            button("Remove", "small danger", name, "remove", async () => {
              if (
                !confirm(
                  "Remove the server " + name + "? Its settings are forgotten.",
                )
              ) return;
              await api(path, { method: "DELETE", body: { remove: true } });
              say("Removed " + name);
              await refresh();
            }),
          ],
        })],
      }),
    ],
  });
}

function renderNamed(servers: Record<string, ServerModel>): void {
  const body = byId("named-body");
  const names = Object.keys(servers).filter((n) => n !== "").sort();
  const focused = focusedKey();
  body.replaceChildren(...names.map((name) => namedRow(name, servers[name]!)));
  byId("named-empty").hidden = names.length > 0;
  refocus(body, focused);
}

byId("start").addEventListener("click", () =>
  guarded(async () => {
    await api(me + "/server", { method: "POST" });
    say("Your server is starting");
    await refresh();
  }));
byId("stop").addEventListener("click", () =>
  guarded(async () => {
    await api(me + "/server", { method: "DELETE" });
    say("Your server is stopping");
    await refresh();
  }));
document.getElementById("add-server")?.addEventListener("submit", (e) => {
  e.preventDefault();
  guarded(async () => {
    const input = byId<HTMLInputElement>("server-name");
    const name = input.value.trim();
    if (!name) throw new Error("Enter a name for the new server");
    await api(me + "/servers/" + enc(name), { method: "POST" });
    input.value = "";
    say("Starting " + name);
    await refresh();
  });
});
interface Share {
  user: { name: string } | null;
  group: { name: string } | null;
}
const shares = "shares/" + enc(data.user) + "/";

/** The current shares, each with a "Stop sharing" button. */
async function refreshShares(): Promise<void> {
  const page = await api<{ items: Share[] }>(shares);
  const list = byId("share-list");
  list.replaceChildren(...page.items.map((s) => {
    const who = s.user ? { user: s.user.name } : { group: s.group!.name };
    const label = s.user ? s.user.name : "group " + s.group!.name;
    return h("li", {
      dataset: { share: label },
      children: [
        h("span", { text: label }),
        button(
          "Stop sharing",
          "small secondary",
          "with " + label,
          "unshare",
          async () => {
            await api(shares, { method: "PATCH", body: who });
            say("Stopped sharing with " + label);
            await refreshShares();
          },
        ),
      ],
    });
  }));
  byId("share-empty").hidden = page.items.length > 0;
}

if (data.canShare) {
  byId("share-form").addEventListener("submit", (e) => {
    e.preventDefault();
    guarded(async () => {
      const input = byId<HTMLInputElement>("share-with");
      const name = input.value.trim();
      const kind = byId<HTMLSelectElement>("share-kind").value;
      await api(shares, {
        method: "POST",
        body: kind === "group" ? { group: name } : { user: name },
      });
      input.value = "";
      say("Shared with " + name);
      await refreshShares();
    });
  });
  guarded(refreshShares);
}
guarded(refresh);
