/**
 * The HTTP clients real scripts upload with, each run as its own program:
 * `upload(client, { url, bytes, chunked })` POSTs `bytes` zero bytes as
 * JSON with a Content-Length (or chunked) and resolves with the status and
 * text it read, or the error it failed with. Clients: Node's `fetch`
 * (undici), Deno's `fetch`, `curl`, and Python `requests` (Debian's
 * python3-requests).
 *
 * @module
 */

/** Every client, in the order reports list them. */
export const UPLOAD_CLIENTS = ["node", "deno", "curl", "python"] as const;

/** A client by name. */
export type UploadClient = typeof UPLOAD_CLIENTS[number];

/** What a client read: the answer, or the error that ended it. */
export type UploadResult =
  | { status: number; text: string }
  | { error: string };

/** One upload. */
export interface Upload {
  url: string;
  bytes: number;
  /** Send `Transfer-Encoding: chunked` instead of a Content-Length. */
  chunked: boolean;
}

const NODE_CLIENT = `
const [url, size, chunked] = [process.argv[1], Number(process.argv[2]), process.argv[3] === "1"];
const piece = Buffer.alloc(65536);
const body = chunked
  ? new ReadableStream({ pull(c) { if (sent >= size) return c.close(); sent += 65536; c.enqueue(piece); } })
  : Buffer.alloc(size);
let sent = 0;
try {
  const res = await fetch(url, { method: "POST", body, duplex: "half", headers: { "content-type": "application/json" } });
  console.log(JSON.stringify({ status: res.status, text: await res.text() }));
} catch (e) { console.log(JSON.stringify({ error: e.message + ": " + (e.cause?.message ?? "") })); }
`;

const PYTHON_CLIENT = `
import json, sys, requests
url, size, chunked = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
def pieces():
    piece, sent = bytes(65536), 0
    while sent < size:
        sent += 65536
        yield piece
try:
    r = requests.post(url, data=pieces() if chunked else bytes(size), headers={"content-type": "application/json"})
    print(json.dumps({"status": r.status_code, "text": r.text}))
except Exception as e:
    print(json.dumps({"error": repr(e)}))
`;

async function runProgram(cmd: string, args: string[]): Promise<UploadResult> {
  const out = await new Deno.Command(cmd, { args, stdin: "null" }).output();
  const text = new TextDecoder().decode(out.stdout).trim();
  try {
    return JSON.parse(text) as UploadResult;
  } catch {
    return {
      error: `${cmd} exited ${out.code}: ${text}${
        new TextDecoder().decode(out.stderr)
      }`,
    };
  }
}

async function denoUpload(u: Upload): Promise<UploadResult> {
  let sent = 0;
  const body = u.chunked
    ? new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent >= u.bytes) return c.close();
        sent += 65536;
        c.enqueue(new Uint8Array(65536));
      },
    })
    : new Uint8Array(u.bytes);
  try {
    const res = await fetch(u.url, {
      method: "POST",
      body,
      headers: { "content-type": "application/json" },
    });
    return { status: res.status, text: await res.text() };
  } catch (error) {
    return { error: String(error) };
  }
}

/** curl reads the body from a file of `bytes` zero bytes, made once per size under `dir`. */
async function curlUpload(u: Upload, dir: string): Promise<UploadResult> {
  const file = `${dir}/body-${u.bytes}`;
  await Deno.stat(file).catch(async () => {
    using f = await Deno.open(file, { create: true, write: true });
    await f.truncate(u.bytes);
  });
  const out = await new Deno.Command("curl", {
    args: [
      "-sS",
      "-w",
      "\n%{http_code}",
      "-H",
      "content-type: application/json",
      ...(u.chunked ? ["-H", "transfer-encoding: chunked"] : []),
      "--data-binary",
      `@${file}`,
      u.url,
    ],
    stdin: "null",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (out.code !== 0) {
    return {
      error: `curl exited ${out.code}: ${new TextDecoder().decode(out.stderr)}`,
    };
  }
  const cut = text.lastIndexOf("\n");
  return { status: Number(text.slice(cut + 1)), text: text.slice(0, cut) };
}

/** Runs one upload with `client`; `dir` holds curl's body files. */
export function upload(
  client: UploadClient,
  u: Upload,
  dir: string,
): Promise<UploadResult> {
  const args = [u.url, String(u.bytes), u.chunked ? "1" : "0"];
  switch (client) {
    case "node":
      return runProgram("node", [
        "--input-type=module",
        "-e",
        NODE_CLIENT,
        ...args,
      ]);
    case "python":
      return runProgram("/usr/bin/python3", ["-c", PYTHON_CLIENT, ...args]);
    case "deno":
      return denoUpload(u);
    case "curl":
      return curlUpload(u, dir);
  }
}
