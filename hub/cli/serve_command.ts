/**
 * `onehub serve` (the default): load config, check the authenticator can
 * work, open and migrate the database, build the hub and listen until
 * SIGINT/SIGTERM.
 *
 * @module
 */
import type { HubConfig } from "../config/mod.ts";
import { isLoopbackAddress } from "../net.ts";
import { ensureCookieSecret } from "../config/file.ts";
import { ConfigError } from "../errors.ts";
import { createLogger, type Logger } from "../observe/log.ts";
import {
  backupIfOlderThan,
  type DatabaseHandle,
  type MigrationReport,
} from "../db/mod.ts";
import { ensureInstance } from "../db/hub_state.ts";
import { syncConfigUsers } from "../config/users.ts";
import { syncConfigAccess } from "../config/access.ts";
import { type Authenticator, createAuthenticator } from "../auth/mod.ts";
import { checkPamService } from "../auth/pam/mod.ts";
import { loadAuthStateBox } from "../auth/auth_state.ts";
import { type RunningHub, startHub } from "../mod.ts";
import { ONEHUB_VERSION } from "../version.ts";
import { type Command, COMMON_OPTIONS, parseCommandFlags } from "./_command.ts";
import { configFrom, openConfiguredDbReport } from "./_context.ts";
import { pidFilePath, reloadConfig } from "./serve_reload.ts";

const HELP = `Usage: onehub serve [options]

Runs the hub: REST API, login and pages on one port, the idle culler
(services.cull.*), the services of services.list, /hub/metrics and the event
log (onehub events). SIGHUP (systemctl reload onehub, onehub config reload)
applies the config file's live keys; see "onehub config keys". SIGTERM or
SIGINT (also while it starts: it stops once running; a second one ends it at
once), or POST /hub/api/shutdown, stops it.

Options:
  --config PATH          Config file (default /etc/onehub/config.yaml, or $ONEHUB_CONFIG)
  --ip ADDRESS           Address to listen on (http.ip; default 127.0.0.1)
  --port N               Public port (http.port; default 8000; 0 picks a free one)
  --hub-port N           The hub's own loopback port (hub.port; default 8081; 0 picks a free one)
  --base-url PATH        URL prefix (base_url; default /)
  --data-dir DIR         State folder (data_dir; default /var/lib/onehub)
  --db PATH              SQLite file (db_path; default DATA_DIR/onehub.sqlite)
  --auth pam|dummy       Authenticator (auth.type; default pam)
  --log-level LEVEL      debug, info, warn or error
  --allow-dummy-public   Let dummy auth listen on a non-loopback address (unsafe)
  -h, --help             Show this help

Settings come from defaults < config file < ONEHUB_* environment < these flags.
See "onehub config keys" for every key.`;

const OPTIONS = {
  ...COMMON_OPTIONS,
  ip: { type: "string" },
  port: { type: "string" },
  "hub-port": { type: "string" },
  "base-url": { type: "string" },
  "data-dir": { type: "string" },
  db: { type: "string" },
  auth: { type: "string" },
  "log-level": { type: "string" },
  "allow-dummy-public": { type: "boolean" },
} as const;

/** Maps serve flags to config keys. */
export function flagsToKeys(
  values: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const map: Record<string, string> = {
    ip: "http.ip",
    "base-url": "base_url",
    "data-dir": "data_dir",
    db: "db_path",
    auth: "auth.type",
    "log-level": "log.level",
  };
  for (const [flag, key] of Object.entries(map)) {
    if (values[flag] !== undefined) out[key] = values[flag];
  }
  if (values.port !== undefined) {
    const text = String(values.port);
    if (!/^\d{1,5}$/.test(text)) {
      throw new ConfigError(
        `Invalid value for --port: "${text}"; expected an integer from 0 to 65535`,
      );
    }
    out["http.port"] = Number(text);
  }
  if (values["hub-port"] !== undefined) {
    const text = String(values["hub-port"]);
    if (!/^\d{1,5}$/.test(text)) {
      throw new ConfigError(
        `Invalid value for --hub-port: "${text}"; expected an integer from 0 to 65535`,
      );
    }
    out["hub.port"] = Number(text);
  }
  if (values["allow-dummy-public"]) out["auth.dummy.allow_public"] = true;
  return out;
}

/**
 * Refuses unsafe combinations before anything starts.
 *
 * @throws {ConfigError} naming the problem and the fix.
 */
export async function preflight(
  config: HubConfig,
  logger: Logger,
): Promise<void> {
  if (config.auth.type === "dummy" && !isLoopbackAddress(config.http.ip)) {
    if (!config.auth.dummy.allowPublic) {
      throw new ConfigError(
        `Refusing to serve dummy authentication on ${config.http.ip}: anyone could log in as anyone. ` +
          `Use auth.type pam, listen on 127.0.0.1, or pass --allow-dummy-public if you really mean it`,
      );
    }
    logger.warn(
      "dummy authentication is exposed on a non-loopback address: anyone can log in as anyone",
      {
        ip: config.http.ip,
      },
    );
  }
  if (config.auth.type === "pam") {
    const problem = await checkPamService(config.auth.pam.service);
    if (problem) throw new ConfigError(problem);
    if (Deno.uid() !== 0) {
      logger.warn(
        "PAM can only check other users' passwords when onehub runs as root",
        { uid: Deno.uid() },
      );
    }
  }
}

/** Where this hub's database lives: its real path on this machine. */
async function instancePlace(dbPath: string): Promise<string> {
  const machine = await Deno.readTextFile("/etc/machine-id")
    .then((t) => t.trim()).catch(() => Deno.hostname());
  return `${await Deno.realPath(dbPath)}@${machine}`;
}

/** Start step: the database upgraded or backed up, this hub's instance id, the config's users. */
async function prepareState(
  config: HubConfig,
  handle: DatabaseHandle,
  migrations: MigrationReport,
  logger: Logger,
): Promise<string> {
  if (migrations.applied.length) {
    logger.info("database upgraded", {
      path: config.dbPath,
      applied: migrations.applied.join(","),
      backup: migrations.backup,
    });
  } else {
    // A backup at start, unless one is less than an hour old.
    const backup = await backupIfOlderThan(handle, 3600_000);
    if (backup) logger.debug("database backed up", { backup });
  }
  const instance = await ensureInstance(
    handle.db,
    await instancePlace(config.dbPath),
  );
  if (instance.movedFrom !== null) {
    logger.warn(
      "this database was copied or moved here: servers started by the hub it came from are not adopted",
      { from: instance.movedFrom, path: config.dbPath },
    );
  }
  await syncConfigUsers(handle.db, config, { logger });
  await syncConfigAccess(handle.db, config, { logger });
  return instance.id;
}

/**
 * SIGINT and SIGTERM caught from before the hub starts: one that comes
 * while it starts (or the moment it says "listening") stops it once it
 * runs, with its cleanup, instead of ending it mid-way with exit 143. A
 * second one does not wait: the process ends at once (a stuck start or
 * stop, Ctrl-C twice).
 */
function catchStop(): { requested: Promise<void>; release(): void } {
  const stopped = Promise.withResolvers<void>();
  let asked = false;
  const handlers = {
    SIGINT: () => stopOr(130),
    SIGTERM: () => stopOr(143),
  };
  const stopOr = (code: number) => {
    if (asked) Deno.exit(code);
    asked = true;
    stopped.resolve();
  };
  for (const [signal, fn] of Object.entries(handlers)) {
    Deno.addSignalListener(signal as Deno.Signal, fn);
  }
  return {
    requested: stopped.promise,
    release: () => {
      for (const [signal, fn] of Object.entries(handlers)) {
        Deno.removeSignalListener(signal as Deno.Signal, fn);
      }
    },
  };
}

/** Runs until `stop` (SIGINT/SIGTERM) or `shutdown`; SIGHUP reloads the config (one reload at a time). */
async function untilStopped(
  reloadOnce: () => Promise<void>,
  until: { stop: Promise<void>; shutdown: Promise<void> },
): Promise<void> {
  let reloading = Promise.resolve();
  const reload = () => {
    reloading = reloading.then(reloadOnce);
  };
  Deno.addSignalListener("SIGHUP", reload);
  await Promise.race([until.stop, until.shutdown]);
  Deno.removeSignalListener("SIGHUP", reload);
  await reloading;
}

/** The hub started over an opened database; on a failure the database and the authenticator are closed. */
async function startOver(
  config: HubConfig,
  opened: {
    handle: DatabaseHandle;
    migrations: MigrationReport;
    authenticator: Authenticator;
    logger: Logger;
  },
): Promise<RunningHub> {
  const { handle, authenticator, logger } = opened;
  try {
    const cookieSecret = await ensureCookieSecret(config.cookieSecretFile);
    const instanceId = await prepareState(
      config,
      handle,
      opened.migrations,
      logger,
    );
    const authState = await loadAuthStateBox(handle.db, {
      keyFile: config.auth.cryptKeyFile,
      envKey: Deno.env.get("JUPYTERHUB_CRYPT_KEY"),
    });
    return await startHub({
      config,
      db: handle.db,
      authenticator,
      logger,
      cookieSecret,
      instanceId,
      authState,
    });
  } catch (error) {
    await authenticator.close();
    await handle.close();
    if (error instanceof Deno.errors.AddrInUse) {
      throw new ConfigError(
        `Cannot listen: ${error.message}; pick free ports with --port and --hub-port`,
      );
    }
    throw error;
  }
}

async function serve(args: string[]): Promise<number> {
  const stop = catchStop();
  try {
    return await serveUntilStopped(args, stop.requested);
  } finally {
    stop.release();
  }
}

async function serveUntilStopped(
  args: string[],
  stopRequested: Promise<void>,
): Promise<number> {
  const { values } = parseCommandFlags(args, OPTIONS);
  const config = await configFrom(values.config, flagsToKeys(values));
  const logger = createLogger({ level: config.logLevel });
  await preflight(config, logger);
  await Deno.mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  await Deno.chmod(config.dataDir, 0o700);
  // The database is checked before the cookie secret is made: a secret
  // without a database means the database was lost, not a first start.
  const { handle, migrations } = await openConfiguredDbReport(config);
  const authenticator = createAuthenticator(config, { logger });
  const running = await startOver(config, {
    handle,
    migrations,
    authenticator,
    logger,
  });
  const pidFile = pidFilePath(config);
  await Deno.writeTextFile(pidFile, `${Deno.pid}\n`, { mode: 0o600 });
  logger.info(`onehub ${ONEHUB_VERSION} listening`, {
    url: running.publicUrl,
    hub: running.hubUrl,
    proxy: config.proxy.mode,
    auth: config.auth.type,
    db: config.dbPath,
  });
  await untilStopped(async () => {
    await reloadConfig({
      live: config,
      path: values.config,
      flags: flagsToKeys(values),
      db: handle.db,
      logger,
    });
  }, { stop: stopRequested, shutdown: running.shutdownRequested });
  await Deno.remove(pidFile).catch(() => {});
  await running.stop();
  await authenticator.close();
  await handle.close();
  logger.info("onehub stopped");
  return 0;
}

/** The serve command. */
export const serveCommand: Command = {
  name: "serve",
  summary: "Run the hub (the default command)",
  help: HELP,
  run: serve,
};
