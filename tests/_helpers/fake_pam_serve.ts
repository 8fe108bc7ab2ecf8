/**
 * A stand-in for `onehub pam-helper --serve`, for PamPool tests: answers
 * one JSON line per request line by the password it is sent:
 * - `"right"`: `{"ok": true}`;
 * - `"slow:<ms>"`: waits that long, then a denial;
 * - `"die"`: exits without answering;
 * - `"hang"`: never answers;
 * - anything else: a denial (PAM code 7).
 * Each answer also carries `"pid"`, so tests can tell helpers apart.
 *
 * @module
 */
const encoder = new TextEncoder();
let buffer = "";
const decoder = new TextDecoder();
for await (const chunk of Deno.stdin.readable) {
  buffer += decoder.decode(chunk, { stream: true });
  let newline: number;
  while ((newline = buffer.indexOf("\n")) >= 0) {
    const line = buffer.slice(0, newline);
    buffer = buffer.slice(newline + 1);
    const { password } = JSON.parse(line) as { password: string };
    if (password === "die") Deno.exit(3);
    if (password === "hang") {
      await new Promise(() => setInterval(() => {}, 1000));
    }
    if (password.startsWith("slow:")) {
      await new Promise((r) => setTimeout(r, Number(password.slice(5))));
    }
    const answer = password === "right" ? { ok: true, pid: Deno.pid } : {
      ok: false,
      stage: "auth",
      code: 7,
      message: "Authentication failure",
      pid: Deno.pid,
    };
    await Deno.stdout.write(encoder.encode(JSON.stringify(answer) + "\n"));
  }
}
