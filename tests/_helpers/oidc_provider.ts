/**
 * A real OpenID Provider on loopback for the tests: the npm `oidc-provider`
 * (a certified implementation) with one client registered for onehub and
 * its development login and consent pages (any login name and password).
 * An account's groups follow its name: `teacher` → `["staff"]`,
 * `outsider` → `[]`, anyone else → `["students"]`; its email is the name
 * when that has an `@`, else `<name>@school.example` with Google's `hd`
 * claim `school.example`.
 *
 * `oidcLogin(client, account)` drives a CookieClient through the whole
 * dance: onehub's "Sign in" → the provider's login form → its consent form
 * → onehub's callback; it returns the last response.
 *
 * @module
 */
import Provider from "oidc-provider";
import type { CookieClient } from "./cookie_client.ts";
import { freePorts } from "./free_ports.ts";

export const CLIENT_ID = "onehub-test";
export const CLIENT_SECRET = "onehub-test-secret-0123456789abcdef";

/** A running provider. */
export interface TestProvider extends AsyncDisposable {
  issuer: string;
  /** Revokes a token (access or refresh) as the client would. */
  revoke(token: string): Promise<void>;
}

/** How the test provider behaves. */
export interface ProviderOptions {
  /** Seconds an access token lives. @default {3600} */
  accessTokenTtl?: number;
  /** Seconds an authorization code lives. @default {60} */
  codeTtl?: number;
  /**
   * Publishes a key set whose keys (same ids) are not the ones the ID
   * tokens are signed with: every ID token's signature is bad.
   */
  wrongKeys?: boolean;
}

/** A public RSA key (JWK) nobody signs with. */
async function strangerKey(): Promise<Record<string, unknown>> {
  const pair = await crypto.subtle.generateKey(
    {
      name: "RSASSA-PKCS1-v1_5",
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: "SHA-256",
    },
    true,
    ["sign", "verify"],
  );
  const { n, e, kty } = await crypto.subtle.exportKey("jwk", pair.publicKey);
  return { n, e, kty };
}

function groupsOf(account: string): string[] {
  if (account === "teacher") return ["staff"];
  if (account === "outsider") return [];
  return ["students"];
}

/** Starts the provider for a hub whose public URL is `hubUrl` ("http://127.0.0.1:8000/"). */
export async function startProvider(
  hubUrl: string,
  options: ProviderOptions = {},
): Promise<TestProvider> {
  const [port] = freePorts(1);
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [{
      "client_id": CLIENT_ID,
      "client_secret": CLIENT_SECRET,
      "redirect_uris": [`${hubUrl}hub/oauth_callback`],
      "grant_types": ["authorization_code", "refresh_token"],
    }],
    pkce: { required: () => true },
    claims: {
      openid: ["sub"],
      profile: ["preferred_username", "name"],
      email: ["email", "hd"],
      groups: ["groups"],
    },
    scopes: ["openid", "profile", "email", "groups", "offline_access"],
    conformIdTokenClaims: false,
    // A refresh token with every code (the tests refresh without the
    // offline_access consent dance).
    issueRefreshToken: () => true,
    features: { revocation: { enabled: true } },
    ttl: {
      AccessToken: options.accessTokenTtl ?? 3600,
      AuthorizationCode: options.codeTtl ?? 60,
      IdToken: 3600,
      RefreshToken: 86400,
      Grant: 86400,
      Session: 86400,
      Interaction: 3600,
    },
    findAccount: (_ctx: unknown, id: string) => ({
      accountId: id,
      claims: () => ({
        sub: id,
        "preferred_username": id,
        name: id,
        email: id.includes("@") ? id : `${id}@school.example`,
        // Google's hosted-domain claim: only for the school's accounts.
        ...(id.includes("@") ? {} : { hd: "school.example" }),
        groups: groupsOf(id),
      }),
    }),
  });
  if (Deno.env.get("DEBUG_OIDC")) {
    provider.on(
      "server_error",
      (_ctx: unknown, err: Error) =>
        Deno.stderr.writeSync(new TextEncoder().encode(`${err.stack}\n`)),
    );
  }
  if (options.wrongKeys) {
    const stranger = await strangerKey();
    provider.use(async (ctx: KoaContext, next: () => Promise<void>) => {
      await next();
      if (ctx.path !== "/jwks") return;
      const real =
        (typeof ctx.body === "string" ? JSON.parse(ctx.body) : ctx.body) as {
          keys: Record<string, unknown>[];
        };
      ctx.body = {
        keys: real.keys.map((k) => ({
          ...stranger,
          kid: k.kid,
          alg: k.alg,
          use: k.use,
        })),
      };
    });
  }
  const server = provider.listen(port!);
  await new Promise((r) => setTimeout(r, 50));
  return {
    issuer,
    async revoke(token: string) {
      const res = await fetch(`${issuer}/token/revocation`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          token,
          "client_id": CLIENT_ID,
          "client_secret": CLIENT_SECRET,
        }),
      });
      await res.body?.cancel();
      if (!res.ok) throw new Error(`revocation answered ${res.status}`);
    },
    async [Symbol.asyncDispose]() {
      await new Promise((r) => server.close(r));
    },
  };
}

/** The `action` of the page's first form, absolute. */
function formAction(html: string, base: string): string {
  const m = /<form[^>]*action="([^"]+)"/.exec(html);
  if (!m) {
    throw new Error(`no form on the provider's page:\n${html.slice(0, 500)}`);
  }
  return new URL(m[1]!.replaceAll("&amp;", "&"), base).href;
}

/** The hidden fields of the page's first form. */
function hiddenFields(html: string): Record<string, string> {
  const form = /<form[\s\S]*?<\/form>/.exec(html)?.[0] ?? "";
  const out: Record<string, string> = {};
  for (const m of form.matchAll(/<input[^>]*type="hidden"[^>]*>/g)) {
    const name = /name="([^"]*)"/.exec(m[0])?.[1];
    const value = /value="([^"]*)"/.exec(m[0])?.[1] ?? "";
    if (name) out[name] = value;
  }
  return out;
}

/** The Koa context bits the key-swapping middleware touches. */
interface KoaContext {
  path: string;
  body: unknown;
}

/**
 * Signs in through the provider as `account`; the last response (onehub's
 * page after the callback). With `stopAtCallback`, the provider's redirect
 * to onehub's callback is returned instead, not followed; `next` is where
 * onehub sends the browser after the sign-in.
 */
export async function oidcLogin(
  client: CookieClient,
  account: string,
  options: { stopAtCallback?: boolean; next?: string } = {},
): Promise<Response> {
  const stopBefore = options.stopAtCallback
    ? (url: string) => url.includes("/hub/oauth_callback?")
    : () => false;
  let res = await client.follow(
    options.next
      ? `hub/oauth_login?next=${encodeURIComponent(options.next)}`
      : "hub/oauth_login",
  );
  let page = await res.text();
  const loginAt = client.hops.at(-1)!.url;
  res = await client.follow(formAction(page, loginAt), {
    stopBefore,
    init: {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        ...hiddenFields(page),
        login: account,
        password: "any",
      }).toString(),
    },
  });
  if (!client.hops.at(-1)!.url.includes("/interaction/")) return res;
  page = await res.text();
  return await client.follow(formAction(page, client.hops.at(-1)!.url), {
    stopBefore,
    init: {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(hiddenFields(page)).toString(),
    },
  });
}
