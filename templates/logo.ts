/**
 * The hub's logo, served at `{base_url}hub/logo` (single-user servers link
 * their header image there, as they do with JupyterHub).
 *
 * @module
 */

/** An SVG wordmark: an orange ring and "onehub". */
export const LOGO_SVG =
  `<svg xmlns="http://www.w3.org/2000/svg" width="132" height="32" viewBox="0 0 132 32" role="img" aria-label="onehub">
<circle cx="16" cy="16" r="11" fill="none" stroke="#e46e2e" stroke-width="5"/>
<text x="34" y="23" font-family="system-ui, sans-serif" font-size="20" font-weight="700" fill="#1d2430">onehub</text>
</svg>`;
