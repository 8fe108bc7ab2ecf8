/**
 * Managed services (a `command` in `services.list`): onehub starts each as
 * a child process with JupyterHub's service environment, as the configured
 * Linux user (through `setpriv`, like the local spawner), sends its output
 * to the hub's log one line at a time, and restarts it when it exits:
 * after 1 s, doubling up to 60 s, reset once it has run for 60 s. Each runs
 * in its own process group; `stop()` sends the group SIGTERM, then SIGKILL
 * after 5 s. Services stop with the hub and start again with it. The
 * groups are remembered (`remember`), so a hub that was killed without
 * stopping them has them stopped by the next one ({@linkcode stopLeftovers})
 * before it starts new ones on the same ports.
 *
 * @module
 */
import type { Logger } from "../observe/log.ts";
import { truncate } from "../observe/log.ts";
import type { EventLog } from "../observe/events.ts";
import type { HubMetrics } from "../observe/metrics.ts";
import { pythonJsonList } from "../servers/single_user_env.ts";
import {
  groupAlive,
  lookupUser,
  readProcStat,
  setprivArgs,
  signalGroup,
} from "../../spawners/mod.ts";
import type { ServiceStatus } from "../../templates/mod.ts";
import { servicePrefix, serviceRedirectUri } from "./registry.ts";
import type { ServiceSpec } from "./spec.ts";

const FIRST_DELAY_MS = 1000;
const MAX_DELAY_MS = 60_000;
/** A run this long resets the backoff. */
const STABLE_MS = 60_000;
const KILL_AFTER_MS = 5000;
/** Output lines longer than this are cut in the log. */
const MAX_LINE = 2000;

/** What the supervisor needs. */
export interface SupervisorDeps {
  logger: Logger;
  events: EventLog;
  metrics: HubMetrics;
  baseUrl: string;
  /** The hub API URL ("http://127.0.0.1:8081/hub/api"), known once it listens. */
  hubApiUrl: () => string;
  /** `setpriv` for services with a `user`. @default {"setpriv"} */
  setpriv?: string;
  /** Called with the running groups whenever they change (to stop them after a crash). */
  remember?: (groups: ServiceGroup[]) => Promise<void>;
}

/** A running service's process group, as remembered for the next hub. */
export interface ServiceGroup {
  name: string;
  pid: number;
  /** /proc start time: a reused pid is not mistaken for it. */
  starttime: number;
}

/**
 * Stops the process groups an earlier hub left running (it was killed
 * before it could stop them): SIGTERM, SIGKILL after 5 s. Returns the
 * names of the services stopped.
 */
export async function stopLeftovers(
  groups: readonly ServiceGroup[],
): Promise<string[]> {
  const stopped: string[] = [];
  await Promise.all(groups.map(async (g) => {
    const stat = await readProcStat(g.pid).catch(() => null);
    if (!stat || stat.starttime !== g.starttime || stat.pgrp !== g.pid) return;
    signalGroup(g.pid, "SIGTERM");
    const deadline = Date.now() + KILL_AFTER_MS;
    while (await groupAlive(g.pid) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    if (await groupAlive(g.pid)) signalGroup(g.pid, "SIGKILL");
    stopped.push(g.name);
  }));
  return stopped;
}

interface Run {
  spec: ServiceSpec;
  token: string;
  child: Deno.ChildProcess | null;
  state: "starting" | "running" | "restarting" | "stopped";
  restarts: number;
  delay: number;
  startedAt: number;
  lastExit: string | null;
  timer: ReturnType<typeof setTimeout> | undefined;
  exited: Promise<void>;
}

/** Where a service runs and how it reaches the hub, for {@linkcode serviceEnv}. */
export interface ServiceEnvOptions {
  /** The service's API token. */
  token: string;
  baseUrl: string;
  hubApiUrl: string;
  /** The service user's home directory. */
  home: string;
}

/** JupyterHub's environment for a service. */
export function serviceEnv(
  spec: ServiceSpec,
  deps: ServiceEnvOptions,
): Record<string, string> {
  const { token, home } = deps;
  const prefix = servicePrefix(deps.baseUrl, spec.name);
  return {
    PATH: Deno.env.get("PATH") ?? "/usr/local/bin:/usr/bin:/bin",
    LANG: Deno.env.get("LANG") ?? "C.UTF-8",
    HOME: home,
    ...spec.environment,
    "JUPYTERHUB_SERVICE_NAME": spec.name,
    "JUPYTERHUB_SERVICE_URL": spec.url,
    "JUPYTERHUB_SERVICE_PREFIX": prefix,
    "JUPYTERHUB_API_TOKEN": token,
    "JPY_API_TOKEN": token,
    "JUPYTERHUB_API_URL": deps.hubApiUrl,
    "JUPYTERHUB_BASE_URL": deps.baseUrl,
    "JUPYTERHUB_HOST": "",
    "JUPYTERHUB_CLIENT_ID": spec.oauthClientId,
    "JUPYTERHUB_OAUTH_CALLBACK_URL": serviceRedirectUri(deps.baseUrl, spec),
    "JUPYTERHUB_OAUTH_SCOPES": pythonJsonList([
      `access:services!service=${spec.name}`,
    ]),
    "JUPYTERHUB_OAUTH_ACCESS_SCOPES": pythonJsonList([
      `access:services!service=${spec.name}`,
    ]),
    "JUPYTERHUB_OAUTH_CLIENT_ALLOWED_SCOPES": pythonJsonList(
      spec.oauthClientAllowedScopes,
    ),
  };
}

/** Sends a child's output to the log, one line per entry. */
async function pipeLines(
  stream: ReadableStream<Uint8Array>,
  log: (line: string) => void,
): Promise<void> {
  let buf = "";
  const decoder = new TextDecoder();
  try {
    for await (const bytes of stream) {
      buf += decoder.decode(bytes, { stream: true });
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        log(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
      if (buf.length > MAX_LINE) {
        log(buf);
        buf = "";
      }
    }
  } catch { /* the process went away */ }
  if (buf) log(buf);
}

/** Runs and restarts the managed services. */
export class Supervisor {
  readonly #deps: SupervisorDeps;
  readonly #runs = new Map<string, Run>();
  #stopping = false;

  constructor(deps: SupervisorDeps) {
    this.#deps = deps;
  }

  /** Starts every managed spec with its token. */
  start(specs: readonly ServiceSpec[], tokens: Map<string, string>): void {
    for (const spec of specs.filter((s) => s.command.length)) {
      const run: Run = {
        spec,
        token: tokens.get(spec.name) ?? "",
        child: null,
        state: "starting",
        restarts: 0,
        delay: FIRST_DELAY_MS,
        startedAt: 0,
        lastExit: null,
        timer: undefined,
        exited: Promise.resolve(),
      };
      this.#runs.set(spec.name, run);
      void this.#launch(run);
    }
  }

  async #command(spec: ServiceSpec): Promise<{
    argv: string[];
    home: string;
  }> {
    if (!spec.user) {
      return { argv: spec.command, home: Deno.env.get("HOME") ?? "/" };
    }
    const unix = await lookupUser(spec.user);
    if (!unix) {
      throw new Error(
        `no Linux user "${spec.user}" (services.list "${spec.name}" user): create it or remove the key`,
      );
    }
    const setpriv = this.#deps.setpriv ?? "setpriv";
    return {
      argv: [setpriv, ...setprivArgs(unix), ...spec.command],
      home: unix.home,
    };
  }

  async #launch(run: Run): Promise<void> {
    if (this.#stopping) return;
    const { spec } = run;
    const log = this.#deps.logger;
    try {
      const { argv, home } = await this.#command(spec);
      const env = serviceEnv(spec, {
        token: run.token,
        baseUrl: this.#deps.baseUrl,
        hubApiUrl: this.#deps.hubApiUrl(),
        home,
      });
      const child = new Deno.Command(argv[0]!, {
        args: argv.slice(1),
        clearEnv: true,
        env,
        cwd: spec.cwd || home,
        detached: true, // its own process group: stop() reaches its children too
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      run.child = child;
      run.state = "running";
      run.startedAt = Date.now();
      this.#deps.events.record("service.start", {
        actor: "hub",
        service: spec.name,
        pid: child.pid,
      });
      await this.#remember();
      const line = (stream: string) => (text: string) =>
        log.info(`service ${spec.name}`, {
          [stream]: truncate(text, MAX_LINE),
        });
      const output = Promise.all([
        pipeLines(child.stdout, line("stdout")),
        pipeLines(child.stderr, line("stderr")),
      ]);
      run.exited = child.status.then(async (status) => {
        await output;
        this.#exited(run, status);
      });
    } catch (error) {
      this.#exited(run, null, (error as Error).message);
    }
  }

  /** Tells `remember` which groups run now. */
  async #remember(): Promise<void> {
    if (!this.#deps.remember) return;
    const groups: ServiceGroup[] = [];
    for (const run of this.#runs.values()) {
      const pid = run.child?.pid;
      if (!pid) continue;
      const stat = await readProcStat(pid).catch(() => null);
      if (stat) {
        groups.push({ name: run.spec.name, pid, starttime: stat.starttime });
      }
    }
    await this.#deps.remember(groups).catch((error) =>
      this.#deps.logger.warn("could not remember the services' processes", {
        error: (error as Error).message,
      })
    );
  }

  #exited(run: Run, status: Deno.CommandStatus | null, problem?: string): void {
    run.child = null;
    const why = problem ??
      (status?.signal
        ? `killed by ${status.signal}`
        : `exit code ${status?.code}`);
    run.lastExit = why;
    if (this.#stopping) {
      run.state = "stopped";
      return;
    }
    if (Date.now() - run.startedAt > STABLE_MS) run.delay = FIRST_DELAY_MS;
    this.#deps.events.record("service.exit", {
      actor: "hub",
      service: run.spec.name,
      reason: why,
      "restart_in_s": run.delay / 1000,
    });
    run.state = "restarting";
    run.restarts++;
    this.#deps.metrics.serviceRestarts.inc({ service: run.spec.name });
    run.timer = setTimeout(() => void this.#launch(run), run.delay);
    run.delay = Math.min(run.delay * 2, MAX_DELAY_MS);
  }

  /** Stops every service: SIGTERM, then SIGKILL after 5 s. */
  async stop(): Promise<void> {
    this.#stopping = true;
    await Promise.all([...this.#runs.values()].map(async (run) => {
      clearTimeout(run.timer);
      const child = run.child;
      if (child) {
        const group = (signal: Deno.Signal) => {
          try {
            signalGroup(child.pid, signal);
          } catch { /* already gone */ }
        };
        group("SIGTERM");
        const kill = setTimeout(() => group("SIGKILL"), KILL_AFTER_MS);
        await run.exited;
        clearTimeout(kill);
        // The leader is gone; anything left in its group goes with it.
        if (await groupAlive(child.pid).catch(() => false)) group("SIGKILL");
      }
      run.state = "stopped";
    }));
    await this.#deps.remember?.([]).catch(() => {});
  }

  /** The pid of a running managed service. */
  pid(name: string): number | null {
    return this.#runs.get(name)?.child?.pid ?? null;
  }

  /** Each managed service's state, for the admin page. */
  status(
    name: string,
  ): Omit<ServiceStatus, "name" | "kind" | "prefix" | "answers"> | null {
    const run = this.#runs.get(name);
    if (!run) return null;
    return {
      state: run.state,
      pid: run.child?.pid ?? null,
      restarts: run.restarts,
      lastExit: run.lastExit,
    };
  }
}
