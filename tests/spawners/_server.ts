/**
 * A tiny HTTP server for spawner tests, run as
 * `/usr/bin/python3 -c SERVER_CODE`: it listens on `$IP:$PORT`, starts a
 * `sleep` child in its own process group (to check that a stop reaches the
 * whole group), prints a line to stdout and one to stderr, and answers every
 * GET with what it is: uid, gid, groups, cwd, environment keys, pid, pgid
 * and the child's pid. With `IGNORE_TERM=1` it (and the child) ignore
 * SIGTERM.
 *
 * @module
 */

/** The Python source. */
export const SERVER_CODE = `
import http.server, json, os, signal, subprocess, sys
if os.environ.get("IGNORE_TERM") == "1":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
child = subprocess.Popen(["/bin/sleep", "300"])
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({
            "uid": os.getuid(), "gid": os.getgid(),
            "groups": sorted(os.getgroups()), "cwd": os.getcwd(),
            "env": sorted(os.environ), "pid": os.getpid(),
            "pgid": os.getpgid(0), "child": child.pid,
            "value": os.environ.get("ONEHUB_TEST_VALUE"),
        }).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.HTTPServer((os.environ["IP"], int(os.environ["PORT"])), Handler)
print("listening on", os.environ["PORT"], flush=True)
print("this goes to stderr", file=sys.stderr, flush=True)
server.serve_forever()
`;

/** What the server answers. */
export interface ServerInfo {
  uid: number;
  gid: number;
  groups: number[];
  cwd: string;
  env: string[];
  pid: number;
  pgid: number;
  child: number;
  value: string | null;
}

/** GETs the server's self-description, retrying until it answers. */
export async function askServer(
  url: string,
  timeoutMs = 10_000,
): Promise<ServerInfo> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    try {
      const response = await fetch(url);
      return await response.json() as ServerInfo;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** Whether a process exists and is not a zombie (reads /proc/PID/stat). */
export async function processAlive(pid: number): Promise<boolean> {
  try {
    const text = await Deno.readTextFile(`/proc/${pid}/stat`);
    const state = text.slice(text.lastIndexOf(")") + 2).split(" ")[0];
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

/** The parent PID of a process (field 4 of /proc/PID/stat). */
export async function parentPid(pid: number): Promise<number> {
  const text = await Deno.readTextFile(`/proc/${pid}/stat`);
  return Number(text.slice(text.lastIndexOf(")") + 2).split(" ")[1]);
}
