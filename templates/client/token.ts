/// <reference lib="dom" />
/**
 * The token page (runs in the browser): lists the user's tokens, creates
 * one from the form and shows it once, revokes.
 *
 * @module
 */
import { api, byId, enc, guarded, h, pageData, say, when } from "./page.ts";

interface TokenModel {
  id: string;
  note: string | null;
  scopes?: string[];
  created: string | null;
  "last_activity": string | null;
  "expires_at": string | null;
}

const mine = "users/" + enc(pageData().user) + "/tokens";

function tokenRow(t: TokenModel): HTMLTableRowElement {
  return h("tr", {
    dataset: { token: t.id },
    children: [
      h("td", { text: t.note || "(no note)" }),
      h("td", {
        text: (t.scopes || []).join(" ") || "(none)",
        class: "scopes",
      }),
      h("td", { text: when(t.created), title: t.created || "" }),
      h("td", { text: when(t.last_activity), title: t.last_activity || "" }),
      h("td", {
        text: t.expires_at ? when(t.expires_at) : "never",
        title: t.expires_at || "",
      }),
      h("td", {
        children: [h("button", {
          type: "button",
          class: "small danger",
          text: "Revoke",
          "aria-label": "Revoke token " + (t.note || t.id),
          onclick: () =>
            guarded(async () => {
              await api(mine + "/" + enc(t.id), { method: "DELETE" });
              say("Token revoked");
              await refresh();
            }),
        })],
      }),
    ],
  });
}

async function refresh(): Promise<void> {
  const data = await api<{ api_tokens?: TokenModel[] } | null>(mine);
  const tokens = data?.api_tokens || [];
  byId("token-body").replaceChildren(...tokens.map(tokenRow));
  byId("token-empty").hidden = tokens.length > 0;
}

async function create(): Promise<void> {
  const note = byId<HTMLInputElement>("token-note").value.trim();
  const expires = byId<HTMLSelectElement>("token-expires").value;
  const scopes = byId<HTMLInputElement>("token-scopes").value.split(/[\s,]+/)
    .filter(Boolean);
  const body: Record<string, unknown> = {
    note: note || "Requested via token page",
  };
  if (expires) body.expires_in = Number(expires);
  if (scopes.length) body.scopes = scopes;
  const made = await api<{ token: string }>(mine, { method: "POST", body });
  const out = byId<HTMLInputElement>("new-token");
  out.value = made.token;
  byId("new-token-box").hidden = false;
  out.focus();
  out.select();
  say("Token created: copy it now, it is shown only once");
  await refresh();
}

byId("token-form").addEventListener("submit", (e) => {
  e.preventDefault();
  guarded(create);
});
guarded(refresh);
