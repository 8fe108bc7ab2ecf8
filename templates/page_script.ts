/**
 * The data blob a page hands its script (templates/client/page.ts reads
 * it). The scripts themselves are static assets (templates/static.ts).
 *
 * @module
 */
import { raw } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";

/**
 * A `<script type="application/json">` holding `data`; `<` is escaped so
 * no value can close the element.
 */
export function dataScript(data: unknown): HtmlEscapedString {
  return raw(
    `<script id="page-data" type="application/json">${
      JSON.stringify(data).replace(/</g, "\\u003c")
    }</script>`,
  ) as HtmlEscapedString;
}
