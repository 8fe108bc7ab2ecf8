/**
 * The two files of `onehub export z2jh` as text: `values.yaml` (the
 * values with a header and the comments the mappings asked for, written
 * by the same YAML library as the config file) and `MIGRATION.md` (what to
 * fill in, how to install, what moved, what did not and what to do).
 *
 * @module
 */
import { loadYaml } from "../config/file.ts";
import type { ExportResult, Note, NoteTopic } from "./_types.ts";
import { Z2JH_CHART_VERSION } from "./z2jh.ts";

/** Where an export came from, for the files' headers. */
export interface ExportSource {
  /** The config file read. */
  configPath: string;
  /** The database read, or null when there was none. */
  dbPath: string | null;
  /** When the export ran. */
  at: Date;
  includeSecrets: boolean;
}

/** The helm commands that install the chart with the values. */
export const HELM_INSTALL =
  `helm repo add jupyterhub https://hub.jupyter.org/helm-chart/
helm repo update
helm upgrade --cleanup-on-fail --install onehub jupyterhub/jupyterhub \\
  --namespace onehub --create-namespace \\
  --version ${Z2JH_CHART_VERSION} --values values.yaml`;

function fromWhere(source: ExportSource): string {
  return `${source.configPath}${
    source.dbPath ? ` and ${source.dbPath}` : " (no database yet)"
  }`;
}

/** values.yaml: header, values, comments above the keys they name. */
export async function renderValuesYaml(
  result: ExportResult,
  source: ExportSource,
): Promise<string> {
  const { Document, isMap, isScalar } = await loadYaml();
  // YAML 1.1 quoting: Helm's parser reads a bare `no`, `on` or `y` (a user
  // or group so named) as a boolean.
  const doc = new Document(result.values, {
    aliasDuplicateObjects: false,
    version: "1.1",
  });
  doc.commentBefore = [
    ` Zero to JupyterHub values written by "onehub export z2jh" on ${source.at.toISOString()}`,
    ` from ${fromWhere(source)}, for the jupyterhub Helm chart`,
    ` ${Z2JH_CHART_VERSION} (JupyterHub 5). Read MIGRATION.md beside this file first: it lists`,
    ` the REPLACE-ME values to fill in and what did not move.`,
    ...(source.includeSecrets
      ? [" This file holds secrets in clear: keep it out of version control."]
      : []),
  ].join("\n");
  for (const { path, text } of result.comments) {
    const parent = path.length > 1
      ? doc.getIn(path.slice(0, -1), true)
      : doc.contents;
    if (!isMap(parent)) continue;
    const pair = parent.items.find((p) =>
      isScalar(p.key) && p.key.value === path[path.length - 1]
    );
    if (pair && isScalar(pair.key)) {
      pair.key.commentBefore = text.split("\n").map((l) => ` ${l}`).join("\n");
    }
  }
  return doc.toString({ lineWidth: 0 });
}

/** The notes of one topic as a Markdown list, or `empty`. */
function list(notes: readonly Note[], topic: NoteTopic, empty: string): string {
  const lines = notes.filter((n) => n.topic === topic).map((n) =>
    `- ${n.text}`
  );
  return lines.length ? lines.join("\n") : empty;
}

/** MIGRATION.md. */
export function renderMigrationMd(
  result: ExportResult,
  source: ExportSource,
): string {
  const { notes } = result;
  return `# Moving this hub to Zero to JupyterHub

\`onehub export z2jh\` wrote \`values.yaml\` beside this file on
${source.at.toISOString()} from ${fromWhere(source)}: the values of the
Zero to JupyterHub Helm chart ${Z2JH_CHART_VERSION} (JupyterHub 5, KubeSpawner 7,
oauthenticator 17) that reproduce this hub as closely as JupyterHub allows.
${
    source.includeSecrets
      ? "\nIt holds secrets in clear (`--include-secrets`): keep it out of version control.\n"
      : ""
  }
## 1. Fill in before installing

${
    list(
      notes,
      "fill",
      "Nothing: values.yaml has no `REPLACE-ME` placeholder.",
    )
  }

## 2. Install

\`\`\`sh
${HELM_INSTALL}
\`\`\`

Then \`kubectl --namespace onehub get service proxy-public\` shows the address
to point the hub's DNS name at.

## 3. What moved

${list(notes, "moved", "The settings in values.yaml.")}
- The idle culler's settings are in \`cull\` (the chart runs
  jupyterhub-idle-culler with them).

## 4. What did not move, and what to do

${list(notes, "todo", "Nothing.")}
`;
}
