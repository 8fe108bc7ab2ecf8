/**
 * The one stylesheet, as a string constant so it ends up inside the binary.
 *
 * @module
 */

/** CSS for every page. */
export const STYLES = `
:root { --fg: #1d2430; --muted: #5b6474; --bg: #f6f7f9; --card: #fff; --accent: #e46e2e; --accent-dark: #b9521a;
  --err-bg: #fdecea; --err-fg: #8a1c12; --ok-bg: #e8f5e9; --border: #d9dde3; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
header.top { display: flex; align-items: center; justify-content: space-between; gap: 1rem; padding: .6rem 1.2rem;
  background: var(--card); border-bottom: 1px solid var(--border); }
header.top .brand { font-weight: 700; color: var(--fg); text-decoration: none; font-size: 1.15rem; }
header.top nav a { margin-left: 1rem; color: var(--muted); }
main { max-width: 60rem; margin: 2rem auto; padding: 0 1rem; }
.card { background: var(--card); border: 1px solid var(--border); border-radius: 8px; padding: 1.5rem; }
.narrow { max-width: 24rem; margin: 3rem auto; }
/* An element's hidden attribute wins over any class that sets display (e.g. .button). */
[hidden] { display: none !important; }
h1 { font-size: 1.4rem; margin: 0 0 1rem; }
label { display: block; font-weight: 600; margin: .8rem 0 .3rem; }
input[type=text], input[type=password] { width: 100%; padding: .55rem .6rem; font-size: 1rem; border: 1px solid var(--border); border-radius: 6px; }
input:focus, button:focus, a:focus { outline: 3px solid #f3b48f; outline-offset: 1px; }
button, .button { display: inline-block; margin-top: 1.2rem; padding: .55rem 1.1rem; font-size: 1rem; border: 0; border-radius: 6px;
  background: var(--accent); color: #fff; cursor: pointer; text-decoration: none; }
button:hover, .button:hover { background: var(--accent-dark); }
.error { background: var(--err-bg); color: var(--err-fg); padding: .7rem .9rem; border-radius: 6px; margin-bottom: 1rem; }
.muted { color: var(--muted); }
main.wide { max-width: 80rem; }
main > .card, main > section, .grid-2 > .card { margin-bottom: 1.2rem; }
h2 { font-size: 1.15rem; margin: 0 0 .8rem; }
h3 { font-size: 1rem; margin: 0 0 .5rem; }
input[type=search], select, textarea { width: 100%; padding: .55rem .6rem; font: inherit; border: 1px solid var(--border); border-radius: 6px; background: #fff; }
textarea { font-family: ui-monospace, monospace; }
input:focus, select:focus, textarea:focus { outline: 3px solid #f3b48f; outline-offset: 1px; }
label.check { display: flex; align-items: center; gap: .5rem; font-weight: 400; }
button.secondary, .button.secondary { background: #fff; color: var(--fg); border: 1px solid var(--border); }
button.secondary:hover { background: #eef0f3; }
button.danger { background: #b3261e; }
button.danger:hover { background: #8a1c12; }
button.small, .button.small { margin-top: 0; padding: .3rem .7rem; font-size: .9rem; }
.button-row { display: flex; flex-wrap: wrap; gap: .6rem; align-items: center; }
.button-row button, .button-row .button { margin-top: 0; }
.ok { background: var(--ok-bg); padding: .7rem .9rem; border-radius: 6px; margin-top: 1rem; }
.ok label { margin-top: 0; }
.sr-status:empty { display: none; }
.profiles { border: 1px solid var(--border); border-radius: 6px; padding: .5rem .9rem; margin: 0 0 1rem; }
.profile { display: block; margin: .4rem 0; font-weight: normal; }
.announcement { background: #fff8e1; border: 1px solid #f0d58c; padding: .6rem .9rem; border-radius: 6px; margin: 0 0 1rem; white-space: pre-line; }
.sr-status { background: var(--ok-bg); padding: .5rem .9rem; border-radius: 6px; margin: 0 0 1rem; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.table-wrap { overflow-x: auto; margin: .8rem 0; }
table { width: 100%; border-collapse: collapse; font-size: .95rem; }
th, td { text-align: left; padding: .45rem .5rem; border-bottom: 1px solid var(--border); vertical-align: middle; }
thead th { font-size: .85rem; text-transform: uppercase; letter-spacing: .03em; color: var(--muted); }
tbody tr:hover { background: #fafbfc; }
.actions { display: flex; flex-wrap: wrap; gap: .35rem; }
td.scopes { font-family: ui-monospace, monospace; font-size: .85rem; }
.badge { display: inline-block; padding: .1rem .5rem; border-radius: 999px; font-size: .85rem; background: #eef0f3; }
.status-running { background: #d7f0da; color: #1e5a25; }
.status-starting, .status-stopping { background: #fff1c2; color: #6b5200; }
.title-row { display: flex; justify-content: space-between; align-items: baseline; gap: 1rem; flex-wrap: wrap; }
.toolbar { display: flex; flex-wrap: wrap; gap: .8rem; align-items: flex-end; }
.toolbar > div { flex: 1 1 12rem; }
.toolbar label { margin-top: 0; }
.actions-bar { margin-top: 1rem; align-items: center; }
.pager { display: flex; gap: 1rem; align-items: center; justify-content: center; }
form.inline { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; margin-bottom: 1rem; }
form.inline label { flex-basis: 100%; margin: 0; }
form.inline input { flex: 1 1 12rem; width: auto; }
form.inline button { margin-top: 0; }
button:disabled, button.secondary:disabled, button.danger:disabled { background: #e4e6ea; color: #6b7280; border: 1px solid #d0d4da; cursor: not-allowed; }
.grid-2 { margin-bottom: 1.2rem; display: grid; grid-template-columns: repeat(auto-fit, minmax(18rem, 1fr)); gap: 1.2rem; }
ul.groups { list-style: none; padding: 0; display: grid; grid-template-columns: repeat(auto-fill, minmax(16rem, 1fr)); gap: 1rem; }
ul.groups > li { padding: 1rem; }
ul.members { list-style: none; padding: 0; margin: 0 0 .6rem; }
ul.members li { display: flex; justify-content: space-between; align-items: center; padding: .2rem 0; }
@media (max-width: 40rem) { #users thead { display: none; }
  #users, #users tbody { display: block; }
  #users tbody tr { display: flex; flex-wrap: wrap; align-items: center; gap: .2rem .8rem; padding: .5rem 0; border-bottom: 1px solid var(--border); }
  #users tbody td, #users tbody th { border: 0; padding: .1rem .2rem; }
  #users tbody td:last-child { flex-basis: 100%; } }
@media (max-width: 30rem) { main { margin: 1rem auto; } .narrow { margin: 1rem auto; }
  header.top { flex-wrap: wrap; } header.top nav a { margin-left: .6rem; }
  .card { padding: 1rem; } }
progress.full { width: 100%; }
`;
