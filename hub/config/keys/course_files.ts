/**
 * The `course_files.*` keys (course files merged into every home) and the
 * git predicates they and the merge use.
 *
 * @module
 */
import type { KeySpec } from "../schema.ts";

/** Whether `text` can be a git branch: ref-name characters, not starting with "-", no "..", "//", no trailing "/" or ".lock". */
export function isGitBranchName(text: string): boolean {
  return /^[A-Za-z0-9._][A-Za-z0-9._/-]*$/.test(text) && !text.includes("..") &&
    !text.includes("//") && !text.endsWith("/") && !text.endsWith(".lock");
}

/** Whether `text` is a git URL (`https://…`, `git://…`, `ssh://…`, `file://…`, `user@host:path`). */
export function isGitUrl(text: string): boolean {
  return /^(https?|git|ssh|file):\/\//.test(text) ||
    /^[\w.-]+@[\w.-]+:/.test(text);
}

/** The `course_files.*` keys, in table order. */
export const COURSE_FILES_KEYS = [
  {
    key: "course_files.source",
    field: "courseFiles.source",
    kind: "string",
    default: "",
    reload: "live",
    doc:
      "Course files merged into every user's home at spawn and on the admin page's update: a directory or a git repository URL (\"\" = none)",
    check: (v) =>
      v === "" || v.startsWith("/") ||
        /^(https?|git|ssh|file):\/\/[^\s]+$/.test(v)
        ? null
        : `Invalid value for "course_files.source": ${
          JSON.stringify(v)
        }; expected an absolute directory such as "/srv/course" or a git URL (https://, http://, git://, ssh://, file://) such as "https://example.org/course.git" (write user@host:path as ssh://user@host/path)`,
  },
  {
    key: "course_files.target",
    field: "courseFiles.target",
    kind: "string",
    default: "course",
    reload: "live",
    doc: "The folder in each home the course files go to",
    check: (v) =>
      /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(v) &&
        !v.split("/").some((p) => p === "." || p === "..")
        ? null
        : `Invalid value for "course_files.target": ${
          JSON.stringify(v)
        }; expected a folder inside the home such as "course" or "classes/intro"`,
  },
  {
    key: "course_files.branch",
    field: "courseFiles.branch",
    kind: "string",
    default: "",
    reload: "live",
    doc: 'The git branch of a git source ("" = its default branch)',
    check: (v) =>
      v === "" || isGitBranchName(v)
        ? null
        : `Invalid value for "course_files.branch": ${
          JSON.stringify(v)
        }; expected a branch name such as "main" or "2026/spring" (letters, digits, ".", "_", "-", "/"; not starting with "-")`,
  },
  {
    key: "course_files.max_file_size",
    field: "courseFiles.maxFileSize",
    kind: "int",
    default: 104857600,
    min: 1024,
    max: 17179869184,
    reload: "live",
    doc:
      "Course files larger than this many bytes are skipped, and a student's file that large is never read",
  },
  {
    key: "course_files.cache_dir",
    field: "courseFiles.cacheDir",
    kind: "string",
    default: "/var/cache/onehub/course-files",
    reload: "live",
    doc:
      "Where a git source is checked out (readable by every user: the merge runs as the user)",
  },
] as const satisfies readonly KeySpec[];
