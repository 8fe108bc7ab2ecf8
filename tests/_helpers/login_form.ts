/**
 * `postLogin(base, username, password, headers?)`: a login as a browser
 * does it against a running hub: GET the form (its `_xsrf` field and
 * cookie), then POST the credentials with them. The answer's body is left
 * unread.
 *
 * @module
 */

/** Logs in at `{base}hub/login`; extra headers (e.g. X-Forwarded-For) go on the POST. */
export async function postLogin(
  base: string,
  username: string,
  password: string,
  headers: Record<string, string> = {},
): Promise<Response> {
  const form = await fetch(`${base}hub/login`);
  const html = await form.text();
  const xsrf = /name="_xsrf" value="([^"]+)"/.exec(html)?.[1] ?? "";
  const jar = form.headers.getSetCookie().map((c) => c.split(";")[0]!);
  return await fetch(`${base}hub/login`, {
    method: "POST",
    redirect: "manual",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      cookie: jar.join("; "),
      ...headers,
    },
    body: new URLSearchParams({ username, password, _xsrf: xsrf }),
  });
}
