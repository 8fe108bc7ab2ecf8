/**
 * A tiny browser stand-in for end-to-end tests: `new CookieClient(base)`
 * keeps cookies (name, path; no domain logic: one host), sends them on
 * matching paths, follows redirects by hand (recording each hop), and can
 * log in through the hub's form.
 *
 * @module
 */

interface Cookie {
  name: string;
  value: string;
  path: string;
}

/** One response in a redirect chain. */
export interface Hop {
  url: string;
  status: number;
  location: string | null;
}

/** A cookie-keeping HTTP client for one origin. */
export class CookieClient {
  readonly base: URL;
  #cookies = new Map<string, Cookie>();
  /** Every hop of the last `get`/`follow`. */
  hops: Hop[] = [];

  constructor(base: string) {
    this.base = new URL(base);
  }

  /** The value of a cookie, if set; with `path`, the one a request to that path would carry (longest path wins). */
  cookie(name: string, path?: string): string | undefined {
    const matching = [...this.#cookies.values()].filter((c) =>
      c.name === name && (path === undefined || path.startsWith(c.path))
    );
    matching.sort((a, b) => b.path.length - a.path.length);
    return matching[0]?.value;
  }

  /** The Cookie header for a path. */
  cookieHeader(path: string): string {
    return [...this.#cookies.values()].filter((c) => path.startsWith(c.path))
      .map((c) => `${c.name}=${c.value}`)
      .join("; ");
  }

  #store(res: Response, url: URL): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(";");
      const eq = pair!.indexOf("=");
      const name = pair!.slice(0, eq).trim();
      let value = pair!.slice(eq + 1).trim();
      let path = url.pathname.replace(/[^/]*$/, "") || "/";
      let expired = false;
      for (const attr of attrs) {
        const [k, v = ""] = attr.split("=");
        const key = k!.trim().toLowerCase();
        if (key === "path") path = v.trim();
        if (key === "max-age" && Number(v) <= 0) expired = true;
        if (key === "expires" && Date.parse(v) < Date.now()) expired = true;
      }
      if (value.startsWith('"') && value.endsWith('"')) {
        value = value.slice(1, -1);
      }
      const key = `${name}|${path}`;
      if (expired || value === "") this.#cookies.delete(key);
      else this.#cookies.set(key, { name, value, path });
    }
  }

  /** One request (no redirect following). */
  async request(pathOrUrl: string, init: RequestInit = {}): Promise<Response> {
    const url = new URL(pathOrUrl, this.base);
    const headers = new Headers(init.headers);
    const cookie = this.cookieHeader(url.pathname);
    if (cookie) headers.set("cookie", cookie);
    const res = await fetch(url, { ...init, headers, redirect: "manual" });
    this.#store(res, url);
    return res;
  }

  /** GET following redirects (bodies of 3xx are discarded); returns the final response. */
  async follow(
    pathOrUrl: string,
    options: {
      max?: number;
      init?: RequestInit;
      /** Stop at the redirect to a URL this matches (the 3xx is returned, its target not fetched). */
      stopBefore?: (url: string) => boolean;
    } = {},
  ): Promise<Response> {
    this.hops = [];
    let url = new URL(pathOrUrl, this.base).toString();
    for (let i = 0; i < (options.max ?? 20); i++) {
      const res = await this.request(url, i === 0 ? options.init ?? {} : {});
      const location = res.headers.get("location");
      this.hops.push({ url, status: res.status, location });
      if (res.status < 300 || res.status >= 400 || !location) return res;
      const next = new URL(location, url).toString();
      if (options.stopBefore?.(next)) return res;
      await res.body?.cancel();
      url = next;
    }
    throw new Error(
      `Too many redirects: ${
        this.hops.map((h) => `${h.status} ${h.url}`).join(" -> ")
      }`,
    );
  }

  /** Logs in through the hub's form; returns the POST's response (302 on success). */
  async login(
    username: string,
    password: string,
    next = "",
  ): Promise<Response> {
    const form = await this.request(
      `hub/login${next ? `?next=${encodeURIComponent(next)}` : ""}`,
    );
    const html = await form.text();
    const xsrf = /name="_xsrf" value="([^"]+)"/.exec(html)?.[1] ?? "";
    return await this.request(
      `hub/login${next ? `?next=${encodeURIComponent(next)}` : ""}`,
      {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ username, password, _xsrf: xsrf }),
      },
    );
  }
}
