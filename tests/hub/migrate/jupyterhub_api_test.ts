import assert from "node:assert/strict";
import {
  apiUrlOf,
  JupyterHubApiError,
  JupyterHubClient,
} from "../../../hub/migrate/jupyterhub_api.ts";
import { ADMIN_TOKEN, startFakeJupyterHub } from "./_fake_jupyterhub.ts";
import { freePorts } from "../../_helpers/free_ports.ts";

/** A plain HTTP server answering every request with `respond`. */
function serve(respond: (req: Request) => Response | Promise<Response>) {
  const stop = new AbortController();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    signal: stop.signal,
    onListen: () => {},
  }, respond);
  return {
    url: `http://127.0.0.1:${server.addr.port}/`,
    async [Symbol.asyncDispose]() {
      stop.abort();
      await server.finished;
    },
  };
}

/** The error `promise` rejects with, checked to be a JupyterHubApiError. */
async function failure(promise: Promise<unknown>): Promise<JupyterHubApiError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof JupyterHubApiError, String(error));
    return error;
  }
  assert.fail("expected a JupyterHubApiError");
}

Deno.test("apiUrlOf() finds the REST API from the public address, /hub/ or /hub/api", () => {
  for (
    const url of [
      "http://h:8000",
      "http://h:8000/",
      "http://h:8000/hub",
      "http://h:8000/hub/api/",
      "http://h:8000/hub/api?x=1",
    ]
  ) {
    assert.equal(apiUrlOf(url), "http://h:8000/hub/api/", url);
  }
  assert.equal(apiUrlOf("https://h/base/"), "https://h/base/hub/api/");
  assert.throws(() => apiUrlOf("ftp://h/"), /must start with http/);
  assert.throws(() => apiUrlOf("not a url"), /is not a URL/);
});

Deno.test("users() reads every page with JupyterHub's pagination media type", async () => {
  await using hub = startFakeJupyterHub();
  for (const name of ["a1", "a2", "a3", "a4", "a5"]) {
    hub.state.users.set(name, { admin: false, roles: [], servers: [""] });
  }
  const client = new JupyterHubClient(hub.url, {
    token: ADMIN_TOKEN,
    pageSize: 2,
  });
  assert.equal(await client.version(), "5.2.1");
  const users = await client.users();
  assert.deepEqual(users.map((u) => u.name), ["a1", "a2", "a3", "a4", "a5"]);
  assert.deepEqual(hub.state.requests.filter((r) => r === "GET /users"), [
    "GET /users",
    "GET /users",
    "GET /users",
  ]);
  const bounded = new JupyterHubClient(hub.url, {
    token: ADMIN_TOKEN,
    pageSize: 2,
    maxPages: 2,
  });
  const e = await failure(bounded.users());
  assert.match(e.message, /more than 4 items: stopped reading/);
});

Deno.test("an unreachable hub, a silent one and one that is not JupyterHub give errors that say what to do", async () => {
  const [port] = freePorts(1) as [number];
  let e = await failure(
    new JupyterHubClient(`http://127.0.0.1:${port}/`, { token: "t" })
      .version(),
  );
  assert.ok(e.fatal);
  assert.match(
    e.message,
    /Cannot reach JupyterHub at http:\/\/127\.0\.0\.1:\d+ .*check --url/,
  );

  const hang = Promise.withResolvers<Response>();
  {
    await using silent = serve(() => hang.promise);
    e = await failure(
      new JupyterHubClient(silent.url, { token: "t", timeoutMs: 200 })
        .version(),
    );
    assert.match(e.message, /did not answer a GET within 0\.2 s/);
    hang.resolve(new Response("late"));
  }

  await using web = serve(() =>
    new Response("<html>hello</html>", {
      headers: { "content-type": "text/html" },
    })
  );
  e = await failure(new JupyterHubClient(web.url, { token: "t" }).version());
  assert.match(e.message, /does not answer like JupyterHub's REST API/);
  await using missing = serve(() => new Response("nope", { status: 404 }));
  e = await failure(
    new JupyterHubClient(missing.url, { token: "t" }).version(),
  );
  assert.match(
    e.message,
    /does not answer like JupyterHub's REST API \(GET \/ answered 404\)/,
  );
});

Deno.test("403s name the scope the call needs, or the bad token; item errors are not fatal", async () => {
  await using hub = startFakeJupyterHub();
  hub.state.tokens.set("reader", {
    kind: "service",
    name: "reader",
    admin: false,
    scopes: ["list:users"],
  });
  let e = await failure(
    new JupyterHubClient(hub.url, { token: "wrong" }).users(),
  );
  assert.ok(e.fatal);
  assert.match(
    e.message,
    /refused the token \(403: Missing or invalid credentials\.\): check --token/,
  );
  const reader = new JupyterHubClient(hub.url, { token: "reader" });
  e = await failure(reader.createGroup("class", []));
  assert.ok(e.fatal);
  assert.match(
    e.message,
    /refused POST \/groups\/class \(403: .*requires any of \[admin:groups\]\): the token needs admin:groups/,
  );
  const admin = new JupyterHubClient(hub.url, { token: ADMIN_TOKEN });
  await admin.createUser("alice", { admin: false });
  e = await failure(admin.createUser("alice", { admin: false }));
  assert.equal(e.fatal, false);
  assert.equal(e.status, 409);
  assert.match(
    e.message,
    /POST \/users\/alice: 409: User alice already exists/,
  );
});

Deno.test("an answer larger than the body limit is refused", async () => {
  await using big = serve(() =>
    Response.json({ version: "5.2.1", pad: "x".repeat(5000) })
  );
  const e = await failure(
    new JupyterHubClient(big.url, { token: "t", maxBodyBytes: 1000 })
      .version(),
  );
  assert.match(e.message, /larger than 1000 bytes/);
});
