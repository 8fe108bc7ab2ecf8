/**
 * Knows when what an identity is made of may have changed: a kysely plugin
 * counts this process's writes to `users`, `groups`, `user_group_map`,
 * `api_tokens`, `services` and `roles` (activity-only updates excepted), and SQLite's
 * `PRAGMA data_version` moves when another process (`onehub user …`,
 * `onehub token`) commits. {@linkcode changeStamp} joins both; a cache keyed
 * on it (hub/auth/identity.ts) is dropped whenever it moves.
 *
 * @module
 */
import type {
  KyselyPlugin,
  PluginTransformQueryArgs,
  PluginTransformResultArgs,
  QueryResult,
  RootOperationNode,
  UnknownRow,
} from "kysely";
import type { Db } from "./schema.ts";

/** The tables an identity is read from. */
const IDENTITY_TABLES = new Set([
  "users",
  "groups",
  "user_group_map",
  "api_tokens",
  "services",
  "roles",
  "role_assignments",
  "shares",
]);

/** Columns whose updates never change who someone is or what they may do. */
const ACTIVITY_COLUMNS = new Set(["last_activity", "last_seen"]);

type AnyNode = { kind: string; [key: string]: unknown };

function tableName(node: unknown): string | null {
  const n = node as AnyNode | undefined;
  if (!n) return null;
  if (n.kind === "AliasNode") return tableName(n.node);
  if (n.kind === "TableNode") {
    const table = n.table as { identifier?: { name?: string } };
    return table.identifier?.name ?? null;
  }
  return null;
}

function columnNames(updates: unknown): string[] {
  return ((updates as AnyNode[] | undefined) ?? []).map((u) => {
    const column = u.column as { column?: { name?: string } } | undefined;
    return column?.column?.name ?? "";
  });
}

/** Whether a query may change an identity (unknown raw writes count as yes). */
export function changesIdentity(node: RootOperationNode): boolean {
  const n = node as unknown as AnyNode;
  switch (n.kind) {
    case "InsertQueryNode":
      return IDENTITY_TABLES.has(tableName(n.into) ?? "");
    case "DeleteQueryNode": {
      const froms = (n.from as { froms?: unknown[] } | undefined)?.froms ?? [];
      return froms.some((f) => IDENTITY_TABLES.has(tableName(f) ?? ""));
    }
    case "UpdateQueryNode":
      return IDENTITY_TABLES.has(tableName(n.table) ?? "") &&
        !columnNames(n.updates).every((c) => ACTIVITY_COLUMNS.has(c));
    case "RawNode": {
      const text = ((n.sqlFragments as string[] | undefined) ?? []).join("?");
      return /^\s*(insert|update|delete|replace)\b/i.test(text);
    }
    default:
      return false;
  }
}

/** The plugin {@linkcode openDatabase} installs; counts before and after each identity write. */
export class IdentityChanges implements KyselyPlugin {
  #count = 0;
  readonly #pending = new WeakSet<object>();

  /** How many identity writes began or ended so far. */
  get count(): number {
    return this.#count;
  }

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    if (changesIdentity(args.node)) {
      this.#count++;
      this.#pending.add(args.queryId);
    }
    return args.node;
  }

  transformResult(
    args: PluginTransformResultArgs,
  ): Promise<QueryResult<UnknownRow>> {
    // A second step after the write: a read that raced it is cached under a stamp that no longer holds.
    if (this.#pending.has(args.queryId)) this.#count++;
    return Promise.resolve(args.result);
  }
}

const STAMPS = new WeakMap<Db, () => string>();

/** Registers how to read a database's change stamp (done by openDatabase). */
export function registerChangeStamp(db: Db, stamp: () => string): void {
  STAMPS.set(db, stamp);
}

let unknownStamp = 0;

/**
 * A value that changes whenever an identity may have changed. A handle not
 * opened by openDatabase gets a new value each time (nothing is cached).
 */
export function changeStamp(db: Db): string {
  return STAMPS.get(db)?.() ?? `untracked:${++unknownStamp}`;
}
