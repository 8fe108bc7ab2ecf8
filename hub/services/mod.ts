/**
 * Services (JupyterHub's `c.JupyterHub.services`, here `services.list`):
 * `ServiceManager.start()` applies the config to the database and the
 * proxy (registry.ts) and runs the managed ones (supervisor.ts); the API
 * (hub/api/services.ts), the OAuth provider, the admin page and the
 * metrics read from it.
 *
 * The built-in idle culler (hub/servers/culler.ts) is listed as the service
 * `cull-idle`, as TLJH's culler service is, without a process or token.
 *
 * @module
 */
import { httpAnswers } from "../net.ts";
import type { HubConfig } from "../config/mod.ts";
import type { Db } from "../db/mod.ts";
import type { EventLog } from "../observe/events.ts";
import type { Logger } from "../observe/log.ts";
import type { HubMetrics } from "../observe/metrics.ts";
import type { RouteService } from "../servers/routes.ts";
import type { ServiceStatus } from "../../templates/mod.ts";
import { applyServices, servicePrefix } from "./registry.ts";
import type { ServiceSpec } from "./spec.ts";
import { type ServiceGroup, stopLeftovers, Supervisor } from "./supervisor.ts";
import { getHubState, setHubState } from "../db/hub_state.ts";

/** The hub_state key holding the running services' process groups. */
const GROUPS_KEY = "service_process_groups";
import { CULLER_ACTOR } from "../servers/culler.ts";

export type { ServiceSpec } from "./spec.ts";
export { servicePrefix } from "./registry.ts";

/** What {@linkcode ServiceManager} needs. */
export interface ServiceManagerDeps {
  db: Db;
  config: HubConfig;
  logger: Logger;
  events: EventLog;
  metrics: HubMetrics;
  routes?: RouteService;
  hubApiUrl: () => string;
  /** @default {() => new Date()} */
  now?: () => Date;
  /** How often services with a `url` are checked (JupyterHub's service_check_interval). @default {60000} */
  checkIntervalMs?: number;
}

/** JupyterHub's service model (all keys; the API filters them by scope). */
export interface ServiceModel {
  kind: "service";
  name: string;
  admin: boolean;
  roles: string[];
  url: string;
  prefix: string;
  command: string[];
  pid: number;
  info: Record<string, unknown>;
  display: boolean;
}

/** The configured services, applied and running. */
export class ServiceManager {
  readonly #deps: ServiceManagerDeps;
  readonly #supervisor: Supervisor;
  /** The specs applied at start (the config may change before a restart). */
  #specs: readonly ServiceSpec[] = [];
  /** Last health check of each service with a url. */
  readonly #health = new Map<string, boolean>();
  #checkTimer: ReturnType<typeof setInterval> | undefined;

  constructor(deps: ServiceManagerDeps) {
    this.#deps = deps;
    this.#supervisor = new Supervisor({
      logger: deps.logger,
      events: deps.events,
      metrics: deps.metrics,
      baseUrl: deps.config.baseUrl,
      hubApiUrl: deps.hubApiUrl,
      remember: (groups) =>
        setHubState(deps.db, GROUPS_KEY, JSON.stringify(groups)),
    });
  }

  /** Stops the services a killed hub left running (they hold the ports). */
  async #stopLeftovers(): Promise<void> {
    const text = await getHubState(this.#deps.db, GROUPS_KEY);
    if (!text) return;
    let groups: ServiceGroup[] = [];
    try {
      groups = JSON.parse(text);
    } catch { /* unreadable: nothing to stop */ }
    const stopped = await stopLeftovers(groups);
    if (stopped.length) {
      this.#deps.logger.info("stopped services an earlier hub left running", {
        services: stopped.join(","),
      });
    }
    await setHubState(this.#deps.db, GROUPS_KEY, "[]");
  }

  /** Applies `services.list` and starts the managed services. */
  async start(): Promise<void> {
    await this.#stopLeftovers();
    const specs = this.#deps.config.services;
    const tokens = await applyServices({
      db: this.#deps.db,
      baseUrl: this.#deps.config.baseUrl,
      subdomainHost: this.#deps.config.subdomainHost,
      now: this.#deps.now?.() ?? new Date(),
      ...(this.#deps.routes ? { routes: this.#deps.routes } : {}),
    }, specs);
    this.#specs = specs;
    this.#supervisor.start(specs, tokens);
    if (specs.some((s) => s.url)) {
      this.#checkTimer = setInterval(
        () => void this.checkHealth(),
        this.#deps.checkIntervalMs ?? 60_000,
      );
      Deno.unrefTimer(this.#checkTimer);
    }
  }

  /** Checks every service with a url now; a change is logged. */
  async checkHealth(): Promise<void> {
    await Promise.all(
      this.#specs.filter((s) => s.url).map(async (s) => {
        const up = await httpAnswers(
          `${s.url}${servicePrefix(this.#deps.config.baseUrl, s.name)}`,
        );
        if (this.#health.get(s.name) !== up) {
          this.#deps.logger[up ? "info" : "warn"](
            up ? "service answers" : "service does not answer",
            { service: s.name, url: s.url },
          );
        }
        this.#health.set(s.name, up);
      }),
    );
  }

  /** Stops the checks and the managed services. */
  async stop(): Promise<void> {
    clearInterval(this.#checkTimer);
    await this.#supervisor.stop();
  }

  /** The service an OAuth client id belongs to. */
  serviceOfClient(clientId: string): string | undefined {
    return this.#specs.find((s) => s.oauthClientId === clientId)?.name;
  }

  /** Every service's model, by name (the culler's included while it is on). */
  models(): Map<string, ServiceModel> {
    const out = new Map<string, ServiceModel>();
    const { config } = this.#deps;
    if (config.cull.enabled) out.set(CULLER_ACTOR, this.#cullerModel());
    for (const s of this.#specs) {
      out.set(s.name, {
        kind: "service",
        name: s.name,
        admin: s.admin,
        roles: s.admin ? ["admin"] : [],
        url: s.url,
        prefix: s.url ? servicePrefix(config.baseUrl, s.name) : "",
        command: s.command,
        pid: this.#supervisor.pid(s.name) ?? 0,
        info: s.info,
        display: s.display,
      });
    }
    return out;
  }

  #cullerModel(): ServiceModel {
    const c = this.#deps.config.cull;
    return {
      kind: "service",
      name: CULLER_ACTOR,
      admin: true,
      roles: ["admin"],
      url: "",
      prefix: "",
      command: [],
      pid: 0,
      info: {
        "built-in": "onehub's idle culler (services.cull.*)",
        timeout: c.timeoutSeconds,
        every: c.everySeconds,
      },
      display: false,
    };
  }

  /** The services for the admin page. */
  status(): ServiceStatus[] {
    return this.#specs.map((s) => {
      const run = this.#supervisor.status(s.name);
      return {
        name: s.name,
        kind: s.command.length ? "managed" : "external",
        prefix: s.url ? servicePrefix(this.#deps.config.baseUrl, s.name) : "",
        state: run?.state ?? "external",
        pid: run?.pid ?? null,
        restarts: run?.restarts ?? 0,
        lastExit: run?.lastExit ?? null,
        answers: this.#health.get(s.name) ?? null,
      };
    });
  }

  /**
   * Services: name → 1 when up, else 0 (for the metrics). Up: a managed
   * service's process runs, and a service with a url answered its last
   * check (not yet checked counts as up).
   */
  up(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const s of this.#specs) {
      if (!s.command.length && !s.url) continue;
      const running = !s.command.length ||
        this.#supervisor.pid(s.name) !== null;
      const answering = !s.url || this.#health.get(s.name) !== false;
      out[s.name] = running && answering ? 1 : 0;
    }
    return out;
  }
}
