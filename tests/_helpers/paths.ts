/**
 * Path helpers for tests (std's @std/path is out of reach): `fromFileUrl`
 * and `repoPath(...)` (a path inside the repository).
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

/** A file: URL as a path. */
export function fromFileUrl(url: string | URL): string {
  return fileURLToPath(url);
}

/** The repository root. */
export const REPO_ROOT = join(
  dirname(fromFileUrl(import.meta.url)),
  "..",
  "..",
);

/** A path inside the repository. */
export function repoPath(...parts: string[]): string {
  return join(REPO_ROOT, ...parts);
}
