/**
 * The separate-process mode: `onehub proxy` holds the public port and the
 * connections; a hub with `proxy.mode: external` drives it over the
 * configurable-http-proxy API. Restarting the hub keeps open WebSockets.
 */
import assert from "node:assert/strict";
import { startMain, startServe } from "../../_helpers/serve_process.ts";
import { startEchoUpstream } from "../../_helpers/echo_upstream.ts";
import { migrateToLatest, openDatabase } from "../../../hub/db/mod.ts";

const TOKEN = "test-proxy-token-0123456789";

function nextMessage(ws: WebSocket): Promise<string> {
  return new Promise((resolve, reject) => {
    ws.addEventListener("message", (e) => resolve(String(e.data)), {
      once: true,
    });
    ws.addEventListener("close", () => reject(new Error("socket closed")), {
      once: true,
    });
  });
}

async function echo(ws: WebSocket, text: string): Promise<string> {
  const reply = nextMessage(ws);
  ws.send(text);
  return await reply;
}

Deno.test("onehub proxy keeps a WebSocket open while the hub behind it restarts", async () => {
  const dir = await Deno.makeTempDir({ prefix: "onehub-extproxy-" });
  try {
    await using up = await startEchoUpstream();
    await using proxy = await startMain([
      "proxy",
      "--port",
      "0",
      "--api-port",
      "0",
    ], {
      ready: /listening url=(http:\/\/\S+\/) api=(http:\/\/\S+)\/api\/routes/,
      env: { CONFIGPROXY_AUTH_TOKEN: TOKEN },
    });
    const [publicUrl, apiUrl] = [proxy.match[1]!, proxy.match[2]!];
    const config = `${dir}/config.yaml`;
    await Deno.writeTextFile(
      config,
      `data_dir: ${dir}\nauth:\n  type: dummy\nproxy:\n  mode: external\n  api_url: ${apiUrl}\n  auth_token: ${TOKEN}\n`,
    );
    // A route the hub stored earlier must be put back into the proxy when the hub starts.
    const handle = openDatabase(`${dir}/onehub.sqlite`);
    await migrateToLatest(handle);
    await handle.db.insertInto("routes").values({
      prefix: "/user/alice",
      target: up.origin,
      data: JSON.stringify({
        user: "alice",
        "server_name": "",
        jupyterhub: true,
      }),
      created: new Date().toISOString(),
    }).execute();
    await handle.close();

    const hub = await startServe(["--config", config]);
    let ws: WebSocket | null = null;
    try {
      const api = await fetch(`${publicUrl}hub/api`);
      assert.equal(
        api.status,
        200,
        "the hub registered itself as / in the external proxy",
      );
      await api.body?.cancel();
      const routes = await (await fetch(`${apiUrl}/api/routes`, {
        headers: { authorization: `token ${TOKEN}` },
      }))
        .json();
      assert.equal(
        routes["/user/alice"]?.target,
        up.origin,
        "the stored route was synced into the proxy",
      );

      ws = new WebSocket(`${publicUrl.replace("http", "ws")}user/alice/ws`);
      await new Promise((resolve, reject) => {
        ws!.onopen = resolve;
        ws!.onerror = reject;
      });
      assert.equal(await echo(ws, "before"), "before");
      assert.equal(await hub.stop(), 0);
      assert.equal(
        await echo(ws, "hub down"),
        "hub down",
        "the socket survives the hub stopping",
      );
      const down = await fetch(`${publicUrl}hub/api`);
      assert.equal(down.status, 503, "hub requests fail while it is down");
      await down.body?.cancel();

      await using again = await startServe(["--config", config]);
      assert.match(again.log(), /proxy=external/);
      assert.equal(
        await echo(ws, "after"),
        "after",
        "the socket survives the hub restart",
      );
      const back = await fetch(`${publicUrl}hub/api`);
      assert.equal(back.status, 200, "the restarted hub re-registered itself");
      await back.body?.cancel();
    } finally {
      if (ws) {
        const closed = new Promise((r) =>
          ws!.addEventListener("close", r, { once: true })
        );
        ws.close();
        await closed;
      }
      await hub.stop();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("onehub proxy refuses to start without CONFIGPROXY_AUTH_TOKEN", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../../../main.ts", import.meta.url).pathname,
      "proxy",
      "--port",
      "0",
    ],
    env: { CONFIGPROXY_AUTH_TOKEN: "" },
    stdin: "null",
  }).output();
  assert.equal(out.code, 1);
  assert.match(
    new TextDecoder().decode(out.stderr),
    /Set CONFIGPROXY_AUTH_TOKEN/,
  );
});

Deno.test("onehub proxy, run by main.ts without the rest of the CLI, still answers --help and usage errors as the CLI does", async () => {
  const run = (args: string[]) =>
    new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("../../../main.ts", import.meta.url).pathname,
        "proxy",
        ...args,
      ],
      env: { CONFIGPROXY_AUTH_TOKEN: "x" },
      stdin: "null",
    }).output();
  const help = await run(["--help"]);
  assert.equal(help.code, 0);
  assert.match(new TextDecoder().decode(help.stdout), /^Usage: onehub proxy/);
  const bad = await run(["--no-such-flag"]);
  assert.equal(bad.code, 2);
  assert.match(
    new TextDecoder().decode(bad.stderr),
    /^onehub proxy: .*no-such-flag[\s\S]*Usage: onehub proxy/,
  );
});
