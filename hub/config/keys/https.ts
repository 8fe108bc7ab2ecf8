/**
 * The `https.*` keys: TLS from files or Let's Encrypt, the redirecting plain
 * port and HSTS.
 *
 * @module
 */
import type { ConfigValues, KeySpec } from "../schema.ts";
import { quote } from "../../errors.ts";

function checkHttps(enabled: boolean, values: ConfigValues): string | null {
  const hasFiles = values.string("https.tls.cert") &&
    values.string("https.tls.key");
  if (!enabled || hasFiles || values.list("https.letsencrypt.domains").length) {
    return null;
  }
  return 'Invalid HTTPS settings: "https.enabled" is true but "https.tls.cert" or "https.tls.key" is empty; ' +
    "set both to PEM files, set https.letsencrypt.domains, or set https.enabled to false";
}

const DNS_NAME =
  /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;

function checkDomains(domains: readonly string[]): string | null {
  const bad = domains.find((d) => !DNS_NAME.test(d));
  return bad === undefined
    ? null
    : `Invalid value in "https.letsencrypt.domains": ${
      quote(bad, 80)
    }; expected a DNS name such as "hub.example.org"`;
}

/** The `https.*` keys, in table order. */
export const HTTPS_KEYS = [
  {
    key: "https.enabled",
    field: "https.enabled",
    kind: "bool",
    default: false,
    reload: "restart",
    doc: "Serve HTTPS on https.port with https.tls.cert and https.tls.key",
    check: checkHttps,
  },
  {
    key: "https.port",
    field: "https.port",
    kind: "int",
    default: 443,
    min: 0,
    max: 65535,
    reload: "restart",
    doc: "HTTPS port",
  },
  {
    key: "https.tls.cert",
    field: "https.cert",
    kind: "string",
    default: "",
    reload: "restart",
    doc: "PEM certificate chain file",
  },
  {
    key: "https.tls.key",
    field: "https.key",
    kind: "string",
    default: "",
    reload: "restart",
    doc: "PEM private key file",
  },
  {
    key: "https.letsencrypt.email",
    field: "https.letsencrypt.email",
    kind: "string",
    default: "",
    reload: "restart",
    doc:
      "Contact e-mail for Let's Encrypt (expiry notices); with domains, certificates are obtained and renewed by ACME http-01",
  },
  {
    key: "https.letsencrypt.domains",
    field: "https.letsencrypt.domains",
    kind: "list",
    default: [],
    reload: "restart",
    doc:
      "Domains to get a Let's Encrypt certificate for (they must reach this machine on port 80 = http.port); replaces https.tls.*",
    check: checkDomains,
  },
  {
    key: "https.letsencrypt.directory",
    field: "https.letsencrypt.directory",
    kind: "string",
    default: "https://acme-v02.api.letsencrypt.org/directory",
    reload: "restart",
    doc:
      "ACME directory URL (Let's Encrypt staging: https://acme-staging-v02.api.letsencrypt.org/directory)",
  },
  {
    key: "https.redirect_http",
    field: "https.redirectHttp",
    kind: "bool",
    default: true,
    reload: "restart",
    doc:
      "With HTTPS on, answer plain HTTP on http.port with a redirect to HTTPS",
  },
  {
    key: "https.hsts",
    field: "https.hsts",
    kind: "bool",
    default: false,
    reload: "restart",
    doc:
      "Send Strict-Transport-Security on HTTPS responses (browsers then refuse plain HTTP for this host)",
  },
  {
    key: "https.hsts_max_age",
    field: "https.hstsMaxAge",
    kind: "int",
    default: 31536000,
    min: 0,
    max: 63072000,
    reload: "restart",
    doc: "max-age of Strict-Transport-Security in seconds",
  },
] as const satisfies readonly KeySpec[];
