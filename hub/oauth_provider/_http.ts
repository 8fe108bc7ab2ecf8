/**
 * Small HTTP helpers of the OAuth provider: form bodies, query
 * strings appended to redirect URIs, and which server a client belongs to.
 *
 * @module
 */
import { clientIdFor } from "../servers/single_user_env.ts";
import type { OAuthClientRow } from "../db/schema.ts";

/** A form body that cannot be read; the message says why. */
export class FormError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FormError";
  }
}

/**
 * Reads an `application/x-www-form-urlencoded` body (its size is already
 * bounded by hub/middleware/body_limit.ts). An empty body is an empty form.
 *
 * @throws {FormError} for another content type.
 */
export async function readForm(request: Request): Promise<URLSearchParams> {
  if (!request.body) return new URLSearchParams();
  const type = request.headers.get("content-type") ?? "";
  if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(type)) {
    await request.body.cancel();
    throw new FormError(
      "Send the parameters as application/x-www-form-urlencoded",
    );
  }
  return new URLSearchParams(await request.text());
}

/** Appends query parameters to a (possibly relative) URI that may already have a query. */
export function withQuery(uri: string, params: Record<string, string>): string {
  const hash = uri.indexOf("#");
  const base = hash < 0 ? uri : uri.slice(0, hash);
  const query = new URLSearchParams(params).toString();
  if (!query) return base;
  const sep = base.includes("?") ? (/[?&]$/.test(base) ? "" : "&") : "?";
  return `${base}${sep}${query}`;
}

/** The server a client belongs to: `{ user: "alice", server: "" }`. */
export interface ClientTarget {
  user: string;
  /** `""` for the default server. */
  server: string;
}

/**
 * The user server of a client, read from its registered redirect URI
 * (`{base_url}user/<name>/[<server>/]oauth_callback`, optionally with an
 * origin) and checked against the client id. Undefined for a client that
 * is not a server's (nothing else registers clients yet).
 */
export function clientTarget(
  client: Pick<OAuthClientRow, "identifier" | "redirect_uri">,
  baseUrl: string,
): ClientTarget | undefined {
  let path = client.redirect_uri;
  const origin = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(path);
  if (origin) path = path.slice(origin[0].length);
  const root = `${baseUrl}user/`;
  if (!path.startsWith(root)) return undefined;
  const parts = path.slice(root.length).split("/");
  if (
    parts.length < 2 || parts.length > 3 || parts.at(-1) !== "oauth_callback"
  ) {
    return undefined;
  }
  let user: string;
  let server: string;
  try {
    user = decodeURIComponent(parts[0]!);
    server = parts.length === 3 ? decodeURIComponent(parts[1]!) : "";
  } catch {
    return undefined;
  }
  if (user === "" || (parts.length === 3 && server === "")) return undefined;
  if (clientIdFor(user, server) !== client.identifier) return undefined;
  return { user, server };
}
