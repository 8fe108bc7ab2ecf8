/**
 * Message heads: parsing (RFC 9112 §3–§6), body framing, hop-by-hop
 * stripping (RFC 9110 §7.6.1: `Connection` and every field it names) and
 * the `X-Forwarded-*` fields (as configurable-http-proxy sets them). Pure.
 *
 * @module
 */
import { type Framing, ProtocolError } from "./http1.ts";

/** Header fields in arrival order, names as sent. */
export type HeaderList = Array<[string, string]>;

/** A parsed request head. */
export interface RequestHead {
  method: string;
  /** The request-target as sent (origin-form path + query). */
  target: string;
  /** "HTTP/1.1" or "HTTP/1.0". */
  version: string;
  headers: HeaderList;
}

/** A parsed response head. */
export interface ResponseHead {
  version: string;
  status: number;
  reason: string;
  headers: HeaderList;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f]/;

function parseFields(lines: string[]): HeaderList {
  const out: HeaderList = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(":");
    if (colon <= 0) throw new ProtocolError(400, "Malformed header line");
    const name = line.slice(0, colon);
    // No whitespace before the colon (RFC 9112 §5.1) and no obsolete folding.
    if (!TOKEN.test(name)) {
      throw new ProtocolError(400, "Malformed header name");
    }
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, "");
    // A bare CR or LF (or NUL) inside a value could end the field for the next hop but not
    // for us: that difference is how requests are smuggled (RFC 9112 §2.2, RFC 9110 §5.5).
    if (CONTROL.test(value)) {
      throw new ProtocolError(400, "Malformed header value");
    }
    out.push([name, value]);
  }
  return out;
}

/** Parses a request head. @throws {ProtocolError} 400/501/505. */
export function parseRequestHead(text: string): RequestHead {
  const lines = text.split("\r\n");
  const parts = lines[0]!.split(" ");
  if (parts.length !== 3) {
    throw new ProtocolError(400, "Malformed request line");
  }
  const [method, target, version] = parts as [string, string, string];
  if (!TOKEN.test(method)) {
    throw new ProtocolError(400, "Malformed request method");
  }
  if (version !== "HTTP/1.1" && version !== "HTTP/1.0") {
    throw new ProtocolError(505, "Only HTTP/1.0 and HTTP/1.1 are supported");
  }
  // deno-lint-ignore no-control-regex
  if (target === "" || /[\u0000-\u0020\u007f]/.test(target)) {
    throw new ProtocolError(400, "Malformed request target");
  }
  const headers = parseFields(lines);
  // RFC 9112 §3.2: exactly one Host in HTTP/1.1; two could route one way here and another upstream.
  const hosts = fieldValues(headers, "host").length;
  if (hosts > 1 || (hosts === 0 && version === "HTTP/1.1")) {
    throw new ProtocolError(
      400,
      hosts ? "More than one Host header field" : "Missing Host header field",
    );
  }
  return { method, target, version, headers };
}

/** Parses a response head. @throws {ProtocolError} 502 on garbage. */
export function parseResponseHead(text: string): ResponseHead {
  const lines = text.split("\r\n");
  const m = /^(HTTP\/1\.[01]) (\d{3})(?: (.*))?$/.exec(lines[0]!);
  if (!m) throw new ProtocolError(502, "The server sent a malformed response");
  try {
    return {
      version: m[1]!,
      status: Number(m[2]),
      reason: m[3] ?? "",
      headers: parseFields(lines),
    };
  } catch {
    throw new ProtocolError(502, "The server sent malformed response headers");
  }
}

/** All values of a field (case-insensitive), in order. */
export function fieldValues(headers: HeaderList, name: string): string[] {
  const lower = name.toLowerCase();
  const out: string[] = [];
  for (const [n, v] of headers) {
    if (n.length === lower.length && n.toLowerCase() === lower) out.push(v);
  }
  return out;
}

/** The comma-joined value of a field, or null. */
export function field(headers: HeaderList, name: string): string | null {
  const values = fieldValues(headers, name);
  return values.length ? values.join(", ") : null;
}

function tokens(value: string | null): string[] {
  return value
    ? value.split(",").map((t) => t.trim().toLowerCase()).filter((t) => t)
    : [];
}

/**
 * How a request body is framed (RFC 9112 §6.3). Refuses the ambiguous
 * cases used for request smuggling: Transfer-Encoding with Content-Length,
 * a Transfer-Encoding other than chunked, conflicting lengths.
 */
export function requestFraming(head: RequestHead): Framing {
  const te = field(head.headers, "transfer-encoding");
  const lengths = fieldValues(head.headers, "content-length");
  if (te !== null) {
    if (lengths.length) {
      throw new ProtocolError(
        400,
        "Both Transfer-Encoding and Content-Length were sent",
      );
    }
    const codings = tokens(te);
    if (codings.length !== 1 || codings[0] !== "chunked") {
      throw new ProtocolError(
        501,
        "Only chunked transfer coding is supported for request bodies",
      );
    }
    if (head.version === "HTTP/1.0") {
      throw new ProtocolError(
        400,
        "Transfer-Encoding is not allowed in HTTP/1.0",
      );
    }
    return { kind: "chunked" };
  }
  if (lengths.length === 0) return { kind: "none" };
  const length = contentLength(lengths, 400);
  return length === 0 ? { kind: "none" } : { kind: "length", length };
}

function contentLength(values: string[], status: number): number {
  const all = values.flatMap((v) => v.split(",")).map((v) => v.trim());
  if (!all.every((v) => /^\d{1,15}$/.test(v)) || new Set(all).size !== 1) {
    throw new ProtocolError(status, "Invalid Content-Length");
  }
  return Number(all[0]);
}

/** How a response body is framed (RFC 9112 §6.3), given the request method. */
export function responseFraming(method: string, head: ResponseHead): Framing {
  const s = head.status;
  if (method === "HEAD" || (s >= 100 && s < 200) || s === 204 || s === 304) {
    return { kind: "none" };
  }
  const te = field(head.headers, "transfer-encoding");
  if (te !== null) {
    const codings = tokens(te);
    return codings.at(-1) === "chunked"
      ? { kind: "chunked" }
      : { kind: "close" };
  }
  const lengths = fieldValues(head.headers, "content-length");
  if (lengths.length) {
    return { kind: "length", length: contentLength(lengths, 502) };
  }
  return { kind: "close" };
}

/** Hop-by-hop fields (RFC 9110 §7.6.1) never forwarded as such. */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "te",
  "trailer",
  "upgrade",
  "proxy-authorization",
  "proxy-authenticate",
]);

/**
 * The fields to forward: without hop-by-hop fields and without those the
 * `Connection` field names. `transfer-encoding` is kept because the body is
 * relayed with its framing unchanged.
 */
export function stripHopByHop(headers: HeaderList): HeaderList {
  const named = new Set(tokens(field(headers, "connection")));
  named.delete("transfer-encoding");
  named.delete("content-length");
  return headers.filter(([n]) => {
    const lower = n.toLowerCase();
    return !HOP_BY_HOP.has(lower) && !named.has(lower);
  });
}

/**
 * The fields without any `Set-Cookie` that carries a `Domain` attribute
 * (such a cookie reaches the parent domain's other hosts: the hub's, other
 * users'); host-only cookies pass.
 */
export function withoutDomainCookies(headers: HeaderList): HeaderList {
  return headers.filter(([name, value]) =>
    name.toLowerCase() !== "set-cookie" || !/;\s*domain\s*=/i.test(value)
  );
}

/** True when the client asked to keep the connection open after this exchange. */
export function wantsKeepAlive(version: string, headers: HeaderList): boolean {
  const conn = tokens(field(headers, "connection"));
  if (conn.includes("close")) return false;
  return version === "HTTP/1.1" || conn.includes("keep-alive");
}

/** True for a WebSocket upgrade request (RFC 6455 §4.1). */
export function isWebSocketUpgrade(head: RequestHead): boolean {
  return head.method === "GET" &&
    tokens(field(head.headers, "upgrade")).includes("websocket") &&
    tokens(field(head.headers, "connection")).includes("upgrade");
}

/** Where a request came from, for `X-Forwarded-*`. */
export interface ClientInfo {
  /** Address of the peer of this connection. */
  address: string;
  /** "http" or "https" as seen by this listener. */
  proto: "http" | "https";
  /** The port this listener accepted on. */
  port: number;
  /** Whether the peer is a trusted downstream proxy whose X-Forwarded-* are kept. */
  trusted: boolean;
}

const FORWARDED = [
  "x-forwarded-for",
  "x-forwarded-proto",
  "x-forwarded-port",
  "x-forwarded-host",
  "forwarded",
];

/**
 * The field with which onehub's proxy shows the hub that a request came
 * through it, so the hub may believe its `X-Forwarded-*` (a local process
 * reaching the hub's port directly could write those itself). Its value is
 * a secret of the running hub; it is sent only on the hub's own route and
 * never passed on from a client.
 */
export const PROOF_HEADER = "X-Onehub-Proxy";

/** Options of {@linkcode forwardedHeaders}. */
export interface ForwardOptions {
  /** The real connection the request came on. */
  client: ClientInfo;
  /** A WebSocket handshake (`ws`/`wss` as the forwarded scheme). */
  websocket: boolean;
  /** The value of {@linkcode PROOF_HEADER} to add, or null for none. */
  proof: string | null;
}

/**
 * Sets `X-Forwarded-For/Proto/Port/Host` from the real connection. From an
 * untrusted peer, incoming values are dropped first (they could be forged);
 * from a trusted downstream proxy they are kept and ours appended, as CHP
 * does. `X-Forwarded-Host` keeps a trusted incoming value, else `Host`.
 * A client's {@linkcode PROOF_HEADER} is always dropped.
 */
export function forwardedHeaders(
  headers: HeaderList,
  options: ForwardOptions,
): HeaderList {
  const { client, websocket } = options;
  const proof = PROOF_HEADER.toLowerCase();
  const kept = headers.filter(([n]) => {
    const name = n.toLowerCase();
    return name !== proof && (client.trusted || !FORWARDED.includes(name));
  });
  const out = kept.filter(([n]) =>
    !["x-forwarded-for", "x-forwarded-proto", "x-forwarded-port"].includes(
      n.toLowerCase(),
    )
  );
  const append = (name: string, value: string) => {
    const prior = field(kept, name);
    out.push([name, prior ? `${prior},${value}` : value]);
  };
  const scheme = websocket
    ? (client.proto === "https" ? "wss" : "ws")
    : client.proto;
  append("X-Forwarded-For", client.address);
  append("X-Forwarded-Port", String(client.port));
  append("X-Forwarded-Proto", scheme);
  if (!websocket && field(out, "x-forwarded-host") === null) {
    const host = field(headers, "host");
    if (host) out.push(["X-Forwarded-Host", host]);
  }
  if (options.proof !== null) out.push([PROOF_HEADER, options.proof]);
  return out;
}

const ASCII = new TextEncoder();

/** Serialises a head (start line + fields + blank line) as latin1 bytes. */
export function serializeHead(
  startLine: string,
  headers: HeaderList,
): Uint8Array {
  let text = startLine + "\r\n";
  for (const [n, v] of headers) text += `${n}: ${v}\r\n`;
  text += "\r\n";
  // Heads are latin1 text; the common all-ASCII case is a native encode.
  // deno-lint-ignore no-control-regex
  if (!/[^\x00-\x7f]/.test(text)) return ASCII.encode(text);
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}
