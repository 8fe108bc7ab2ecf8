/**
 * Getting into a user's server the way a browser does, however long the
 * spawn takes: `await openServer(client, "alice")` follows `/hub/spawn`;
 * when that ends on the spawn-pending page it reads the page's progress
 * event stream (as templates/client/spawn_pending.ts does) until the
 * `ready` event, then follows the page's `next` URL so the server's OAuth
 * handshake with the hub runs and sets its `jupyterhub-user-<name>`
 * cookie; it resolves with the server's first 200 page. A fast spawn or a
 * server already running lands there directly, with no pending page.
 *
 * Polling `/user/<name>/api/status` is no way to wait: API paths are never
 * sent to the OAuth handshake, so without it the server answers 403
 * forever. `waitForReady(progressUrl, { headers })` is the same wait for a
 * caller with an API token instead of cookies.
 *
 * @module
 */
import type { ProgressEvent } from "../../hub/servers/manager.ts";
import type { CookieClient, Hop } from "./cookie_client.ts";

/** The bound on a spawn when the caller names none: a cold first start on a slow machine passes. */
export const SPAWN_WAIT_MS = 5 * 60_000;

/** Pending page → ready → server is one round; a reload (stream over, no verdict) is another. */
const MAX_ROUNDS = 8;

/** How one read of a progress stream ended. */
type StreamEnd = "ready" | "failed" | "ended" | "timeout";

/** The events of one SSE block (`data:` lines joined), or null for a keep-alive. */
function blockData(block: string): string | null {
  const lines = block.split("\n").filter((l) => l.startsWith("data:"));
  if (!lines.length) return null;
  return lines.map((l) => l.slice(5).replace(/^ /, "")).join("\n");
}

/** Reads `res`'s event stream into `seen` until a verdict, its end or `deadline`; cancels the body. */
async function readStream(
  res: Response,
  seen: ProgressEvent[],
  deadline: number,
): Promise<StreamEnd> {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(
      () => resolve("timeout"),
      Math.max(0, deadline - Date.now()),
    );
  });
  let buffer = "";
  try {
    while (true) {
      const chunk = await Promise.race([reader.read(), timeout]);
      if (chunk === "timeout") return "timeout";
      if (chunk.done) return "ended";
      buffer += chunk.value.replace(/\r\n?/g, "\n");
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const data = blockData(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
        if (data === null) continue;
        const event = JSON.parse(data) as ProgressEvent;
        seen.push(event);
        if (event.ready) return "ready";
        if (event.failed) return "failed";
      }
    }
  } finally {
    clearTimeout(timer);
    await reader.cancel().catch(() => {});
  }
}

/** The events, one per line, for an error message. */
function eventList(seen: ProgressEvent[]): string {
  return seen.length
    ? seen.map((e) => `  ${JSON.stringify(e)}`).join("\n")
    : "  (none)";
}

/**
 * Opens a progress stream with `request` and reads it: resolves with
 * `"ready"` or `"ended"` (the stream closed with no verdict, as when a
 * newer spawn replaced the one it followed; a browser reloads then);
 * throws with every event seen on `failed`, on timeout, or when the stream
 * answers other than 200.
 */
async function readProgress(
  request: (url: string) => Promise<Response>,
  options: { url: string; seen: ProgressEvent[]; deadline: number },
): Promise<"ready" | "ended"> {
  const { url, seen, deadline } = options;
  const res = await request(url);
  if (res.status !== 200) {
    throw new Error(
      `Read the progress stream ${url}: status ${res.status}: ${await res
        .text()}`,
    );
  }
  const end = await readStream(res, seen, deadline);
  if (end === "ready" || end === "ended") return end;
  throw new Error(
    end === "failed"
      ? `The spawn failed; progress events:\n${eventList(seen)}`
      : `No ready event on ${url} within the time allowed; progress events:\n${
        eventList(seen)
      }`,
  );
}

/** Options of {@linkcode waitForReady}. */
export interface WaitForReadyOptions {
  /** Sent with each request, e.g. `{ authorization: "token …" }`. */
  headers?: HeadersInit;
  /** Give up after this many milliseconds. @default {300000} */
  timeoutMs?: number;
  /** How to open the stream, e.g. a cookie client's `request` (a browser's EventSource). @default {fetch with `headers`} */
  request?: (url: string) => Promise<Response>;
}

/**
 * Reads the progress event stream at `url` (re-opening it when it closes
 * without a verdict) until its `ready` event; resolves with every event
 * seen. Throws with those events when the spawn fails or `timeoutMs`
 * passes. A server already running replays `ready` at once.
 *
 * @example
 * ```ts
 * await waitForReady(`${hub}hub/api/users/alice/server/progress`, {
 *   headers: { authorization: `token ${token}` },
 * });
 * ```
 */
export async function waitForReady(
  url: string,
  options: WaitForReadyOptions = {},
): Promise<ProgressEvent[]> {
  const deadline = Date.now() + (options.timeoutMs ?? SPAWN_WAIT_MS);
  const seen: ProgressEvent[] = [];
  const request = options.request ??
    ((u: string) =>
      fetch(u, options.headers ? { headers: options.headers } : {}));
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const end = await readProgress(request, { url, seen, deadline });
    if (end === "ready") return seen;
  }
  throw new Error(
    `The progress stream ${url} closed ${MAX_ROUNDS} times without a ready event; progress events:\n${
      eventList(seen)
    }`,
  );
}

/** What the spawn-pending page's `<script id="spawn-data">` holds. */
interface SpawnData {
  progress: string;
  next: string;
}

/** The spawn-pending page's data, or null when `html` is another page. */
export function spawnDataOf(html: string): SpawnData | null {
  const json =
    /<script id="spawn-data" type="application\/json">([^<]*)<\/script>/
      .exec(html)?.[1];
  return json ? JSON.parse(json) as SpawnData : null;
}

/** A page's text without markup or scripts, shortened, for an error message. */
function pageText(html: string): string {
  return html.replace(/<(script|style)[\s\S]*?<\/\1>/g, "")
    .replace(/<[^>]+>/g, " ").replace(/\s+/g, " ").trim().slice(0, 600);
}

/** `401 http://…/a -> 302 http://…/b`: a redirect chain for an error message. */
export function hopList(hops: Hop[]): string {
  return hops.map((h) => `${h.status} ${h.url}`).join(" -> ");
}

/** Options of {@linkcode openServer}. */
export interface OpenServerOptions {
  /** Where the browser starts, relative to the hub's base. @default {"hub/spawn"} (`hub/spawn/<user>/<server>` with `server`) */
  from?: string;
  /** A named server. @default {""} */
  server?: string;
  /** Bound on the whole flow, spawn included. @default {300000} */
  timeoutMs?: number;
}

/**
 * Drives `client` from `options.from` to a 200 page of `user`'s server as
 * a browser does (see the module doc), whatever the spawn takes; returns
 * that response, body unread. Throws with the redirect hops when the flow
 * ends anywhere else (login page, spawn failed, 403 …), and with the
 * progress events when the spawn fails or does not finish in time.
 *
 * @example
 * ```ts
 * await client.login("alice", "secret");
 * const page = await openServer(client, "alice");
 * await page.body?.cancel();
 * const { out } = await runInKernel(client, "alice");
 * ```
 */
export async function openServer(
  client: CookieClient,
  user: string,
  options: OpenServerOptions = {},
): Promise<Response> {
  const server = options.server ?? "";
  const named = server ? `/${encodeURIComponent(server)}` : "";
  const prefix = new URL(
    `user/${encodeURIComponent(user)}${named}/`,
    client.base,
  ).pathname;
  const deadline = Date.now() + (options.timeoutMs ?? SPAWN_WAIT_MS);
  const seen: ProgressEvent[] = [];
  const trail: string[] = [];
  let url = options.from ??
    (server ? `hub/spawn/${encodeURIComponent(user)}${named}` : "hub/spawn");
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const res = await client.follow(url);
    trail.push(hopList(client.hops));
    const at = new URL(client.hops.at(-1)!.url);
    if (res.status === 200 && at.pathname.startsWith(prefix)) return res;
    const html = await res.text();
    const data = res.status === 200 ? spawnDataOf(html) : null;
    if (!data) {
      throw new Error(
        `Open ${user}'s server: the flow ended at ${res.status} ${at.href}, not a page under ${prefix}\nhops: ${
          trail.join("\n  then: ")
        }\npage: ${pageText(html)}`,
      );
    }
    const request = (u: string) => client.request(u);
    const end = await readProgress(request, {
      url: data.progress,
      seen,
      deadline,
    }).catch((error: Error) => {
      throw new Error(
        `Open ${user}'s server: ${error.message}\nhops: ${
          trail.join("\n  then: ")
        }`,
        { cause: error },
      );
    });
    // Ready: where the page's script goes. Ended with no verdict: the script reloads the page.
    url = end === "ready" ? data.next : at.href;
  }
  throw new Error(
    `Open ${user}'s server: no server page after ${MAX_ROUNDS} rounds\nhops: ${
      trail.join("\n  then: ")
    }\nprogress events:\n${eventList(seen)}`,
  );
}
