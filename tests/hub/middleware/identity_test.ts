import assert from "node:assert/strict";
import { createTestHub, type TestHub } from "../../_helpers/test_hub.ts";
import { tokenFromHeader } from "../../../hub/middleware/identity.ts";
import { assertError, countRows } from "../api/_fixtures.ts";
import { userToken } from "../../_helpers/api_setup.ts";

const MISSING_XSRF = /^'_xsrf' argument missing from (GET|POST|DELETE|PATCH)/;
const WRONG_XSRF = /^XSRF cookie does not match POST argument/;
const ANONYMOUS = /^Missing or invalid credentials\.$/;

interface Row {
  label: string;
  /** The request line; GET /hub/api/user when absent. */
  send?: string;
  headers?: Record<string, string>;
  /** Append `?_xsrf=<token>` (or a wrong one). */
  query?: "good" | "wrong";
  /** Send the XSRF token in this header. */
  header?: "x-xsrftoken" | "x-csrftoken";
  json?: unknown;
  body?: string;
  status: number;
  message?: RegExp;
}

/** JupyterHub's REST API reference, the 4.1+/5.x column, for a logged-in browser. */
const COOKIE_RULES: Row[] = [
  {
    label: "GET without Sec-Fetch-Mode needs no token",
    status: 200,
  },
  {
    label: "GET navigation needs no token",
    headers: { "sec-fetch-mode": "navigate" },
    status: 200,
  },
  {
    label: "fetch() GET without a token is refused",
    headers: { "sec-fetch-mode": "cors" },
    status: 403,
    message: MISSING_XSRF,
  },
  {
    label: "fetch() GET with ?_xsrf= passes",
    headers: { "sec-fetch-mode": "cors" },
    query: "good",
    status: 200,
  },
  {
    label: "fetch() GET with X-XSRFToken passes",
    headers: { "sec-fetch-mode": "cors" },
    header: "x-xsrftoken",
    status: 200,
  },
  {
    label: "fetch() GET with X-CSRFToken passes",
    headers: { "sec-fetch-mode": "cors" },
    header: "x-csrftoken",
    status: 200,
  },
  {
    label: "fetch() GET with a wrong token is refused",
    headers: { "sec-fetch-mode": "cors" },
    query: "wrong",
    status: 403,
    message: WRONG_XSRF,
  },
  {
    label: "same-origin no-cors GET needs no token",
    headers: { "sec-fetch-mode": "no-cors", "sec-fetch-site": "same-origin" },
    status: 200,
  },
  {
    label: "cross-site no-cors GET is refused",
    headers: { "sec-fetch-mode": "no-cors", "sec-fetch-site": "cross-site" },
    status: 403,
    message: MISSING_XSRF,
  },
  {
    label: "WebSocket handshake needs no token",
    headers: { "sec-fetch-mode": "websocket" },
    status: 200,
  },
  {
    label: "HEAD needs no token",
    send: "HEAD /hub/api/user",
    headers: { "sec-fetch-mode": "cors" },
    status: 200,
  },
  {
    label: "JSON POST without a token is refused",
    send: "POST /hub/api/users/alice/tokens",
    json: {},
    status: 403,
    message: MISSING_XSRF,
  },
  {
    label: "JSON POST with X-XSRFToken passes",
    send: "POST /hub/api/users/alice/tokens",
    header: "x-xsrftoken",
    json: {},
    status: 201,
  },
  {
    label: "JSON POST with a charset and ?_xsrf= passes",
    send: "POST /hub/api/users/alice/tokens",
    headers: { "content-type": "application/json; charset=utf-8" },
    query: "good",
    json: {},
    status: 201,
  },
  {
    label: "POST with no Content-Type and a token passes",
    send: "POST /hub/api/users/alice/tokens",
    query: "good",
    status: 201,
  },
  {
    label: "JSON POST with a wrong token is refused",
    send: "POST /hub/api/users/alice/tokens",
    header: "x-xsrftoken",
    query: "wrong",
    json: {},
    status: 403,
    message: WRONG_XSRF,
  },
  {
    label: "form-encoded POST is anonymous even with a good token",
    send: "POST /hub/api/users/alice/tokens",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    query: "good",
    body: "note=x",
    status: 403,
    message: ANONYMOUS,
  },
  {
    label: "text/plain POST is anonymous",
    send: "POST /hub/api/users/alice/tokens",
    headers: { "content-type": "text/plain" },
    header: "x-xsrftoken",
    body: "{}",
    status: 403,
    message: ANONYMOUS,
  },
  {
    label: "multipart POST is anonymous",
    send: "POST /hub/api/users/alice/tokens",
    headers: { "content-type": "multipart/form-data; boundary=x" },
    header: "x-xsrftoken",
    body: "--x--",
    status: 403,
    message: ANONYMOUS,
  },
  {
    label: "DELETE without a token is refused",
    send: "DELETE /hub/api/users/alice/tokens/a1",
    status: 403,
    message: MISSING_XSRF,
  },
  {
    label: "PATCH with Sec-Fetch-Mode navigate still needs a token",
    send: "PATCH /hub/api/users/alice",
    headers: { "sec-fetch-mode": "navigate" },
    json: {},
    status: 403,
    message: MISSING_XSRF,
  },
];

async function send(
  hub: TestHub,
  session: { cookie: string; xsrf: string },
  row: Row,
): Promise<Response> {
  const headers: Record<string, string> = {
    cookie: session.cookie,
    ...row.headers,
  };
  const given = row.query === "wrong" ? "not-the-token" : session.xsrf;
  if (row.header) headers[row.header] = session.xsrf;
  const query = row.query ? `?_xsrf=${encodeURIComponent(given)}` : "";
  const [method, path] = (row.send ?? "GET /hub/api/user").split(" ") as [
    string,
    string,
  ];
  return await hub.request(path + query, {
    method,
    headers,
    ...(row.json !== undefined ? { json: row.json } : {}),
    ...(row.body !== undefined ? { body: row.body } : {}),
  });
}

Deno.test("identityMiddleware() applies JupyterHub 5's cross-site rules to cookie API calls", async (t) => {
  await using hub = await createTestHub();
  await hub.addUser("alice");
  const session = await hub.login("alice");
  for (const row of COOKIE_RULES) {
    await t.step(row.label, async () => {
      const before = await countRows(hub, "api_tokens");
      const res = await send(hub, session, row);
      if (row.status >= 400) {
        await assertError(res, row.status, row.message);
        assert.equal(await countRows(hub, "api_tokens"), before);
      } else {
        await res.body?.cancel();
        assert.equal(res.status, row.status);
      }
    });
  }
});

Deno.test("identityMiddleware() refuses the XSRF token of another session", async () => {
  await using hub = await createTestHub();
  await hub.addUser("alice");
  await hub.addUser("bob");
  const alice = await hub.login("alice");
  const bob = await hub.login("bob");
  assert.notEqual(alice.xsrf, bob.xsrf);
  await assertError(
    await hub.request("/hub/api/user", {
      headers: {
        cookie: alice.cookie,
        "sec-fetch-mode": "cors",
        "x-xsrftoken": bob.xsrf,
      },
    }),
    403,
    WRONG_XSRF,
  );
});

Deno.test("identityMiddleware() exempts token-authenticated requests from the cookie rules", async (t) => {
  await using hub = await createTestHub();
  const token = await userToken(hub, "alice");
  await t.step("fetch()-style GET", async () => {
    const res = await hub.request("/hub/api/user", {
      token,
      headers: { "sec-fetch-mode": "cors", "sec-fetch-site": "cross-site" },
    });
    await res.body?.cancel();
    assert.equal(res.status, 200);
  });
  await t.step("JSON POST with no XSRF token", async () => {
    const res = await hub.request("/hub/api/users/alice/tokens", {
      method: "POST",
      token,
      headers: { "sec-fetch-mode": "cors" },
      json: {},
    });
    await res.body?.cancel();
    assert.equal(res.status, 201);
  });
  await t.step(
    "token plus someone's cookie acts as the token owner",
    async () => {
      await hub.addUser("bob");
      const bob = await hub.login("bob");
      const res = await hub.request("/hub/api/user", {
        token,
        headers: { cookie: bob.cookie, "sec-fetch-mode": "cors" },
      });
      assert.equal(res.status, 200);
      assert.equal((await res.json()).name, "alice");
    },
  );
});

Deno.test("identityMiddleware() leaves page routes to their own form checks", async () => {
  await using hub = await createTestHub();
  await hub.addUser("alice");
  const { cookie } = await hub.login("alice");
  const res = await hub.request("/hub/login", {
    headers: { cookie, "sec-fetch-mode": "cors" },
  });
  await res.body?.cancel();
  assert.ok(res.status < 400, `status ${res.status}`);
});

Deno.test("identityMiddleware() treats an expired or unknown login cookie as anonymous", async () => {
  await using hub = await createTestHub();
  await hub.addUser("alice");
  const { cookie } = await hub.login("alice");
  await assertError(
    await hub.request("/hub/api/user", {
      headers: { cookie: "jupyterhub-hub-login=" + "x".repeat(43) },
    }),
    403,
    /^Forbidden$/,
  );
  hub.now.setTime(hub.now.getTime() + 15 * 24 * 3600 * 1000);
  await assertError(
    await hub.request("/hub/api/user", { headers: { cookie } }),
    403,
    /^Forbidden$/,
  );
});

Deno.test("tokenFromHeader() reads 'token' and 'Bearer' schemes only", async (t) => {
  const rows: Array<[string | null | undefined, string | null]> = [
    ["token abc123", "abc123"],
    ["Bearer abc123", "abc123"],
    ["BEARER\tabc123", "abc123"],
    ["  token abc123  ", "abc123"],
    ["token", null],
    ["token ", null],
    ["token a b", null],
    ["Basic YWxpY2U6eA==", null],
    ["abc123", null],
    ["", null],
    [null, null],
    [undefined, null],
  ];
  for (const [header, expected] of rows) {
    await t.step(JSON.stringify(header) ?? "undefined", () => {
      assert.equal(tokenFromHeader(header), expected);
    });
  }
});
