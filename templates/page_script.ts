/**
 * The script helpers every interactive page shares, as a string constant
 * (the binary carries it; nothing is read at run time): the page data blob,
 * `api(method, path, body)` with the session's XSRF token, the alert and
 * status regions, and a small element builder that only ever sets text.
 *
 * @module
 */
import { raw } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";

/**
 * A `<script type="application/json">` holding `data`; `<` is escaped so
 * no value can close the element.
 */
export function dataScript(data: unknown): HtmlEscapedString {
  return raw(
    `<script id="page-data" type="application/json">${
      JSON.stringify(data).replace(/</g, "\\u003c")
    }</script>`,
  ) as HtmlEscapedString;
}

/**
 * Helpers defined at the top of each page script: `D` (page data with
 * `api`, `hub`, `xsrf`), `api()`, `showError()`, `say()`, `h()`, `when()`.
 */
export const CLIENT_HELPERS = `
const D = JSON.parse(document.getElementById("page-data").textContent);
const alertBox = document.getElementById("alert");
const statusBox = document.getElementById("status");
function showError(message) {
  alertBox.textContent = message;
  alertBox.hidden = false;
}
function clearError() { alertBox.hidden = true; alertBox.textContent = ""; }
function say(message) { if (statusBox) statusBox.textContent = message; }
async function api(method, path, body, extraHeaders) {
  const headers = { "X-XSRFToken": D.xsrf, Accept: "application/json", ...(extraHeaders || {}) };
  const init = { method, headers, credentials: "same-origin" };
  if (body !== undefined) { headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
  let res;
  try { res = await fetch(path.startsWith("/") ? path : D.api + path, init); }
  catch (e) { throw new Error("The hub did not answer: check your connection"); }
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!res.ok) {
    const why = data && data.message ? data.message : res.status + " " + res.statusText;
    const err = new Error(why); err.status = res.status; throw err;
  }
  return data;
}
function h(tag, attrs, children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v === null || v === undefined) continue;
    if (k === "text") el.textContent = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children || []) if (c !== null && c !== undefined) el.append(c);
  return el;
}
function enc(name) { return encodeURIComponent(name); }
function when(iso) {
  if (!iso) return "never";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const s = Math.round((Date.now() - d.getTime()) / 1000);
  if (s < -60) return "in " + rel(-s);
  if (s < 60) return "just now";
  return rel(s) + " ago";
}
function rel(s) {
  if (s < 3600) return Math.round(s / 60) + " min";
  if (s < 86400) return Math.round(s / 3600) + " h";
  return Math.round(s / 86400) + " d";
}
async function guarded(fn) {
  try { clearError(); await fn(); } catch (e) { showError(e.message || String(e)); }
}
`;
