/**
 * Writes docs/config.md from the key table in hub/config/mod.ts (every key:
 * kind, default, environment variable, live or restart, what it does), so
 * the reference cannot drift: tests/tools/config_docs_test.ts fails when
 * the file differs. Run: deno task docs:config
 *
 * @module
 */
import {
  CONFIG_KEYS,
  envName,
  type KeySpec,
  kindText,
  needsRestart,
} from "../hub/config/mod.ts";

function cell(text: string): string {
  return text.replaceAll("|", "\\|").replaceAll("\n", " ");
}

function row(k: KeySpec): string {
  const value = JSON.stringify(k.default);
  return `| \`${k.key}\` | ${cell(kindText(k))} | \`${cell(value)}\` | \`${
    envName(k.key)
  }\` | ${needsRestart(k.key) ? "restart" : "live"} | ${cell(k.doc)} |`;
}

/** The whole docs/config.md text. */
export function configDocument(): string {
  const sections = new Map<string, KeySpec[]>();
  for (const k of CONFIG_KEYS as readonly KeySpec[]) {
    const section = k.key.includes(".") ? k.key.split(".")[0]! : "(top level)";
    sections.set(section, [...(sections.get(section) ?? []), k]);
  }
  const parts = [...sections].map(([name, keys]) =>
    [
      `## ${name}`,
      "",
      "| Key | Kind | Default | Environment | Reload | What it does |",
      "| --- | --- | --- | --- | --- | --- |",
      ...keys.map(row),
    ].join("\n")
  );
  return `# Configuration keys

Every key of \`/etc/onehub/config.yaml\`, generated from the key table in
\`hub/config/mod.ts\` by \`deno task docs:config\`; do not edit by hand. Set one
with \`onehub config set KEY VALUE\` (checked before it is written), or in
the environment (\`ONEHUB_…\`, over the file), or with a \`serve\` flag (over
both). "live" keys apply on \`onehub config reload\`; "restart" keys need
\`systemctl restart onehub\`. \`onehub config keys\` prints the same table.

${parts.join("\n\n")}
`;
}

if (import.meta.main) {
  await Deno.writeTextFile(
    new URL("../docs/config.md", import.meta.url),
    configDocument(),
  );
}
