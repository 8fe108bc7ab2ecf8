/**
 * Course files for every student (nbgitpuller's idea, built in): the
 * config's `course_files.source`, a directory on this machine or a git
 * repository, is merged into `~/<course_files.target>` of each user at
 * spawn and when an admin clicks "Update course files" on the admin page.
 *
 * The merge runs AS THE USER (setpriv, then a small Python program given
 * on the command line: python3 is there wherever jupyterhub-singleuser is),
 * so it can only touch what the user could, a symlink planted in their
 * home included, and every file it makes is theirs. The rules, per file:
 * - missing in the home (new, or deleted by the student): copied;
 * - unchanged by the student since it was last delivered: updated;
 * - changed by the student: never overwritten; when the course changed it
 *   too, the new version is put beside it as `name.course-<date>.ext`.
 * What was delivered is remembered in `~/<target>/.onehub-course.json`.
 * Files over `course_files.max_file_size` are skipped in the source and
 * never read in the home (a student's file that large is their own).
 *
 * A git source is cloned (shallow) into `course_files.cache_dir`, readable
 * by every user, and fetched again at most every 5 minutes at spawn, at
 * once on the admin's update.
 *
 * @module
 */
import { type HubConfig, isGitUrl } from "../config/mod.ts";
import type { EventLog } from "../observe/events.ts";
import type { Logger } from "../observe/log.ts";
import { setprivArgs, type SystemUser } from "../../spawners/mod.ts";
import { forEachLimited } from "../concurrency.ts";

/** The merge, run as the user: argv = source, destination, date; prints a JSON summary. */
const MERGE_PY = String.raw`
import hashlib, json, os, shutil, sys
src, dst, date, limit = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
os.makedirs(dst, exist_ok=True)
path = os.path.join(dst, ".onehub-course.json")
try:
    with open(path) as f:
        manifest = json.load(f)
    if not isinstance(manifest, dict):
        manifest = {}
except Exception:
    manifest = {}
def digest(p):
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for chunk in iter(lambda: f.read(65536), b""):
            h.update(chunk)
    return h.hexdigest()
n = {"added": 0, "updated": 0, "kept": 0, "conflicts": 0, "skipped": 0}
for root, dirs, files in os.walk(src):
    dirs[:] = sorted(d for d in dirs if d != ".git" and not os.path.islink(os.path.join(root, d)))
    for name in sorted(files):
        s = os.path.join(root, name)
        rel = os.path.relpath(s, src)
        d = os.path.join(dst, rel)
        if os.path.islink(s) or not os.path.isfile(s):
            continue
        if os.path.getsize(s) > limit:
            n["skipped"] += 1
            continue
        new = digest(s)
        parent = os.path.dirname(d)
        if os.path.islink(parent) or (os.path.lexists(parent) and not os.path.isdir(parent)):
            n["skipped"] += 1
            continue
        os.makedirs(parent, exist_ok=True)
        if not os.path.lexists(d):
            shutil.copyfile(s, d)
            n["added"] += 1
        elif os.path.islink(d) or not os.path.isfile(d):
            n["skipped"] += 1
            continue
        elif os.path.getsize(d) > limit:
            # Bigger than any course file: the student's own, never read
            # (a 50 GB sparse file must not hold up their spawn).
            cur, old = None, manifest.get(rel)
            if old != new:
                base, ext = os.path.splitext(d)
                shutil.copyfile(s, base + ".course-" + date + ext)
                n["conflicts"] += 1
            else:
                n["kept"] += 1
        else:
            cur, old = digest(d), manifest.get(rel)
            if cur == new:
                pass
            elif cur == old:
                shutil.copyfile(s, d)
                n["updated"] += 1
            elif old == new:
                n["kept"] += 1
            else:
                base, ext = os.path.splitext(d)
                shutil.copyfile(s, base + ".course-" + date + ext)
                n["conflicts"] += 1
        manifest[rel] = new
tmp = path + ".tmp"
with open(tmp, "w") as f:
    json.dump(manifest, f)
os.replace(tmp, path)
print(json.dumps(n))
`;

/** What one user's merge did. */
export interface MergeSummary {
  added: number;
  updated: number;
  kept: number;
  conflicts: number;
  skipped: number;
}

/** Whether `source` names a git repository rather than a directory. */
export function isGitSource(source: string): boolean {
  return isGitUrl(source) || source.endsWith(".git");
}

/** What {@linkcode CourseFiles} needs. */
export interface CourseFilesDeps {
  config: HubConfig;
  logger: Logger;
  events: EventLog;
  /** @default {"/usr/bin/python3"} */
  python?: string;
  /** @default {"setpriv"} */
  setpriv?: string;
  /** @default {"git"} */
  git?: string;
}

const FETCH_EVERY_MS = 5 * 60_000;
const MERGE_TIMEOUT_MS = 120_000;

async function run(
  argv: string[],
  options: { env?: Record<string, string>; cwd?: string } = {},
): Promise<string> {
  const out = await new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    ...(options.env ? { clearEnv: true, env: options.env } : {}),
    ...(options.cwd ? { cwd: options.cwd } : {}),
    signal: AbortSignal.timeout(MERGE_TIMEOUT_MS),
  }).output();
  if (!out.success) {
    const err = new TextDecoder().decode(out.stderr).trim().slice(-500);
    throw new Error(`${argv[0]} exited with ${out.code}: ${err}`);
  }
  return new TextDecoder().decode(out.stdout);
}

/** The course files of this hub. */
export class CourseFiles {
  readonly #deps: CourseFilesDeps;
  #fetchedAt = 0;
  #fetching: Promise<string> | null = null;

  constructor(deps: CourseFilesDeps) {
    this.#deps = deps;
  }

  /** Whether course files are configured. */
  get enabled(): boolean {
    return this.#deps.config.courseFiles.source !== "";
  }

  /** The directory to merge from: the source itself, or the git checkout (cloned or fetched when due). */
  source(force = false): Promise<string> {
    const { source } = this.#deps.config.courseFiles;
    if (!isGitSource(source)) return Promise.resolve(source);
    if (!force && Date.now() - this.#fetchedAt < FETCH_EVERY_MS) {
      return this.#fetching ?? Promise.resolve(this.#checkout());
    }
    this.#fetching ??= this.#fetch().finally(() => this.#fetching = null);
    return this.#fetching;
  }

  #checkout(): string {
    return `${this.#deps.config.courseFiles.cacheDir}/checkout`;
  }

  async #fetch(): Promise<string> {
    const { source, branch, cacheDir } = this.#deps.config.courseFiles;
    const git = this.#deps.git ?? "git";
    const dir = this.#checkout();
    await Deno.mkdir(cacheDir, { recursive: true, mode: 0o755 });
    const cloned = await Deno.stat(`${dir}/.git`).then(() => true, () => false);
    if (!cloned) {
      // Values from the config after --end-of-options (and the branch
      // attached to its option): none can be read as an option of git's.
      await run([
        git,
        "clone",
        "--quiet",
        "--depth",
        "1",
        ...(branch ? [`--branch=${branch}`] : []),
        "--end-of-options",
        source,
        dir,
      ]);
    } else {
      await run([
        git,
        "-C",
        dir,
        "fetch",
        "--quiet",
        "--depth",
        "1",
        "--end-of-options",
        "origin",
        branch || "HEAD",
      ]);
      await run([git, "-C", dir, "reset", "--quiet", "--hard", "FETCH_HEAD"]);
    }
    await Deno.chmod(dir, 0o755);
    this.#fetchedAt = Date.now();
    return dir;
  }

  /** Merges the course files into one user's home, as that user; logs and records it. */
  async mergeFor(
    user: SystemUser,
    options: { actor: string; force?: boolean },
  ): Promise<MergeSummary> {
    const { actor, force = false } = options;
    const { config, events } = this.#deps;
    const src = await this.source(force);
    const dst = `${user.home}/${config.courseFiles.target}`;
    const date = new Date().toISOString().slice(0, 10);
    const python = this.#deps.python ?? "/usr/bin/python3";
    const limit = String(config.courseFiles.maxFileSize);
    const merge = [python, "-c", MERGE_PY, src, dst, date, limit];
    const argv = user.uid === Deno.uid()
      ? merge
      : [this.#deps.setpriv ?? "setpriv", ...setprivArgs(user), ...merge];
    const out = await run(argv, {
      env: { PATH: "/usr/bin:/bin", HOME: user.home, LANG: "C.UTF-8" },
      cwd: user.home,
    });
    const summary = JSON.parse(out.trim().split("\n").at(-1)!) as MergeSummary;
    events.record("course_files.merged", {
      user: user.name,
      actor,
      ...summary,
    });
    return summary;
  }
}

/** What an update of every user did. */
export interface UpdateAll {
  at: string;
  users: number;
  failed: string[];
}

/** Users at a time during an update of everyone. */
const UPDATE_CONCURRENCY = 4;

/**
 * Merges the course files into every given user's home (git fetched first),
 * a few at a time; failures are named, not fatal.
 */
export async function updateAll(
  courseFiles: CourseFiles,
  options: {
    users: readonly SystemUser[];
    actor: string;
    onDone?: (user: string) => void;
  },
): Promise<UpdateAll> {
  const { users, actor, onDone = () => {} } = options;
  await courseFiles.source(true);
  const failed: string[] = [];
  await forEachLimited(users, async (user) => {
    await courseFiles.mergeFor(user, { actor }).catch(() =>
      failed.push(user.name)
    );
    onDone(user.name);
  }, { limit: UPDATE_CONCURRENCY });
  return {
    at: new Date().toISOString(),
    users: users.length,
    failed: failed.sort(),
  };
}
