/// <reference lib="dom" />
/**
 * What every interactive page's script shares (runs in the browser): the
 * page data blob, `api(path, { method, body })` with the session's XSRF token,
 * the alert and status regions, and a small element builder that only ever
 * sets text. Bundled into each page's script by tools/bundle_client.ts.
 *
 * @module
 */

/** The data a page hands its script in `<script id="page-data" type="application/json">`. */
export interface PageData {
  /** `{base_url}hub/api/` */
  api: string;
  /** `{base_url}hub/` */
  hub: string;
  xsrf: string;
  user: string;
  [key: string]: unknown;
}

let parsed: PageData | undefined;

/** The page's data blob, parsed once (every API call reads it). */
export function pageData<T extends PageData>(): T {
  parsed ??= JSON.parse(byId("page-data").textContent ?? "{}") as PageData;
  return parsed as T;
}

/** The element with `id`; a missing one is a template bug, so it throws. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`no element #${id} on this page`);
  return el as T;
}

/** Shows a message in the page's alert region. */
export function showError(message: string): void {
  const box = byId("alert");
  box.textContent = message;
  box.hidden = false;
}

function clearError(): void {
  const box = byId("alert");
  box.hidden = true;
  box.textContent = "";
}

/** Announces a message in the page's status region (if it has one). */
export function say(message: string): void {
  const box = document.getElementById("status");
  if (box) box.textContent = message;
}

/** An API failure: the hub's message and the HTTP status. */
export class ApiError extends Error {
  constructor(message: string, readonly status: number) {
    super(message);
  }
}

/** A request of {@linkcode api}, as `fetch`'s init names it. */
export interface ApiRequest {
  /** @default {"GET"} */
  method?: string;
  /** Sent as JSON when present. */
  body?: unknown;
  /** Headers beside the XSRF token and `Accept`. @default {{}} */
  headers?: Record<string, string>;
}

/**
 * Calls the REST API (`path` relative to `{base_url}hub/api/`, or absolute)
 * with the session cookie and XSRF token; resolves with the JSON answer (or
 * null), rejects with the hub's message.
 */
export async function api<T = unknown>(
  path: string,
  request: ApiRequest = {},
): Promise<T> {
  const { method = "GET", body, headers: extraHeaders = {} } = request;
  const data = pageData();
  const headers: Record<string, string> = {
    "X-XSRFToken": data.xsrf,
    Accept: "application/json",
    ...extraHeaders,
  };
  const init: RequestInit = { method, headers, credentials: "same-origin" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let res: Response;
  try {
    res = await fetch(path.startsWith("/") ? path : data.api + path, init);
  } catch {
    throw new Error("The hub did not answer: check your connection");
  }
  const text = await res.text();
  let answer: unknown = null;
  try {
    answer = text ? JSON.parse(text) : null;
  } catch {
    answer = null;
  }
  if (!res.ok) {
    const message = (answer as { message?: unknown } | null)?.message;
    throw new ApiError(
      typeof message === "string" ? message : `${res.status} ${res.statusText}`,
      res.status,
    );
  }
  return answer as T;
}

/**
 * Attributes of {@linkcode h}: `text` sets textContent, `on…` adds a
 * listener, `children` are appended.
 */
export type Attrs = Record<string, unknown> & {
  text?: string;
  dataset?: Record<string, string>;
  children?: ReadonlyArray<Node | string | null | undefined>;
};

/** Builds an element; values are only ever set as text or attributes. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  const { children = [], ...rest } = attrs;
  for (const [k, v] of Object.entries(rest)) {
    if (v === false || v === null || v === undefined) continue;
    if (k === "text") el.textContent = String(v);
    else if (k.startsWith("on")) {
      el.addEventListener(k.slice(2), v as EventListener);
    } else if (k === "dataset") Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined) el.append(c);
  return el;
}

/** A path segment for a user or server name. */
export function enc(name: string): string {
  return encodeURIComponent(name);
}

function rel(s: number): string {
  if (s < 3600) return Math.round(s / 60) + " min";
  if (s < 86400) return Math.round(s / 3600) + " h";
  return Math.round(s / 86400) + " d";
}

/** "3 min ago", "in 2 d", "just now" or "never" for an ISO time. */
export function when(iso: string | null | undefined): string {
  if (!iso) return "never";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const s = Math.round((Date.now() - d.getTime()) / 1000);
  if (s < -60) return "in " + rel(-s);
  if (s < 60) return "just now";
  return rel(s) + " ago";
}

/** Runs `fn`, showing its error in the alert region instead of throwing. */
export async function guarded(fn: () => unknown): Promise<void> {
  try {
    clearError();
    await fn();
  } catch (e) {
    showError(e instanceof Error ? e.message : String(e));
  }
}

/** After a re-render, focuses again the element with `data-key` = `key` inside `root`. */
export function refocus(root: HTMLElement, key: string | undefined): void {
  if (!key) return;
  const el = root.querySelector<HTMLElement>(`[data-key="${CSS.escape(key)}"]`);
  el?.focus();
}

/** The `data-key` of the focused element, if any. */
export function focusedKey(): string | undefined {
  const el = document.activeElement;
  return el instanceof HTMLElement ? el.dataset.key : undefined;
}

/** A server as the REST API's user model lists it. */
export interface ServerModel {
  ready: boolean;
  pending: string | null;
  url: string;
  "user_options"?: { profile?: unknown };
}

/** A user as `GET /users` returns it (the fields the pages use). */
export interface UserModel {
  name: string;
  admin: boolean;
  roles?: string[];
  "last_activity": string | null;
  servers?: Record<string, ServerModel>;
}

/** The status word of a server: running, starting, stopping or stopped. */
export function serverStatus(s: ServerModel | undefined): string {
  if (!s) return "stopped";
  if (s.ready) return "running";
  return s.pending === "spawn"
    ? "starting"
    : s.pending === "stop"
    ? "stopping"
    : "stopped";
}
