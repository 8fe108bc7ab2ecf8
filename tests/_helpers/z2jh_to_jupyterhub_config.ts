/**
 * A Zero to JupyterHub values.yaml as the jupyterhub_config.py lines the
 * chart would make of it (jupyterhub/files/hub/jupyterhub_config.py of
 * jupyterhub/zero-to-jupyterhub-k8s at 4.4.0, commit 5c5f5df7), so a
 * plain JupyterHub can be started with the part of an export that is
 * JupyterHub's own configuration. In the chart's order:
 *
 * 1. the `hub.*` keys the chart copies onto `c.JupyterHub` (`baseUrl` →
 *    `base_url`, `allowNamedServers`, `namedServerLimitPerUser`,
 *    `authenticatePrometheus`, `redirectToServer`, `shutdownOnLogout`,
 *    `templatePaths`, `templateVars`, `concurrentSpawnLimit`,
 *    `activeServerLimit`), each only when set;
 * 2. `hub.services` → `c.JupyterHub.services`, the list of the dict's
 *    values, each with its key as `name` unless it has one (`apiToken` →
 *    `api_token`; the chart takes it from its Secret, generated when
 *    missing, which a plain JupyterHub does for a managed service itself);
 * 3. `hub.loadRoles` → `c.JupyterHub.load_roles`, the list of the dict's
 *    values, each with its key as `name` unless it has one;
 * 4. every `hub.config.<Class>.<trait>` → `c.<Class>.<trait> = <literal>`
 *    (the chart's `c[section].update(cfg)`, last, so it wins), without the
 *    secrets the chart seeds itself (`JupyterHub.cookie_secret`,
 *    `proxy_auth_token` and `services`, `ConfigurableHTTPProxy.auth_token`,
 *    `CryptKeeper.keys`); a section whose name does not start with a capital
 *    stops the chart's hub ("FATAL: Invalid hub.config section name"), and
 *    stops this too.
 *
 * Left out, as they need Kubernetes: KubeSpawner (`singleuser.*`), the
 * proxy and database wiring, `hub.extraConfig`, and the idle culler the
 * chart adds as a managed service with its own role when `cull.enabled`.
 * A `REPLACE-ME` placeholder anywhere in what is converted is an error that
 * names its path: the export left a value to fill in, and the hub it
 * describes cannot start.
 *
 * @module
 */
import { loadYaml } from "../../hub/config/file.ts";

type Json = Record<string, unknown>;

function isMap(value: unknown): value is Json {
  return value !== null && typeof value === "object" &&
    !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype;
}

/**
 * A JSON value as a Python literal: dicts, lists, strings, numbers,
 * booleans, null → `None`.
 *
 * @throws {TypeError} on anything else (a date, a non-finite number, …).
 */
export function pythonLiteral(value: unknown): string {
  if (value === null || value === undefined) return "None";
  if (typeof value === "boolean") return value ? "True" : "False";
  if (typeof value === "number") {
    if (!Number.isFinite(value)) {
      throw new TypeError(`${value} has no JSON form`);
    }
    return String(value);
  }
  // JSON's escapes (\" \\ \b \f \n \r \t \uXXXX) are all Python's too.
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(pythonLiteral).join(", ")}]`;
  if (isMap(value)) {
    const items = Object.entries(value).map(([k, v]) =>
      `${JSON.stringify(k)}: ${pythonLiteral(v)}`
    );
    return `{${items.join(", ")}}`;
  }
  throw new TypeError(
    `${Object.prototype.toString.call(value)} is not a JSON value`,
  );
}

/** The `hub.*` keys the chart sets on `c.JupyterHub`, by trait. */
const HUB_TRAITS = [
  "concurrent_spawn_limit",
  "active_server_limit",
  "base_url",
  "allow_named_servers",
  "named_server_limit_per_user",
  "authenticate_prometheus",
  "redirect_to_server",
  "shutdown_on_logout",
  "template_paths",
  "template_vars",
] as const;

/** The chart's camelCaseify: `base_url` → `baseUrl`. */
function camelCase(trait: string): string {
  return trait.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** The traits the chart drops from each `hub.config` section (it seeds them from its Secret). */
const SEEDED: Readonly<Record<string, readonly string[]>> = {
  JupyterHub: ["proxy_auth_token", "cookie_secret", "services"],
  ConfigurableHTTPProxy: ["auth_token"],
  CryptKeeper: ["keys"],
};

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A dict of dicts (`hub.services`, `hub.loadRoles`) as the chart's list, key as `name` unless set. */
function namedList(dict: unknown, where: string): Json[] {
  if (dict === undefined || dict === null) return [];
  if (!isMap(dict)) throw new Error(`${where} is not a mapping`);
  return Object.entries(dict).map(([key, value]) => {
    if (!isMap(value)) throw new Error(`${where}.${key} is not a mapping`);
    return { name: key, ...value };
  });
}

/** `hub.services` as `c.JupyterHub.services` entries (`apiToken` → `api_token`). */
function services(dict: unknown): Json[] {
  return namedList(dict, "hub.services").map(({ apiToken, ...rest }) =>
    apiToken ? { ...rest, "api_token": apiToken } : rest
  );
}

/** The paths of the strings holding `REPLACE-ME` under `value`. */
function placeholders(value: unknown, path: string): string[] {
  if (typeof value === "string") {
    return value.includes("REPLACE-ME") ? [`${path} = ${value}`] : [];
  }
  if (Array.isArray(value)) {
    return value.flatMap((v, i) => placeholders(v, `${path}[${i}]`));
  }
  if (isMap(value)) {
    return Object.entries(value).flatMap(([k, v]) =>
      placeholders(v, `${path}.${k}`)
    );
  }
  return [];
}

/** `hub.config` as `c.<Class>.<trait> = …` lines. */
function configLines(config: unknown): string[] {
  if (config === undefined || config === null) return [];
  if (!isMap(config)) throw new Error("hub.config is not a mapping");
  const lines: string[] = [];
  for (const [section, traits] of Object.entries(config)) {
    if (!/^[A-Z]/.test(section) || !IDENTIFIER.test(section)) {
      throw new Error(
        `hub.config.${section}: not a Configurable class name (the chart's hub stops: "FATAL: Invalid hub.config section name")`,
      );
    }
    if (!isMap(traits)) {
      throw new Error(`hub.config.${section} is not a mapping`);
    }
    for (const [trait, value] of Object.entries(traits)) {
      if (SEEDED[section]?.includes(trait)) continue;
      if (!IDENTIFIER.test(trait)) {
        throw new Error(`hub.config.${section}.${trait}: not a trait name`);
      }
      lines.push(`c.${section}.${trait} = ${pythonLiteral(value)}`);
    }
  }
  return lines;
}

/**
 * The jupyterhub_config.py lines (from `c = get_config()`) the chart makes
 * of `values`' `hub` section, one per trait, ending with a newline.
 *
 * @throws {Error} naming the paths of `REPLACE-ME` placeholders, or what
 *   is not the shape the chart reads.
 */
export function valuesToJupyterhubConfig(values: Json): string {
  const hub = values.hub ?? {};
  if (!isMap(hub)) throw new Error("hub is not a mapping");
  const converted = {
    services: hub.services,
    loadRoles: hub.loadRoles,
    config: hub.config,
  };
  const left = placeholders(converted, "hub");
  if (left.length) {
    throw new Error(
      `values.yaml still has ${left.length} REPLACE-ME placeholder(s) to fill in (see MIGRATION.md), so JupyterHub cannot start with it:\n  ${
        left.join("\n  ")
      }`,
    );
  }
  const lines = ["c = get_config()  # noqa"];
  for (const trait of HUB_TRAITS) {
    const value = hub[camelCase(trait)];
    if (value !== undefined && value !== null) {
      lines.push(`c.JupyterHub.${trait} = ${pythonLiteral(value)}`);
    }
  }
  lines.push(
    `c.JupyterHub.services = ${pythonLiteral(services(hub.services))}`,
    `c.JupyterHub.load_roles = ${
      pythonLiteral(namedList(hub.loadRoles, "hub.loadRoles"))
    }`,
    ...configLines(hub.config),
  );
  return lines.join("\n") + "\n";
}

/**
 * values.yaml text (read as YAML 1.1, as Helm and the chart's PyYAML read
 * it) → {@linkcode valuesToJupyterhubConfig}.
 */
export async function z2jhToJupyterhubConfig(
  valuesYaml: string,
): Promise<string> {
  const { parse } = await loadYaml();
  const values: unknown = parse(valuesYaml, { version: "1.1" });
  if (!isMap(values)) throw new Error("values.yaml is not a mapping");
  return valuesToJupyterhubConfig(values);
}
