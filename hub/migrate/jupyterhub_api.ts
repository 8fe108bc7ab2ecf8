/**
 * A small client of a running JupyterHub's REST API (JupyterHub 5's
 * contract, `jupyterhub/apihandlers/` of 5.2.1): the calls `onehub export
 * jupyterhub` and `onehub import jupyterhub` make, nothing more.
 *
 * Bounded: every request has a timeout and a body limit; lists are read a
 * page at a time (`?offset=&limit=` with `Accept:
 * application/jupyterhub-pagination+json`, JupyterHub 2.0+), at most
 * `maxPages` pages. Errors are {@linkcode JupyterHubApiError}s whose message
 * says what went wrong and what to do: the hub cannot be reached, it is not
 * a JupyterHub, the token lacks scopes (named), or JupyterHub refused one
 * item (its own words).
 *
 * @module
 */

/** JupyterHub's pagination media type (`apihandlers/base.py`, PAGINATION_MEDIA_TYPE). */
export const PAGINATION_MEDIA_TYPE = "application/jupyterhub-pagination+json";

/** Why a call failed: `fatal` ones stop a run, the others concern one item. */
export class JupyterHubApiError extends Error {
  /** The HTTP status, or 0 when there was no answer. */
  readonly status: number;
  /** Unreachable, not JupyterHub, a bad token or missing scopes: nothing more can work. */
  readonly fatal: boolean;

  constructor(message: string, options: { status: number; fatal: boolean }) {
    super(message);
    this.name = "JupyterHubApiError";
    this.status = options.status;
    this.fatal = options.fatal;
  }
}

/** A user as JupyterHub lists it (the fields used here). */
export interface JhUser {
  name: string;
  admin: boolean;
  /** Role names assigned to the user (needs `read:roles:users`). */
  roles?: string[];
  groups?: string[];
  servers?: Record<string, unknown>;
}

/** A group as JupyterHub lists it. */
export interface JhGroup {
  name: string;
  users: string[];
  properties: Record<string, unknown>;
  /** Role names assigned to the group (needs `read:roles:groups`). */
  roles?: string[];
}

/** A share as JupyterHub 5 lists it (`_ShareAPIHandler.share_model`). */
export interface JhShare {
  server: { name: string; user: { name: string } };
  scopes: string[];
  user: { name: string } | null;
  group: { name: string } | null;
}

/** Who the token belongs to (`GET /user`). */
export interface JhIdentity {
  kind: string;
  name: string;
  admin: boolean;
  /** Expanded scopes; absent before JupyterHub 2. */
  scopes?: string[];
}

/** Options of {@linkcode JupyterHubClient}. */
export interface JupyterHubClientOptions {
  /** An API token of the JupyterHub. */
  token: string;
  /** Per request. @default 30000 */
  timeoutMs?: number;
  /** Items per page (JupyterHub's api_page_max_limit is 200). @default 200 */
  pageSize?: number;
  /** Pages per list at most. @default 1000 */
  maxPages?: number;
  /** Response bodies longer than this are refused. @default 16 MiB */
  maxBodyBytes?: number;
}

/** How a request goes out: the scopes it needs, for the 403 message. */
interface RequestSpec {
  body?: unknown;
  /** The scopes JupyterHub asks for on this route (any one of them). */
  scopes: readonly string[];
  auth?: boolean;
  accept?: string;
}

/**
 * The REST API's root for a hub address: `http://host:8000/` (the public
 * URL), `…/hub/` or `…/hub/api` all give `http://host:8000/hub/api/`.
 *
 * @throws {JupyterHubApiError} for an address that is not http(s).
 */
export function apiUrlOf(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new JupyterHubApiError(
      `--url ${
        JSON.stringify(url)
      } is not a URL: give the hub's address, e.g. http://jupyterhub.example.org/`,
      { status: 0, fatal: true },
    );
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new JupyterHubApiError(
      `--url must start with http:// or https://, got ${JSON.stringify(url)}`,
      { status: 0, fatal: true },
    );
  }
  parsed.search = "";
  parsed.hash = "";
  const path = parsed.pathname.replace(/\/+$/, "");
  if (path.endsWith("/hub/api")) parsed.pathname = `${path}/`;
  else if (path.endsWith("/hub")) parsed.pathname = `${path}/api/`;
  else parsed.pathname = `${path}/hub/api/`;
  return parsed.href;
}

/** `name` as one path segment. */
function seg(name: string): string {
  return encodeURIComponent(name);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Reads at most `max` bytes of a body; longer is an error. */
async function readBounded(res: Response, max: number): Promise<string> {
  if (!res.body) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    size += chunk.byteLength;
    if (size > max) {
      await res.body.cancel().catch(() => {});
      throw new JupyterHubApiError(
        `JupyterHub's answer is larger than ${max} bytes: refused`,
        { status: res.status, fatal: true },
      );
    }
    chunks.push(chunk);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.byteLength;
  }
  return new TextDecoder().decode(all);
}

/** Parsed JSON, or `INVALID` for a body that is not JSON. */
const INVALID = Symbol("invalid JSON");

function parseJson(text: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return INVALID;
  }
}

/**
 * The REST API of one JupyterHub, as one token sees it. Each method is one
 * request (lists: one per page) and names in its doc the route it calls.
 */
export class JupyterHubClient {
  /** The API's root, ending in `/hub/api/`. */
  readonly apiUrl: string;
  readonly #token: string;
  readonly #timeoutMs: number;
  readonly #pageSize: number;
  readonly #maxPages: number;
  readonly #maxBody: number;

  /** A client of the JupyterHub at `url` (public address, `…/hub/` or `…/hub/api/`). */
  constructor(url: string, options: JupyterHubClientOptions) {
    this.apiUrl = apiUrlOf(url);
    this.#token = options.token;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#pageSize = options.pageSize ?? 200;
    this.#maxPages = options.maxPages ?? 1000;
    this.#maxBody = options.maxBodyBytes ?? 16 * 1024 * 1024;
  }

  /**
   * `GET /hub/api/` (no token): JupyterHub's version; proves the address is
   * a JupyterHub.
   *
   * @throws {JupyterHubApiError} (fatal) when it is not.
   */
  async version(): Promise<string> {
    const data = await this.#call("GET", "", { scopes: [], auth: false })
      .catch((error) => {
        if (error instanceof JupyterHubApiError && !error.fatal) {
          throw this.#notJupyterHub(`it answered ${error.status}`);
        }
        throw error;
      });
    if (!isObject(data) || typeof data.version !== "string") {
      throw this.#notJupyterHub("its answer has no JupyterHub version");
    }
    return data.version;
  }

  /** `GET /user`: who the token belongs to and its expanded scopes. */
  async whoami(): Promise<JhIdentity> {
    const data = await this.#call("GET", "user", { scopes: [] });
    if (!isObject(data) || typeof data.name !== "string") {
      throw this.#notJupyterHub("GET /user gave no name");
    }
    return {
      kind: String(data.kind ?? "user"),
      name: data.name,
      admin: data.admin === true,
      ...(Array.isArray(data.scopes)
        ? { scopes: data.scopes.map(String) }
        : {}),
    };
  }

  /** `GET /users`, every page. */
  async users(): Promise<JhUser[]> {
    const items = await this.#list("users", ["list:users"]);
    return items.map((item) => {
      if (!isObject(item) || typeof item.name !== "string") {
        throw this.#notJupyterHub("a user in GET /users has no name");
      }
      return item as unknown as JhUser;
    });
  }

  /** `GET /groups`, every page. */
  async groups(): Promise<JhGroup[]> {
    const items = await this.#list("groups", ["list:groups"]);
    return items.map((item) => {
      if (!isObject(item) || typeof item.name !== "string") {
        throw this.#notJupyterHub("a group in GET /groups has no name");
      }
      return {
        ...item,
        users: Array.isArray(item.users) ? item.users.map(String) : [],
        properties: isObject(item.properties) ? item.properties : {},
      } as JhGroup;
    });
  }

  /** `GET /users/{name}?include_stopped_servers`: the names of the user's servers JupyterHub has a record of. */
  async serversOf(name: string): Promise<string[]> {
    const data = await this.#call(
      "GET",
      `users/${seg(name)}?include_stopped_servers=1`,
      { scopes: ["read:servers"] },
    );
    return isObject(data) && isObject(data.servers)
      ? Object.keys(data.servers)
      : [];
  }

  /** `GET /shares/{owner}`, every page (JupyterHub 5). */
  async sharesOf(owner: string): Promise<JhShare[]> {
    const items = await this.#list(`shares/${seg(owner)}`, ["read:shares"]);
    return items.filter(isObject) as unknown as JhShare[];
  }

  /** `POST /users/{name}`: creates a user (admin only when asked). */
  async createUser(name: string, options: { admin: boolean }): Promise<void> {
    await this.#call("POST", `users/${seg(name)}`, {
      body: options.admin ? { admin: true } : {},
      scopes: ["admin:users"],
    });
  }

  /** `PATCH /users/{name}`: sets the admin flag. */
  async setAdmin(name: string, admin: boolean): Promise<void> {
    await this.#call("PATCH", `users/${seg(name)}`, {
      body: { admin },
      scopes: ["admin:users"],
    });
  }

  /** `POST /groups/{name}`: creates a group with its members. */
  async createGroup(name: string, users: readonly string[]): Promise<void> {
    await this.#call("POST", `groups/${seg(name)}`, {
      body: { users },
      scopes: ["admin:groups"],
    });
  }

  /** `POST /groups/{name}/users`: adds members. */
  async addMembers(group: string, users: readonly string[]): Promise<void> {
    await this.#call("POST", `groups/${seg(group)}/users`, {
      body: { users },
      scopes: ["groups"],
    });
  }

  /** `PUT /groups/{name}/properties`: replaces the group's properties. */
  async setProperties(
    group: string,
    properties: Record<string, unknown>,
  ): Promise<void> {
    await this.#call("PUT", `groups/${seg(group)}/properties`, {
      body: properties,
      scopes: ["groups"],
    });
  }

  /**
   * `POST /shares/{owner}/{server}`: grants scopes on a server to a user
   * or a group (JupyterHub adds them to an existing share).
   */
  async grantShare(
    server: { owner: string; name: string },
    grant: { user?: string; group?: string; scopes: readonly string[] },
  ): Promise<void> {
    await this.#call(
      "POST",
      `shares/${seg(server.owner)}/${seg(server.name)}`,
      {
        body: grant,
        scopes: ["shares"],
      },
    );
  }

  /** Every item of a paginated list, page by page, bounded by maxPages. */
  async #list(path: string, scopes: readonly string[]): Promise<unknown[]> {
    const out: unknown[] = [];
    let offset = 0;
    for (let page = 0; page < this.#maxPages; page++) {
      const data = await this.#call(
        "GET",
        `${path}?offset=${offset}&limit=${this.#pageSize}`,
        { scopes, accept: PAGINATION_MEDIA_TYPE },
      );
      // Before JupyterHub 2 a list is a plain array (every item at once).
      if (Array.isArray(data)) return data;
      if (!isObject(data) || !Array.isArray(data.items)) {
        throw this.#notJupyterHub(`GET /${path} gave no list`);
      }
      out.push(...data.items);
      const next = isObject(data._pagination) ? data._pagination.next : null;
      if (!isObject(next)) return out;
      if (typeof next.offset !== "number" || next.offset <= offset) {
        throw this.#notJupyterHub(`GET /${path}: its next page goes nowhere`);
      }
      offset = next.offset;
    }
    throw new JupyterHubApiError(
      `GET /${path} has more than ${
        this.#maxPages * this.#pageSize
      } items: stopped reading (the limit is ${this.#maxPages} pages)`,
      { status: 0, fatal: true },
    );
  }

  /** One request: sent with a timeout, answered within the body limit, errors named. */
  async #call(
    method: string,
    path: string,
    spec: RequestSpec,
  ): Promise<unknown> {
    const headers: Record<string, string> = {
      accept: spec.accept ?? "application/json",
    };
    if (spec.auth !== false) headers.authorization = `token ${this.#token}`;
    if (spec.body !== undefined) headers["content-type"] = "application/json";
    let res: Response;
    let text: string;
    try {
      res = await fetch(this.apiUrl + path, {
        method,
        headers,
        redirect: "manual",
        signal: AbortSignal.timeout(this.#timeoutMs),
        ...(spec.body !== undefined ? { body: JSON.stringify(spec.body) } : {}),
      });
      text = await readBounded(res, this.#maxBody);
    } catch (error) {
      if (error instanceof JupyterHubApiError) throw error;
      throw this.#noAnswer(method, error);
    }
    const data = parseJson(text);
    if (res.status >= 200 && res.status < 300) {
      if (data === INVALID) {
        throw this.#notJupyterHub(`${method} /${path} did not answer JSON`);
      }
      return data;
    }
    throw this.#refused({ method, path, res, data, scopes: spec.scopes });
  }

  #noAnswer(method: string, error: unknown): JupyterHubApiError {
    const origin = new URL(this.apiUrl).origin;
    if (error instanceof DOMException && error.name === "TimeoutError") {
      return new JupyterHubApiError(
        `JupyterHub at ${origin} did not answer a ${method} within ${
          this.#timeoutMs / 1000
        } s: check that it runs and that --url is its address`,
        { status: 0, fatal: true },
      );
    }
    const why = error instanceof Error ? error.message : String(error);
    return new JupyterHubApiError(
      `Cannot reach JupyterHub at ${origin} (${why}): check --url and that the hub runs`,
      { status: 0, fatal: true },
    );
  }

  #notJupyterHub(why: string): JupyterHubApiError {
    return new JupyterHubApiError(
      `${this.apiUrl} does not answer like JupyterHub's REST API (${why}): give the hub's public address, e.g. http://jupyterhub.example.org/`,
      { status: 0, fatal: true },
    );
  }

  /** A JupyterHub error answer as an error that says what to do. */
  #refused(answer: {
    method: string;
    path: string;
    res: Response;
    data: unknown;
    scopes: readonly string[];
  }): JupyterHubApiError {
    const { method, path, res, data, scopes } = answer;
    const status = res.status;
    const said = isObject(data) && typeof data.message === "string"
      ? data.message
      : null;
    const what = `${method} /${path.split("?")[0]}`;
    if (said === null || status >= 500 || (status >= 300 && status < 400)) {
      return this.#notJupyterHub(`${what} answered ${status}`);
    }
    if (status === 401 || /invalid credentials/i.test(said)) {
      return new JupyterHubApiError(
        `JupyterHub refused the token (${status}: ${said}): check --token; an admin makes one on JupyterHub's token page or with "jupyterhub token <admin>"`,
        { status, fatal: true },
      );
    }
    if (status === 403) {
      const needs = scopes.length ? scopes.join(" or ") : "more scopes";
      return new JupyterHubApiError(
        `JupyterHub refused ${what} (403: ${said}): the token needs ${needs}; use a token of an admin user, or of a service whose role has ${NEEDED_HINT}`,
        { status, fatal: true },
      );
    }
    return new JupyterHubApiError(`${what}: ${status}: ${said}`, {
      status,
      fatal: false,
    });
  }
}

/** The scopes a full export or import asks for, named in 403 messages. */
const NEEDED_HINT = "admin:users, admin:groups, shares and read:roles";
