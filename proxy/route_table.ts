/**
 * The routing table: longest-prefix match by whole path segments, like
 * configurable-http-proxy's trie (`/user/alice` matches `/user/alice/lab`
 * but not `/user/alicebob`; `/` catches everything else). Keys are
 * normalised as CHP does: a leading `/`, no trailing `/` except for `/`.
 * Pure: no I/O.
 *
 * @module
 */

/** One route: where requests under `prefix` go, plus the caller's data. */
export interface Route {
  /** Normalised key, e.g. "/user/alice". */
  prefix: string;
  /** Origin of the target, e.g. "http://127.0.0.1:47213". */
  target: string;
  /** Free-form data kept with the route (JupyterHub: user, server_name, hub…). */
  data: Record<string, unknown>;
}

/** Normalises a route key: `user/alice/` → `/user/alice`; `` → `/`. */
export function normalizePrefix(prefix: string): string {
  let p = prefix.startsWith("/") ? prefix : "/" + prefix;
  while (p.length > 1 && p.endsWith("/")) p = p.slice(0, -1);
  return p;
}

function segments(path: string): string[] {
  const trimmed = path.replace(/^\/+/, "").replace(/\/+$/, "");
  return trimmed === "" ? [] : trimmed.split("/");
}

interface Node {
  children: Map<string, Node>;
  route: Route | null;
}

function newNode(): Node {
  return { children: new Map(), route: null };
}

/** A segment trie of routes. */
export class RouteTable {
  #root: Node = newNode();
  #size = 0;

  /** Number of routes. */
  get size(): number {
    return this.#size;
  }

  /** Adds or replaces the route at `prefix`: to `target`, with `data` ({} when not given). */
  set(
    prefix: string,
    to: { target: string; data?: Record<string, unknown> },
  ): Route {
    const { target, data = {} } = to;
    const key = normalizePrefix(prefix);
    let node = this.#root;
    for (const seg of segments(key)) {
      let next = node.children.get(seg);
      if (!next) {
        next = newNode();
        node.children.set(seg, next);
      }
      node = next;
    }
    if (!node.route) this.#size++;
    node.route = { prefix: key, target, data };
    return node.route;
  }

  /** The route stored exactly at `prefix`. */
  get(prefix: string): Route | undefined {
    let node: Node | undefined = this.#root;
    for (const seg of segments(normalizePrefix(prefix))) {
      node = node.children.get(seg);
      if (!node) return undefined;
    }
    return node.route ?? undefined;
  }

  /** Removes the route at `prefix`; true when one was there. */
  delete(prefix: string): boolean {
    const path: Array<[Node, string]> = [];
    let node: Node | undefined = this.#root;
    for (const seg of segments(normalizePrefix(prefix))) {
      const next: Node | undefined = node.children.get(seg);
      if (!next) return false;
      path.push([node, seg]);
      node = next;
    }
    if (!node.route) return false;
    node.route = null;
    this.#size--;
    // Prune empty branches so the trie does not grow with churn.
    for (let i = path.length - 1; i >= 0; i--) {
      const [parent, seg] = path[i]!;
      const child = parent.children.get(seg)!;
      if (child.route || child.children.size) break;
      parent.children.delete(seg);
    }
    return true;
  }

  /**
   * The route with the longest prefix matching `path` segment by segment.
   * `path` is the decoded path without the query.
   */
  match(path: string): Route | undefined {
    let node: Node = this.#root;
    let best = node.route;
    // Only leading/trailing slashes are ignored: `/user//alice` does not match `/user/alice` (as in CHP).
    const trimmed = path.replace(/^\/+/, "").replace(/\/+$/, "");
    if (trimmed !== "") {
      for (const seg of trimmed.split("/")) {
        const next = node.children.get(seg);
        if (!next) break;
        node = next;
        if (node.route) best = node.route;
      }
    }
    return best ?? undefined;
  }

  /** Every route, sorted by prefix. */
  list(): Route[] {
    const out: Route[] = [];
    const walk = (node: Node) => {
      if (node.route) out.push(node.route);
      for (const child of node.children.values()) walk(child);
    };
    walk(this.#root);
    return out.sort((
      a,
      b,
    ) => (a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : 0));
  }
}
