/// <reference lib="dom" />
/**
 * The "starting your server" page (runs in the browser): follows the
 * spawn's progress stream, moves the bar, goes to the server when it is
 * ready, shows the reason and a retry link when it failed.
 *
 * @module
 */

interface SpawnData {
  progress: string;
  next: string;
}

interface ProgressEvent {
  progress?: number;
  message?: string;
  ready?: boolean;
  failed?: boolean;
}

function el<T extends HTMLElement = HTMLElement>(id: string): T {
  return document.getElementById(id) as T;
}

const data = JSON.parse(el("spawn-data").textContent ?? "{}") as SpawnData;
const bar = el<HTMLProgressElement>("progress-bar");
const msg = el("progress-message");
const source = new EventSource(data.progress);
source.onmessage = (e) => {
  const ev = JSON.parse(e.data) as ProgressEvent;
  if (typeof ev.progress === "number") bar.value = ev.progress;
  if (ev.message) msg.textContent = ev.message;
  if (ev.ready) {
    source.close();
    location.href = data.next;
  }
  if (ev.failed) {
    source.close();
    const err = el("progress-error");
    err.textContent = ev.message ?? "";
    err.hidden = false;
    el("progress-retry").hidden = false;
  }
};
source.onerror = () => {
  if (source.readyState === EventSource.CLOSED) location.reload();
};
