/**
 * Talking to a real Jupyter server through the hub, as a browser does:
 * `runInKernel(client, user, kernelId?, code?)`.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { CookieClient } from "./cookie_client.ts";

/** A Jupyter messaging protocol `execute_request` on the shell channel, as JSON. */
function executeRequest(msgId: string, user: string, code: string): string {
  return JSON.stringify({
    header: {
      "msg_id": msgId,
      username: user,
      session: crypto.randomUUID(),
      "msg_type": "execute_request",
      version: "5.3",
    },
    "parent_header": {},
    metadata: {},
    content: {
      code,
      silent: false,
      "store_history": false,
      "user_expressions": {},
      "allow_stdin": false,
    },
    channel: "shell",
  });
}

/**
 * Runs `code` (default `print(6*7)`) in a kernel of `user`'s server over
 * its channels WebSocket, starting a new kernel unless `kernelId` is given;
 * resolves with the first stream output.
 */
export async function runInKernel(
  client: CookieClient,
  user: string,
  kernelId?: string,
  code = "print(6*7)",
  timeoutMs = 30_000,
): Promise<{ id: string; out: string }> {
  const prefix = `/user/${user}/`;
  const xsrf = client.cookie("_xsrf", `${prefix}api/kernels`) ?? "";
  let id = kernelId;
  if (!id) {
    const res = await client.request(`${prefix}api/kernels`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-xsrftoken": xsrf,
        origin: client.base.origin,
      },
      body: "{}",
    });
    assert.equal(res.status, 201, await res.clone().text());
    id = (await res.json()).id as string;
  }
  const wsUrl = `${
    client.base.origin.replace("http", "ws")
  }${prefix}api/kernels/${id}/channels`;
  const ws = new WebSocket(wsUrl, {
    headers: {
      cookie: client.cookieHeader(`${prefix}api/kernels`),
      origin: client.base.origin,
    },
  } as unknown as string[]);
  const out = await new Promise<string>((resolve, reject) => {
    const msgId = crypto.randomUUID();
    const timer = setTimeout(
      () => reject(new Error(`no kernel output within ${timeoutMs} ms`)),
      timeoutMs,
    );
    ws.onerror = (e) =>
      reject(new Error(`kernel socket failed: ${(e as ErrorEvent).message}`));
    ws.onopen = () => {
      ws.send(executeRequest(msgId, user, code));
    };
    ws.onmessage = (e) => {
      const msg = JSON.parse(String(e.data));
      if (msg.parent_header?.msg_id === msgId && msg.msg_type === "stream") {
        clearTimeout(timer);
        resolve(msg.content.text);
      }
    };
  });
  const closed = new Promise((r) =>
    ws.addEventListener("close", r, { once: true })
  );
  ws.close();
  await closed;
  return { id, out };
}

/** An open channels WebSocket of one kernel: run code on it, then close it. */
export interface KernelSocket {
  /** Runs `code`; resolves with its first stream output. */
  run(code: string, timeoutMs?: number): Promise<string>;
  /** Whether the socket is still open. */
  readonly open: boolean;
  close(): Promise<void>;
}

/** Opens the channels WebSocket of `kernelId` on `user`'s server, through the hub's proxy. */
export async function openKernelSocket(
  client: CookieClient,
  user: string,
  kernelId: string,
): Promise<KernelSocket> {
  const prefix = `/user/${user}/`;
  const ws = new WebSocket(
    `${
      client.base.origin.replace("http", "ws")
    }${prefix}api/kernels/${kernelId}/channels`,
    {
      headers: {
        cookie: client.cookieHeader(`${prefix}api/kernels`),
        origin: client.base.origin,
      },
    } as unknown as string[],
  );
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = (e) =>
      reject(new Error(`kernel socket failed: ${(e as ErrorEvent).message}`));
  });
  const closed = new Promise((r) =>
    ws.addEventListener("close", r, { once: true })
  );
  return {
    get open() {
      return ws.readyState === WebSocket.OPEN;
    },
    run(code, timeoutMs = 30_000) {
      const msgId = crypto.randomUUID();
      return new Promise<string>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no kernel output within ${timeoutMs} ms`)),
          timeoutMs,
        );
        const onMessage = (e: MessageEvent) => {
          const msg = JSON.parse(String(e.data));
          if (
            msg.parent_header?.msg_id === msgId && msg.msg_type === "stream"
          ) {
            clearTimeout(timer);
            ws.removeEventListener("message", onMessage);
            resolve(msg.content.text);
          }
        };
        ws.addEventListener("message", onMessage);
        ws.send(executeRequest(msgId, user, code));
      });
    },
    async close() {
      ws.close();
      await closed;
    },
  };
}
