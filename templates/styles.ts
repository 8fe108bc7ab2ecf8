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
h1 { font-size: 1.4rem; margin: 0 0 1rem; }
label { display: block; font-weight: 600; margin: .8rem 0 .3rem; }
input[type=text], input[type=password] { width: 100%; padding: .55rem .6rem; font-size: 1rem; border: 1px solid var(--border); border-radius: 6px; }
input:focus, button:focus, a:focus { outline: 3px solid #f3b48f; outline-offset: 1px; }
button, .button { display: inline-block; margin-top: 1.2rem; padding: .55rem 1.1rem; font-size: 1rem; border: 0; border-radius: 6px;
  background: var(--accent); color: #fff; cursor: pointer; text-decoration: none; }
button:hover, .button:hover { background: var(--accent-dark); }
.error { background: var(--err-bg); color: var(--err-fg); padding: .7rem .9rem; border-radius: 6px; margin-bottom: 1rem; }
.muted { color: var(--muted); }
@media (max-width: 30rem) { main { margin: 1rem auto; } .narrow { margin: 1rem auto; } }
`;
