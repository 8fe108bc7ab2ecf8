/**
 * Writes docs/scopes.md from the scope table in hub/rbac/scopes.ts, so the docs
 * cannot drift (tests/hub/scope_docs_test.ts fails when they differ).
 * Run: deno task docs:scopes
 *
 * @module
 */
import { scopeDocMarkdown } from "../hub/rbac/scopes.ts";

/** The whole docs/scopes.md text. */
export function scopesDocument(): string {
  return `# Scopes

onehub uses JupyterHub 5's scope strings unchanged. Generated from
\`hub/rbac/scopes.ts\` by \`deno task docs:scopes\`; do not edit by hand.

${scopeDocMarkdown()}`;
}

if (import.meta.main) {
  await Deno.writeTextFile(
    new URL("../docs/scopes.md", import.meta.url),
    scopesDocument(),
  );
}
