/**
 * The types the export mappings share (hub/migrate/z2jh*.ts), and the
 * small collector they write into: values set by path, notes for
 * MIGRATION.md, comments for values.yaml.
 *
 * @module
 */

/** Where a MIGRATION.md line goes. */
export type NoteTopic =
  /** A placeholder in values.yaml to fill in before installing. */
  | "fill"
  /** Something carried over, said so the admin can check it. */
  | "moved"
  /** Something that did not move (or moved only in part), why, and what to do. */
  | "todo";

/** One line of MIGRATION.md (Markdown). */
export interface Note {
  topic: NoteTopic;
  text: string;
}

/** A comment written above a key of values.yaml. */
export interface YamlComment {
  /** The key's path, e.g. `["hub", "config", "JupyterHub", "authenticator_class"]`. */
  path: string[];
  text: string;
}

/** The endpoints of an OpenID Connect provider (its discovery document). */
export interface OidcEndpoints {
  authorizationEndpoint: string;
  tokenEndpoint: string;
}

/** What an export may use beyond the config and the database. */
export interface ExportOptions {
  /** Write secrets (OAuth client secret, service tokens, dummy password) in clear. */
  includeSecrets: boolean;
  /**
   * The generic OpenID Connect provider's endpoints, read from its
   * discovery document; null when they could not be read (then values.yaml
   * gets placeholders).
   */
  discovery: OidcEndpoints | null;
}

/** The result of an export: the values, and what the admin must know. */
export interface ExportResult {
  values: Record<string, unknown>;
  notes: Note[];
  comments: YamlComment[];
}

/** Collects an export's values, notes and comments while the mappings run. */
export class ExportCollector {
  readonly values: Record<string, unknown> = {};
  readonly notes: Note[] = [];
  readonly comments: YamlComment[] = [];

  /** Sets `value` at `path`, making the mappings on the way. */
  set(path: readonly string[], value: unknown): void {
    let node = this.values;
    for (const key of path.slice(0, -1)) {
      const next = node[key];
      if (next === null || typeof next !== "object" || Array.isArray(next)) {
        node[key] = {};
      }
      node = node[key] as Record<string, unknown>;
    }
    node[path[path.length - 1]!] = value;
  }

  /** The value at `path`, or undefined. */
  get(path: readonly string[]): unknown {
    let node: unknown = this.values;
    for (const key of path) {
      if (node === null || typeof node !== "object") return undefined;
      node = (node as Record<string, unknown>)[key];
    }
    return node;
  }

  /** Adds a MIGRATION.md line. */
  note(topic: NoteTopic, text: string): void {
    this.notes.push({ topic, text });
  }

  /** Adds a comment above the key at `path` in values.yaml. */
  comment(path: readonly string[], text: string): void {
    this.comments.push({ path: [...path], text });
  }

  /** The collected result. */
  result(): ExportResult {
    return {
      values: this.values,
      notes: this.notes,
      comments: this.comments,
    };
  }
}
