/**
 * Users' servers for `onehub export z2jh`: `singleuser.*` and the spawner
 * traitlets in `hub.config.Spawner`.
 *
 * - `limits.memory` / `limits.cpu` → `singleuser.memory.limit` /
 *   `singleuser.cpu.limit` (the guarantee, 1G in the chart, lowered to a
 *   smaller limit: a pod asking more than its limit is refused);
 * - `profiles` → `singleuser.profileList` (slug, display_name,
 *   description, default, `kubespawner_override` with `mem_limit`,
 *   `cpu_limit`, `default_url`, `environment`); KubeSpawner 7 has no
 *   per-profile groups, so a profile's `groups` become
 *   `custom.onehubProfileGroups` and a `hub.extraConfig` snippet that makes
 *   `profile_list` a function of the user's groups (KubeSpawner then
 *   refuses a slug the user was not offered);
 * - `limits.groups` → JupyterHub 5's `Spawner.group_overrides`, one entry
 *   per group and limit, in ascending order so the most generous of a
 *   user's groups is applied last and wins, as in onehub; a chosen profile's
 *   limits still win (KubeSpawner applies them after);
 * - `course_files` from git → `singleuser.lifecycleHooks.postStart` running
 *   nbgitpuller's `gitpuller` (in the chart's default image), which merges
 *   like onehub: at each start, keeping the student's changes;
 * - a dynamic per-user volume (`singleuser.storage`, the chart's default).
 *
 * Pure: no I/O.
 *
 * @module
 */
import type { HubConfig } from "../config/mod.ts";
import { isGitUrl } from "../config/mod.ts";
import { type Limits, type Profile, sizeText } from "../servers/profiles.ts";
import type { ExportCollector } from "./_types.ts";

/** The chart's memory guarantee (`singleuser.memory.guarantee: 1G`), in bytes. */
const CHART_GUARANTEE = 1024 ** 3;

/** Where the chart mounts each user's volume. */
export const HOME_MOUNT = "/home/jovyan";

/** KubeSpawner's overrides for a limit set (memory as "2G", with the guarantee when under 1G). */
function limitOverrides(limits: Limits): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (limits.memoryBytes !== undefined) {
    out["mem_limit"] = sizeText(limits.memoryBytes);
    if (limits.memoryBytes < CHART_GUARANTEE) {
      out["mem_guarantee"] = sizeText(limits.memoryBytes);
    }
  }
  if (limits.cpu !== undefined) out["cpu_limit"] = limits.cpu;
  return out;
}

/** Maps `singleuser.*` and the spawner settings. */
export function mapSingleuser(
  out: ExportCollector,
  { config }: { config: HubConfig },
): void {
  const s = config.spawner;
  if (s.defaultUrl) out.set(["singleuser", "defaultUrl"], s.defaultUrl);
  if (Object.keys(s.environment).length) {
    out.set(["singleuser", "extraEnv"], { ...s.environment });
  }
  mapGlobalLimits(out, config);
  mapProfiles(out, config);
  mapGroupLimits(out, config);
  mapCourseFiles(out, config);
  out.set(["singleuser", "storage"], {
    type: "dynamic",
    capacity: "10Gi",
    homeMountPath: HOME_MOUNT,
  });
  out.note(
    "todo",
    "Storage: each user gets a volume of `singleuser.storage.capacity` (10Gi, the chart's default) mounted at /home/jovyan. Measure the homes before choosing (`du -sh /home/*` on this machine) and set a capacity above the largest; most storage classes can grow a volume later, none shrink one.",
  );
  mapSpawnerTraits(out, config);
}

/** `limits.memory` / `limits.cpu` for every server. */
function mapGlobalLimits(out: ExportCollector, config: HubConfig): void {
  const { memoryBytes, cpu, tasks } = config.limits;
  if (memoryBytes !== null) {
    out.set(["singleuser", "memory", "limit"], sizeText(memoryBytes));
    if (memoryBytes < CHART_GUARANTEE) {
      out.set(["singleuser", "memory", "guarantee"], sizeText(memoryBytes));
    }
  }
  if (cpu !== null) out.set(["singleuser", "cpu", "limit"], cpu);
  const groupTasks = Object.values(config.limits.groups).some((l) => l.tasks);
  const profileTasks = config.profiles.some((p) => p.limits.tasks);
  if (tasks || groupTasks || profileTasks) {
    out.note(
      "todo",
      "`tasks` limits (processes per server) have no counterpart in KubeSpawner: Kubernetes limits processes per pod only node-wide (the kubelet's `podPidsLimit`); ask the cluster's administrator.",
    );
  }
}

/** One profile as a KubeSpawner `profile_list` entry. */
function profileValue(p: Profile): Record<string, unknown> {
  const override = {
    ...limitOverrides(p.limits),
    ...(p.defaultUrl ? { "default_url": p.defaultUrl } : {}),
    ...(Object.keys(p.environment).length
      ? { environment: p.environment }
      : {}),
  };
  return {
    "display_name": p.displayName,
    slug: p.slug,
    ...(p.description ? { description: p.description } : {}),
    ...(p.default ? { default: true } : {}),
    ...(Object.keys(override).length
      ? { "kubespawner_override": override }
      : {}),
  };
}

/** `profiles` → `singleuser.profileList`, and the groups filter when a profile names groups. */
function mapProfiles(out: ExportCollector, config: HubConfig): void {
  if (config.profiles.length === 0) return;
  out.set(["singleuser", "profileList"], config.profiles.map(profileValue));
  out.note(
    "moved",
    `${config.profiles.length} profile(s) are in \`singleuser.profileList\` with the same slugs, so \`{"profile": "<slug>"}\` in a start request picks the same one.`,
  );
  const restricted = config.profiles.filter((p) => p.groups.length);
  if (restricted.length === 0) return;
  out.set(
    ["custom", "onehubProfileGroups"],
    Object.fromEntries(restricted.map((p) => [p.slug, [...p.groups]])),
  );
  out.set(
    ["hub", "extraConfig", "onehub-profile-groups.py"],
    PROFILE_GROUPS_PY,
  );
  out.note(
    "moved",
    "KubeSpawner 7 has no groups per profile: `custom.onehubProfileGroups` lists them and `hub.extraConfig.onehub-profile-groups.py` offers each user only the profiles open to their groups (a start naming another profile is refused, as in onehub).",
  );
}

/** Makes KubeSpawner's `profile_list` a function of the user's groups. */
const PROFILE_GROUPS_PY =
  `# onehub's profile "groups": a profile listed in custom.onehubProfileGroups
# is offered only to members of those groups.
from z2jh import get_config as _onehub_get_config

_onehub_profile_groups = _onehub_get_config("custom.onehubProfileGroups", {})
_onehub_profiles = c.KubeSpawner.profile_list


def _onehub_profile_list(spawner):
    groups = {g.name for g in spawner.user.groups}
    return [
        p
        for p in _onehub_profiles
        if not _onehub_profile_groups.get(p.get("slug"))
        or groups & set(_onehub_profile_groups[p["slug"]])
    ]


c.KubeSpawner.profile_list = _onehub_profile_list
`;

/**
 * `limits.groups` → `Spawner.group_overrides`: per limit, the groups in
 * ascending order, so a user in several groups ends with the largest.
 */
function mapGroupLimits(out: ExportCollector, config: HubConfig): void {
  const groups = Object.entries(config.limits.groups);
  const overrides: Record<string, unknown> = {};
  for (
    const [index, key] of (["memoryBytes", "cpu"] as const).entries()
  ) {
    const ranked = groups.filter(([, l]) => l[key] !== undefined)
      .sort(([, a], [, b]) => a[key]! - b[key]!);
    ranked.forEach(([group, l], i) => {
      const name = `onehub-limits-${index + 1}-${
        key === "cpu" ? "cpu" : "memory"
      }-${String(i).padStart(3, "0")}`;
      overrides[name] = {
        groups: [group],
        "spawner_override": limitOverrides({ [key]: l[key] }),
      };
    });
  }
  if (Object.keys(overrides).length === 0) return;
  out.set(["hub", "config", "Spawner", "group_overrides"], overrides);
  out.note(
    "moved",
    "`limits.groups` is in `hub.config.Spawner.group_overrides` (JupyterHub 5), ordered so that a user in several groups gets the largest memory and CPU any of them allows, as in onehub; a profile's own limits still win. One difference: where one of a user's groups sets a limit and another leaves it unset, onehub kept the global limit and JupyterHub applies the group's.",
  );
}

/** Shell-quotes one word. */
function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'"'"'`)}'`;
}

/** `course_files` → a postStart `gitpuller` (git), or a note (a directory). */
function mapCourseFiles(out: ExportCollector, config: HubConfig): void {
  const { source, target, branch } = config.courseFiles;
  if (!source) return;
  if (!isGitUrl(source)) {
    out.note(
      "todo",
      `Course files come from the directory ${source} on this machine, which pods cannot see. Put them in a git repository and add \`singleuser.lifecycleHooks.postStart\` running \`gitpuller <repository> <branch> ${HOME_MOUNT}/${target}\` (nbgitpuller, in the chart's default image), or build them into your own \`singleuser.image\`.`,
    );
    return;
  }
  const pull = `gitpuller ${shellQuote(source)} ${
    shellQuote(branch)
  } "\${HOME:-${HOME_MOUNT}}"/${shellQuote(target)} || true`;
  out.set(["singleuser", "lifecycleHooks", "postStart", "exec", "command"], [
    "sh",
    "-c",
    pull,
  ]);
  out.note(
    "moved",
    `Course files: \`singleuser.lifecycleHooks.postStart\` runs nbgitpuller's \`gitpuller\` at each server start, merging ${source} into ~/${target} and keeping students' changes, as onehub did. It is in the chart's default image (quay.io/jupyterhub/k8s-singleuser-sample, with git); a postStart hook runs in the user's own container with their volume mounted, which an init container would not without extra volume wiring. To update running servers without a restart, send students the nbgitpuller link: ${
      nbgitpullerLink(config)
    }`,
  );
  if (!source.startsWith("https://") && !source.startsWith("http://")) {
    out.note(
      "todo",
      `Course files come from ${source}: a pod has no SSH keys or credentials, so use a public https:// URL (or add credentials to the image).`,
    );
  }
}

/** The nbgitpuller link that pulls the course files into a user's server now. */
export function nbgitpullerLink(config: HubConfig): string {
  const { source, target, branch } = config.courseFiles;
  const origin = config.publicUrl
    ? new URL(config.publicUrl).origin
    : "https://<hub address>";
  const lab = !config.spawner.defaultUrl.startsWith("/tree");
  const query = new URLSearchParams({
    repo: source,
    ...(branch ? { branch } : {}),
    targetpath: target,
    urlpath: `${lab ? "lab/tree" : "tree"}/${target}`,
  });
  return `${origin}${config.baseUrl}hub/user-redirect/git-pull?${query}`;
}

/** Spawner traitlets with the same meaning on Kubernetes → `hub.config.Spawner`. */
function mapSpawnerTraits(out: ExportCollector, config: HubConfig): void {
  const s = config.spawner;
  const base = ["hub", "config", "Spawner"];
  if (s.debug) out.set([...base, "debug"], true);
  if (s.disableUserConfig) out.set([...base, "disable_user_config"], true);
  if (s.serverTokenScopes.length) {
    out.set([...base, "server_token_scopes"], [...s.serverTokenScopes]);
  }
  if (s.oauthClientAllowedScopes.length) {
    out.set([...base, "oauth_client_allowed_scopes"], [
      ...s.oauthClientAllowedScopes,
    ]);
  }
  out.note(
    "todo",
    `Settings of one machine with no counterpart in a pod: there are no Linux accounts (\`spawner.user_prefix\`, \`create_system_users\`, \`min_uid\`: every server runs as jovyan, uid 1000, on its own volume), the hub's environment does not reach servers (\`spawner.env_keep\`: put variables in \`singleuser.extraEnv\`), \`spawner.cmd\`${
      s.notebookDir ? " and `spawner.notebook_dir` (" + s.notebookDir + ")" : ""
    } name paths of this machine (the image decides; the chart runs jupyterhub-singleuser), and Kubernetes places servers on nodes with room for their memory guarantee instead of \`spawner.min_free_memory\`, \`start_nice\`, \`concurrent_limit\` and \`queue_limit\`.`,
  );
}
