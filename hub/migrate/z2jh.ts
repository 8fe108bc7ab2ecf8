/**
 * `onehub export z2jh`: the hub as a Zero to JupyterHub values file (the
 * Helm chart 4.x, which runs JupyterHub 5 with KubeSpawner 7 and
 * oauthenticator 17), and what could not be carried over.
 *
 * {@linkcode exportZ2jh} is a pure function of the resolved config, a
 * snapshot of the database (hub/migrate/snapshot.ts) and the export's
 * options; its parts live beside it: z2jh_auth.ts (the authenticator and
 * allow rules), z2jh_access.ts (groups, roles, services), z2jh_servers.ts
 * (`singleuser`: limits, profiles, course files, storage). This file maps
 * the hub's own settings, the culler and HTTPS, and says what does not
 * move (home directories, API tokens, sessions, shares).
 *
 * tests/hub/migrate/z2jh_test.ts validates the output against the chart's
 * values schema (tests/fixtures/z2jh/).
 *
 * @module
 */
import type { HubConfig } from "../config/mod.ts";
import type { HubSnapshot } from "./snapshot.ts";
import {
  ExportCollector,
  type ExportOptions,
  type ExportResult,
} from "./_types.ts";
import { mapAuthenticator } from "./z2jh_auth.ts";
import { mapGroups, mapRoles, mapServices } from "./z2jh_access.ts";
import { HOME_MOUNT, mapSingleuser } from "./z2jh_servers.ts";

export type {
  ExportOptions,
  ExportResult,
  Note,
  NoteTopic,
  OidcEndpoints,
  YamlComment,
} from "./_types.ts";
export { CHOOSE_AUTHENTICATOR, secretPlaceholder } from "./z2jh_auth.ts";

/** The chart version the values are written for (and validated against). */
export const Z2JH_CHART_VERSION = "4.4.0";

/** What {@linkcode exportZ2jh} reads. */
export interface Z2jhInput {
  config: HubConfig;
  snapshot: HubSnapshot;
}

/**
 * The values and notes for the hub of `input`.
 *
 * @example A hub with one admin and the built-in culler
 * ```ts
 * import { resolveConfig } from "../config/mod.ts";
 * import { EMPTY_SNAPSHOT } from "./snapshot.ts";
 * import { exportZ2jh } from "./z2jh.ts";
 *
 * const config = resolveConfig({ file: { users: { admin: ["ada"] } } });
 * const { values } = exportZ2jh({ config, snapshot: EMPTY_SNAPSHOT }, {
 *   includeSecrets: false,
 *   discovery: null,
 * });
 * console.log((values.cull as { timeout: number }).timeout); // 600
 * ```
 */
export function exportZ2jh(
  input: Z2jhInput,
  options: ExportOptions,
): ExportResult {
  const out = new ExportCollector();
  const all = { ...input, options };
  notMoved(out, input); // first in MIGRATION.md's list: what every hub has
  mapHub(out, input.config);
  mapAuthenticator(out, all);
  mapGroups(out, input);
  mapRoles(out, input);
  mapServices(out, all);
  mapAnnouncement(out, input);
  mapSingleuser(out, input);
  mapCull(out, input.config);
  mapHttps(out, input.config);
  return out.result();
}

/** The hub's own JupyterHub settings. */
function mapHub(out: ExportCollector, config: HubConfig): void {
  out.set(["hub", "baseUrl"], config.baseUrl);
  const jh = ["hub", "config", "JupyterHub"];
  if (config.publicUrl) out.set([...jh, "public_url"], config.publicUrl);
  if (config.subdomainHost) {
    out.set([...jh, "subdomain_host"], config.subdomainHost);
    out.note(
      "todo",
      `\`subdomain_host\` (${config.subdomainHost}) moved: each server gets its own host, so the cluster needs wildcard DNS (*.${
        new URL(config.subdomainHost).hostname
      }) pointing at the proxy and a wildcard certificate; Let's Encrypt's http-01 (\`proxy.https.type: letsencrypt\`) cannot issue one, so use \`type: secret\` with your own, or an ingress with cert-manager and DNS-01.`,
    );
  }
  if (Object.keys(config.customScopes).length) {
    out.set([...jh, "custom_scopes"], config.customScopes);
  }
  if (config.session.maxAgeSeconds !== 1209600) {
    out.set(
      [...jh, "cookie_max_age_days"],
      config.session.maxAgeSeconds / 86400,
    );
  }
  if (config.tokens.maxExpiresInSeconds > 0) {
    out.set(
      [...jh, "token_expires_in_max_seconds"],
      config.tokens.maxExpiresInSeconds,
    );
  }
  if (config.spawner.namedServers) {
    out.set(["hub", "allowNamedServers"], true);
    out.set(
      ["hub", "namedServerLimitPerUser"],
      config.spawner.namedServerLimit,
    );
  }
  if (config.session.shutdownOnLogout) {
    out.set(["hub", "shutdownOnLogout"], true);
  }
  if (!config.metrics.authenticate) {
    out.set(["hub", "authenticatePrometheus"], false);
  }
}

/** Escapes text for HTML (JupyterHub shows `announcement` unescaped). */
function escapeHtml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;").replaceAll('"', "&quot;");
}

/** The banner (the admin page's, else the config's) → `hub.templateVars.announcement`. */
function mapAnnouncement(out: ExportCollector, input: Z2jhInput): void {
  const text = input.snapshot.announcement || input.config.announcement;
  if (!text) return;
  out.set(["hub", "templateVars", "announcement"], escapeHtml(text));
  out.note(
    "moved",
    "The announcement is `hub.templateVars.announcement` (HTML-escaped: JupyterHub's templates show it as HTML, on every page). Change it there; JupyterHub has no admin-page field for it.",
  );
}

/** The built-in culler → the chart's jupyterhub-idle-culler (`cull.*`). */
function mapCull(out: ExportCollector, config: HubConfig): void {
  const c = config.cull;
  out.set(["cull"], {
    enabled: c.enabled,
    users: c.users,
    adminUsers: c.adminUsers,
    removeNamedServers: c.removeNamedServers,
    timeout: c.timeoutSeconds,
    every: c.everySeconds,
    concurrency: c.concurrency,
    maxAge: c.maxAgeSeconds,
  });
}

/** HTTPS → `proxy.https` (Let's Encrypt, or a Secret holding your certificate). */
function mapHttps(out: ExportCollector, config: HubConfig): void {
  const h = config.https;
  const host = config.publicUrl ? [new URL(config.publicUrl).hostname] : [];
  if (h.letsencrypt.domains.length) {
    out.set(["proxy", "https"], {
      enabled: true,
      type: "letsencrypt",
      hosts: [...h.letsencrypt.domains],
      letsencrypt: {
        contactEmail: h.letsencrypt.email,
        ...(h.letsencrypt.directory.includes("staging")
          ? { acmeServer: h.letsencrypt.directory }
          : {}),
      },
    });
    out.note(
      "todo",
      "HTTPS: `proxy.https` asks Let's Encrypt for the same domains; point their DNS at the `proxy-public` service's external address before installing (port 80 must reach it for the challenge).",
    );
  } else if (h.enabled) {
    out.set(["proxy", "https"], {
      enabled: true,
      type: "secret",
      ...(host.length ? { hosts: host } : {}),
      secret: { name: "onehub-tls", key: "tls.key", crt: "tls.crt" },
    });
    out.note(
      "fill",
      `\`proxy.https.secret\`: put the certificate in a Kubernetes Secret before installing: \`kubectl create secret tls onehub-tls --cert=${h.cert} --key=${h.key} --namespace <namespace>\`.`,
    );
  } else {
    out.note(
      "todo",
      "HTTPS: onehub served plain HTTP. On a cluster, turn on `proxy.https` (type `letsencrypt` with `hosts` and `letsencrypt.contactEmail`) or put an ingress with a certificate in front.",
    );
  }
}

/** What does not move, and what to do (MIGRATION.md's second half). */
function notMoved(out: ExportCollector, input: Z2jhInput): void {
  const { config, snapshot } = input;
  const prefix = config.spawner.userPrefix;
  out.note(
    "todo",
    `Home directories do not move by themselves. Each user's files go onto their own volume (PVC \`claim-<name>\`, created at their first start; \`kubectl get pvc\` shows the exact names). For each user, with a pod that mounts the claim: \`kubectl run copy-alice --image=busybox --restart=Never --overrides='{"spec":{"volumes":[{"name":"home","persistentVolumeClaim":{"claimName":"claim-alice"}}],"containers":[{"name":"copy","image":"busybox","command":["sleep","3600"],"volumeMounts":[{"name":"home","mountPath":"${HOME_MOUNT}"}]}]}}'\`, then \`tar -C /home/${prefix}alice -cf - . | kubectl exec -i copy-alice -- tar -C ${HOME_MOUNT} -xf -\`, \`kubectl exec copy-alice -- chown -R 1000:100 ${HOME_MOUNT}\` and \`kubectl delete pod copy-alice\`. Stop the user's server first.`,
  );
  tokenNote(out, snapshot);
  out.note(
    "todo",
    "Sessions and running servers do not move: everyone signs in again and starts their server again. The cookie secret is not exported (JupyterHub's sessions live in its own database, so onehub's would not help); the chart generates one, and the key for auth state (`CryptKeeper`) too. Stored provider tokens (auth state) are not carried: they refresh at the next sign-in.",
  );
  if (snapshot.shares) {
    out.note(
      "todo",
      `${snapshot.shares} share(s) of servers exist in onehub; a values file cannot hold them. ${
        config.sharing.enabled
          ? "Sharing is on in values.yaml (the `user` role), so owners can share again from JupyterHub's home page."
          : ""
      }`.trim(),
    );
  }
  out.note(
    "todo",
    "The event log stays in onehub's database: keep it with `onehub events --since 3650d --json > events.jsonl` before you retire this machine.",
  );
}

/** API tokens are hashed: they cannot move; who must make new ones. */
function tokenNote(out: ExportCollector, snapshot: HubSnapshot): void {
  const holders = snapshot.tokens.map((t) => `${t.user} (${t.tokens})`);
  const shown = holders.slice(0, 30).join(", ") +
    (holders.length > 30 ? `, and ${holders.length - 30} more` : "");
  out.note(
    "todo",
    "API tokens cannot move: onehub keeps only their hashes. " +
      (holders.length
        ? `These users hold tokens and must make new ones in JupyterHub (its /hub/token page) and update the scripts that use them: ${shown}.`
        : "No user holds one today."),
  );
}
