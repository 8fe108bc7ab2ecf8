/**
 * A managed service for the tests, in TypeScript: the OAuth 2 authorization
 * code flow against the hub by hand (no library), as a service author
 * would write it from JupyterHub's docs.
 *
 * - `GET {prefix}` without a session: redirect to the hub's authorize URL
 *   with a random `state` remembered in a cookie.
 * - `GET {prefix}oauth_callback?code&state`: checks the state, exchanges
 *   the code at `{api}/oauth2/token` (client id and its token as secret),
 *   reads `GET {api}/user` with the user's token, keeps the model in memory
 *   under a random session cookie, redirects back to `{prefix}`.
 * - `GET {prefix}` with a session: the user model as JSON.
 * - `GET {prefix}whoami-service`: `GET {api}/user` with its own token.
 *
 * @module
 */
const env = (name: string) => {
  const value = Deno.env.get(name);
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const prefix = env("JUPYTERHUB_SERVICE_PREFIX");
const api = env("JUPYTERHUB_API_URL");
const token = env("JUPYTERHUB_API_TOKEN");
const clientId = env("JUPYTERHUB_CLIENT_ID");
const callback = env("JUPYTERHUB_OAUTH_CALLBACK_URL");
const hubPrefix = `${env("JUPYTERHUB_BASE_URL")}hub/`;
const listen = new URL(env("JUPYTERHUB_SERVICE_URL"));

const states = new Set<string>();
const sessions = new Map<string, unknown>();

function cookieOf(req: Request, name: string): string | undefined {
  const header = req.headers.get("cookie") ?? "";
  for (const part of header.split(";")) {
    const [k, v] = part.trim().split("=");
    if (k === name) return v;
  }
  return undefined;
}

function redirect(location: string, cookie?: string): Response {
  const headers = new Headers({ location });
  if (cookie) headers.set("set-cookie", `${cookie}; Path=${prefix}; HttpOnly`);
  return new Response(null, { status: 302, headers });
}

async function finishLogin(url: URL, req: Request): Promise<Response> {
  const state = url.searchParams.get("state") ?? "";
  if (!states.delete(state) || cookieOf(req, "ts-state") !== state) {
    return new Response("bad state", { status: 400 });
  }
  const exchange = await fetch(`${api}/oauth2/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      "grant_type": "authorization_code",
      code: url.searchParams.get("code") ?? "",
      "redirect_uri": callback,
      "client_id": clientId,
      "client_secret": token,
    }),
  });
  if (exchange.status !== 200) {
    return new Response(`token exchange: ${await exchange.text()}`, {
      status: 502,
    });
  }
  const { access_token: userToken } = await exchange.json();
  const who = await fetch(`${api}/user`, {
    headers: { authorization: `token ${userToken}` },
  });
  const session = crypto.randomUUID();
  sessions.set(session, await who.json());
  return redirect(prefix, `ts-session=${session}`);
}

Deno.serve(
  { hostname: listen.hostname, port: Number(listen.port) },
  async (req) => {
    const url = new URL(req.url);
    if (url.pathname === `${prefix}oauth_callback`) {
      return finishLogin(
        url,
        req,
      );
    }
    if (url.pathname === `${prefix}whoami-service`) {
      const self = await fetch(`${api}/user`, {
        headers: { authorization: `token ${token}` },
      });
      return new Response(await self.text(), { status: self.status });
    }
    const user = sessions.get(cookieOf(req, "ts-session") ?? "");
    if (user) return Response.json(user);
    const state = crypto.randomUUID();
    states.add(state);
    const authorize = new URL(`${hubPrefix}api/oauth2/authorize`, "http://x");
    authorize.search = new URLSearchParams({
      "client_id": clientId,
      "redirect_uri": callback,
      "response_type": "code",
      state,
    }).toString();
    return redirect(authorize.pathname + authorize.search, `ts-state=${state}`);
  },
);
