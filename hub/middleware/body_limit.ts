/**
 * The one request-body limit of the hub. Every route that reads a body
 * (REST API JSON, login, spawn and consent forms, the OAuth token endpoint)
 * sits behind {@linkcode bodyLimit}, mounted once in hub/app.ts with the
 * limit chosen by path. It counts bytes as they stream, whether or not the
 * client sent a Content-Length (a `Transfer-Encoding: chunked` body is
 * counted the same way), stops reading at the limit and answers 413 with
 * `Connection: close`, so nothing past the limit is ever buffered.
 *
 * Under the limit, the body is kept (at most the limit, in memory) and the
 * request handed on with it, so handlers read it with the usual
 * `c.req.text()`/`formData()` and never need a size check of their own.
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { HubError } from "../errors.ts";
import type { HubEnv } from "./identity.ts";

/** Options for {@linkcode bodyLimit}. */
export interface BodyLimitOptions {
  /** The largest body in bytes accepted for a request path. */
  maxBytes: (path: string) => number;
}

/**
 * The largest body accepted at `path`: `api.max_body_size` for the REST
 * API's JSON, `http.max_form_size` for forms (login, spawn options, the
 * OAuth endpoints). The one place this rule is written; the built-in proxy
 * applies it too, to declared lengths (hub/mod.ts).
 */
export function bodyLimitFor(
  config: {
    baseUrl: string;
    api: { maxBodySize: number };
    http: { maxFormSize: number };
  },
  path: string,
): number {
  const api = `${config.baseUrl}hub/api`;
  const isApi = path === api || path.startsWith(api + "/");
  return isApi && !path.startsWith(`${api}/oauth2/`)
    ? config.api.maxBodySize
    : config.http.maxFormSize;
}

/** The 413 error for a body over `max` bytes. */
export function bodyTooLarge(max: number): HubError {
  return new HubError(
    413,
    `Request body is larger than ${max} bytes: send a smaller body`,
    { code: "too_large", headers: { Connection: "close" } },
  );
}

/**
 * Reads at most `max` bytes of `body`.
 *
 * @throws {HubError} 413 as soon as the count passes `max` (the stream is
 * cancelled, nothing more is read).
 */
export async function readBounded(
  body: ReadableStream<Uint8Array>,
  max: number,
): Promise<Uint8Array<ArrayBuffer>> {
  const reader = body.getReader();
  let buffer = new Uint8Array(Math.min(max, 16 * 1024));
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (size + value.byteLength > max) {
        await reader.cancel().catch(() => {});
        throw bodyTooLarge(max);
      }
      if (size + value.byteLength > buffer.byteLength) {
        const grown = new Uint8Array(
          Math.min(max, Math.max(size + value.byteLength, buffer.length * 2)),
        );
        grown.set(buffer.subarray(0, size));
        buffer = grown;
      }
      buffer.set(value, size);
      size += value.byteLength;
    }
  } finally {
    reader.releaseLock();
  }
  return buffer.slice(0, size);
}

/**
 * Refuses bodies over the limit of their path with 413 and hands smaller
 * ones on, already read. Methods that carry no body pass untouched.
 */
export function bodyLimit(
  options: BodyLimitOptions,
): MiddlewareHandler<HubEnv> {
  return async (c, next) => {
    const raw = c.req.raw;
    if (!raw.body || c.req.method === "GET" || c.req.method === "HEAD") {
      return await next();
    }
    const max = options.maxBytes(c.req.path);
    const declared = raw.headers.get("content-length");
    if (declared !== null && Number(declared) > max) {
      await raw.body.cancel().catch(() => {});
      throw bodyTooLarge(max);
    }
    const bytes = await readBounded(raw.body, max);
    c.req.raw = new Request(raw, { body: bytes });
    await next();
  };
}
