import assert from "node:assert/strict";
import { clearTextWarning } from "../../../hub/cli/_jupyterhub_args.ts";

Deno.test("clearTextWarning() warns for http:// to another machine only", () => {
  assert.match(
    clearTextWarning("http://hub.example.org/")!,
    /^warning: http:\/\/hub\.example\.org is plain http: the API token crosses the network unencrypted/,
  );
  for (
    const quiet of [
      "https://hub.example.org/",
      "http://127.0.0.1:8000/",
      "http://localhost:8000/hub/",
      "http://[::1]:8000/",
      "not a url",
    ]
  ) {
    assert.equal(clearTextWarning(quiet), null, quiet);
  }
});
