/**
 * `POST /shutdown` (`shutdown`): stops the hub, as JupyterHub does. The
 * optional body `{"servers": bool, "proxy": bool}` overrides
 * `spawner.stop_on_shutdown` (JupyterHub's cleanup_servers) for this
 * shutdown; `proxy` is accepted for compatibility (the built-in proxy stops
 * with the hub; an external proxy service is left running). The answer,
 * `202 {"message": "Shutting down Hub"}`, is sent before the shutdown
 * begins.
 *
 * @module
 */
import { HubError } from "../errors.ts";
import type { Ctx } from "../middleware/identity.ts";
import type { ApiDeps, ShutdownRequest } from "./_deps.ts";
import { readObject } from "./_body.ts";

export type { ShutdownRequest };

function flag(body: Record<string, unknown>, key: string): boolean | undefined {
  const value = body[key];
  if (value === undefined) return undefined;
  if (typeof value !== "boolean") {
    throw new HubError(
      400,
      `${key} must be true or false, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/** The route handler. */
export async function shutdownRoute(c: Ctx, deps: ApiDeps): Promise<Response> {
  if (!deps.requestShutdown) {
    throw new HubError(
      503,
      "This hub cannot be shut down from the API (it was not started by onehub serve)",
    );
  }
  const body = await readObject(c, {
    allowed: ["servers", "proxy"],
    optional: true,
  });
  const servers = flag(body, "servers");
  const proxy = flag(body, "proxy");
  const request: ShutdownRequest = {
    actor: c.get("identity")!.name,
    ...(servers !== undefined ? { servers } : {}),
    ...(proxy !== undefined ? { proxy } : {}),
  };
  // Only asks: the hub stops after this answer (its listener lets it finish).
  deps.requestShutdown(request);
  return c.json({ message: "Shutting down Hub" }, 202);
}
