/**
 * templates/home.ts, token.ts, admin.ts, page_script.ts: user-controlled
 * text is escaped in HTML and cannot close the page-data script.
 */
import assert from "node:assert/strict";
import {
  adminPage,
  dataScript,
  homePage,
  tokenPage,
} from "../../templates/mod.ts";

const EVIL = `<img src=x onerror="alert(1)">&'"</script>`;

Deno.test("homePage() escapes the user name in text and in page data", async () => {
  const html = String(
    await homePage({
      baseUrl: "/",
      user: EVIL,
      admin: false,
      xsrf: "t",
      namedServers: true,
    }),
  );
  assert.ok(!html.includes("<img src=x"), "no raw tag");
  assert.ok(html.includes("&lt;img src=x"));
  assert.equal(
    html.split("</script>").length - 1,
    2,
    "only the two real script ends",
  );
});

Deno.test("tokenPage() escapes the user name, including in attributes", async () => {
  const html = String(
    await tokenPage({ baseUrl: "/", user: EVIL, admin: false, xsrf: "t" }),
  );
  assert.ok(!html.includes("<img src=x"));
  assert.ok(!html.includes('onerror="alert'));
});

Deno.test("adminPage() escapes the admin's name and the XSRF token", async () => {
  const html = String(
    await adminPage({ baseUrl: "/", user: EVIL, xsrf: `"><b>x</b>` }),
  );
  assert.ok(!html.includes("<img src=x"));
  assert.ok(!html.includes("<b>x</b>"));
});

Deno.test("dataScript() keeps a value from closing the script element", () => {
  const out = String(dataScript({ name: "</script><script>alert(1)//" }));
  assert.equal(out.split("</script>").length - 1, 1);
  const json = /<script[^>]*>(.*)<\/script>/s.exec(out)![1]!;
  assert.equal(JSON.parse(json).name, "</script><script>alert(1)//");
});
