/**
 * The spawn-pending page: a progress bar fed by the progress event stream;
 * it moves on to the server when ready and shows the reason when the spawn
 * fails. Also the "server not running" page (424) with a start button.
 *
 * @module
 */
import { html, raw } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import { layout } from "./layout.ts";

/** What the spawn-pending page needs. */
export interface SpawnPendingView {
  baseUrl: string;
  user: string;
  /** Whose server ("alice" or "alice/gpu"). */
  label: string;
  /** The progress event stream URL (with `_xsrf`). */
  progressUrl: string;
  /** Where to go when ready. */
  nextUrl: string;
  /** URL that starts the server again after a failure. */
  spawnUrl: string;
}

/** Renders the page. */
export function spawnPendingPage(
  view: SpawnPendingView,
): HtmlEscapedString | Promise<HtmlEscapedString> {
  const data = JSON.stringify({
    progress: view.progressUrl,
    next: view.nextUrl,
  });
  return layout({
    title: "Starting your server",
    baseUrl: view.baseUrl,
    user: view.user,
    body: html`
      <div class="card">
        <h1>Starting ${view.label}</h1>
        <p id="progress-message" role="status"
          aria-live="polite">Your server is starting up…</p>
        <progress id="progress-bar" max="100" value="0" aria-label="Start progress"
          style="width:100%"></progress>
        <p class="error" id="progress-error" hidden></p>
        <p id="progress-retry"
          hidden><a class="button" href="${view.spawnUrl}">Try again</a></p>
      </div>
      <script id="spawn-data" type="application/json">${raw(
        data.replace(/</g, "\\u003c"),
      )}</script>
      <script>
      (() => {
        const data = JSON.parse(document.getElementById("spawn-data").textContent);
        const bar = document.getElementById("progress-bar");
        const msg = document.getElementById("progress-message");
        const source = new EventSource(data.progress);
        source.onmessage = (e) => {
          const ev = JSON.parse(e.data);
          if (typeof ev.progress === "number") bar.value = ev.progress;
          if (ev.message) msg.textContent = ev.message;
          if (ev.ready) { source.close(); window.location.href = data.next; }
          if (ev.failed) {
            source.close();
            const err = document.getElementById("progress-error");
            err.textContent = ev.message; err.hidden = false;
            document.getElementById("progress-retry").hidden = false;
          }
        };
        source.onerror = () => { if (source.readyState === EventSource.CLOSED) window.location.reload(); };
      })();
      </script>
    `,
  });
}

/** What the "not running" page needs. */
export interface NotRunningView {
  baseUrl: string;
  user: string;
  label: string;
  spawnUrl: string;
}

/** Renders the "server not running" page. */
export function notRunningPage(
  view: NotRunningView,
): HtmlEscapedString | Promise<HtmlEscapedString> {
  return layout({
    title: "Server not running",
    baseUrl: view.baseUrl,
    user: view.user,
    body: html`<div class="card">
  <h1>${view.label} is not running</h1>
  <p>Start it to continue where you were going.</p>
  <p><a class="button" id="start" href="${view.spawnUrl}">Start the server</a></p>
</div>`,
  });
}
