/**
 * The spawn-pending page: a progress bar fed by the progress event stream;
 * it moves on to the server when ready and shows the reason when the spawn
 * fails. Also the "server not running" page (424) with a start button.
 *
 * @module
 */
import { formCard, type Html, html, raw } from "./layout.ts";
import { staticUrl } from "./static.ts";

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
export function spawnPendingPage(view: SpawnPendingView): Html {
  const data = JSON.stringify({
    progress: view.progressUrl,
    next: view.nextUrl,
  });
  return formCard(view, {
    title: "Starting your server",
    heading: html`Starting ${view.label}`,
    intro: html`
      <p id="progress-message" role="status"
        aria-live="polite">Your server is starting up…</p>
      <progress id="progress-bar" max="100" value="0" aria-label="Start progress"
        class="full"></progress>
      <p class="error" id="progress-error" hidden></p>
      <p id="progress-retry"
        hidden><a class="button" href="${view.spawnUrl}">Try again</a></p>
    `,
    after: html`
      <script id="spawn-data" type="application/json">${raw(
        data.replace(/</g, "\\u003c"),
      )}</script>
      <script type="module" src="${staticUrl(
        view.baseUrl,
        "spawn_pending.js",
      )}"></script>
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
export function notRunningPage(view: NotRunningView): Html {
  return formCard(view, {
    title: "Server not running",
    heading: html`${view.label} is not running`,
    intro: html`
      <p>Start it to continue where you were going.</p>
      <p><a class="button" id="start" href="${view
        .spawnUrl}">Start the server</a></p>
    `,
  });
}
