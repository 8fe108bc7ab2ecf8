/**
 * The keys of the hub's own addresses and state: the public port (`http.*`),
 * `base_url`, `public_url`, `subdomain_host`, the state files under
 * `data_dir` and `log.level`.
 *
 * @module
 */
import { type ConfigValues, invalid, type KeySpec } from "../schema.ts";

function normalizeDataDir(dir: string): string {
  return dir.replace(/\/+$/, "") || "/";
}

/** The resolve of a file key: its value, else `name` in `data_dir`. */
function inDataDir(
  name: string,
): (value: string, values: ConfigValues) => string {
  return (v, values) =>
    v || `${normalizeDataDir(values.string("data_dir"))}/${name}`;
}

/** `""` or the origin of a URL the checks accepted. */
function originOf(value: string): string {
  try {
    return value === "" ? "" : new URL(value).origin;
  } catch {
    return ""; // its own key's check reports it
  }
}

function checkPublicUrl(value: string): string | null {
  if (value === "") return null;
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch { /* reported below */ }
  const ok = url && /^https?:$/.test(url.protocol) && url.pathname === "/" &&
    !url.username && !url.password && !/[?#]/.test(value);
  return ok ? null : invalid("public_url", {
    value,
    expected: 'an origin such as "https://hub.example.org"',
  });
}

/** An origin whose host can have subdomains, agreeing with public_url. */
function checkSubdomainHost(
  value: string,
  values: ConfigValues,
): string | null {
  if (value === "") return null;
  const shape = checkPublicUrl(value)?.replace(
    '"public_url"',
    '"subdomain_host"',
  );
  if (shape) return shape;
  const host = new URL(value).hostname;
  if (/^[0-9.]+$/.test(host) || host.startsWith("[")) {
    return invalid("subdomain_host", {
      value,
      expected:
        "a host name, not an IP address: users get <name>.<host> (wildcard DNS)",
    });
  }
  const publicUrl = values.string("public_url");
  if (publicUrl && new URL(publicUrl).origin !== new URL(value).origin) {
    return `Invalid settings: "subdomain_host" (${value}) and "public_url" (${publicUrl}) name different origins; set only subdomain_host, or the same origin in both`;
  }
  return null;
}

/** The public port, URLs, state files and log level, in table order. */
export const HUB_KEYS = [
  {
    key: "http.ip",
    field: "http.ip",
    kind: "string",
    default: "127.0.0.1",
    reload: "restart",
    doc: "Address the public port binds to (0.0.0.0 for all)",
  },
  {
    key: "http.port",
    field: "http.port",
    kind: "int",
    default: 8000,
    min: 0,
    max: 65535,
    reload: "restart",
    doc: "Public port (0 picks a free one)",
  },
  {
    key: "http.max_form_size",
    field: "http.maxFormSize",
    kind: "int",
    default: 65536,
    min: 1024,
    max: 16777216,
    reload: "live",
    doc:
      "Largest HTML form body in bytes (login, spawn options, OAuth forms); larger ones get 413",
  },
  {
    key: "http.lingering_bytes",
    field: "http.lingeringBytes",
    kind: "int",
    default: 1073741824,
    min: 0,
    max: 17179869184,
    reload: "restart",
    doc:
      "Bytes of a request body the public port still reads and discards after an early answer (e.g. 413), so the client reads the answer; then the connection closes",
  },
  {
    key: "http.lingering_time",
    field: "http.lingeringTimeSeconds",
    kind: "int",
    default: 30,
    min: 0,
    max: 600,
    reload: "restart",
    doc:
      "Seconds in all a client may go on sending a body after an early answer (nginx lingering_time)",
  },
  {
    key: "http.lingering_timeout",
    field: "http.lingeringTimeoutSeconds",
    kind: "int",
    default: 5,
    min: 0,
    max: 600,
    reload: "restart",
    doc:
      "Seconds without a byte after which such a lingering connection closes (nginx lingering_timeout)",
  },
  {
    key: "base_url",
    field: "baseUrl",
    kind: "url_path",
    default: "/",
    reload: "restart",
    doc: "URL prefix of everything: the hub is at {base_url}hub/",
  },
  {
    key: "public_url",
    field: "publicUrl",
    kind: "string",
    default: "",
    reload: "restart",
    doc:
      "Public origin, e.g. https://hub.example.org (enables full_url fields and strict next checks)",
    check: checkPublicUrl,
    // As in JupyterHub, subdomain_host is the public origin when public_url is unset.
    resolve: (v, values) => originOf(v || values.string("subdomain_host")),
  },
  {
    key: "subdomain_host",
    field: "subdomainHost",
    kind: "string",
    default: "",
    reload: "restart",
    doc:
      "Give each user's server its own origin, <user>.<host>, e.g. https://hub.example.org (wildcard DNS; README: Per-user origins)",
    check: checkSubdomainHost,
    resolve: originOf,
  },
  {
    key: "data_dir",
    field: "dataDir",
    kind: "string",
    default: "/var/lib/onehub",
    reload: "restart",
    doc: "State directory (database, cookie secret)",
    resolve: normalizeDataDir,
  },
  {
    key: "db_path",
    field: "dbPath",
    kind: "string",
    default: "",
    reload: "restart",
    doc: "SQLite file; default {data_dir}/onehub.sqlite",
    resolve: inDataDir("onehub.sqlite"),
  },
  {
    key: "cookie_secret_file",
    field: "cookieSecretFile",
    kind: "string",
    default: "",
    reload: "restart",
    doc:
      "Cookie secret; default {data_dir}/cookie_secret (made 0600 when missing)",
    resolve: inDataDir("cookie_secret"),
  },
  {
    key: "auth.crypt_key_file",
    field: "auth.cryptKeyFile",
    kind: "string",
    default: "",
    reload: "restart",
    doc:
      "Key that seals users' auth state (provider tokens); default {data_dir}/auth_state_key (made 0600 when missing); JUPYTERHUB_CRYPT_KEY in the environment takes its place",
    resolve: inDataDir("auth_state_key"),
  },
  {
    key: "log.level",
    field: "logLevel",
    kind: "enum",
    default: "info",
    values: ["debug", "info", "warn", "error"],
    reload: "restart",
    doc: "Log level",
  },
] as const satisfies readonly KeySpec[];
