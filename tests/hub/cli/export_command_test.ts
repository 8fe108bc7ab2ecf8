/**
 * `onehub export z2jh` as an admin runs it: a config file and a database
 * (made here as a hub would leave them) in, `values.yaml` and
 * `MIGRATION.md` out, validated against the chart's values schema; the
 * database untouched; refusals (existing files, a file as --out, unknown
 * targets) that write nothing.
 */
import assert from "node:assert/strict";
import { parse } from "yaml";
import { sql } from "kysely";
import { migrateToLatest, openDatabase } from "../../../hub/db/mod.ts";
import { createUsers } from "../../../hub/db/users.ts";
import { createGroups } from "../../../hub/db/groups.ts";
import { setHubState } from "../../../hub/db/hub_state.ts";
import { insertToken } from "../../../hub/db/tokens.ts";
import { setApiRoles } from "../../../hub/db/roles.ts";
import { runMain } from "../../_helpers/serve_process.ts";
import { startProvider } from "../../_helpers/oidc_provider.ts";
import { z2jhSchemaErrors } from "../../_helpers/z2jh_schema.ts";

const NOW = "2027-01-04T09:00:00.000Z";

/** A config file (and its data dir) in a temporary folder. */
async function tempHub(
  config: string,
): Promise<{ dir: string; path: string; db: string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "onehub-export-" });
  const path = `${dir}/config.yaml`;
  await Deno.writeTextFile(path, `data_dir: ${dir}/data\n${config}`);
  return {
    dir,
    path,
    db: `${dir}/data/onehub.sqlite`,
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

/** The database a hub of the class config leaves: users, a group, an API role, a token, an announcement. */
async function seedDatabase(path: string): Promise<void> {
  await Deno.mkdir(path.replace(/\/[^/]+$/, ""), { recursive: true });
  const handle = openDatabase(path);
  try {
    await migrateToLatest(handle);
    const db = handle.db;
    const [ada] = await createUsers(db, ["ada"], { admin: true, now: NOW });
    const users = await createUsers(db, ["bob", "carol"], {
      admin: false,
      now: NOW,
    });
    const [group] = await createGroups(db, ["students"], {
      memberIds: users.map((u) => u.id),
      now: NOW,
      properties: JSON.stringify({ course: "intro" }),
    });
    await setApiRoles(db, { group: group!.id }, ["teaching-assistant"]);
    await insertToken(db, {
      userId: ada!.id,
      serviceId: null,
      prefix: "abcd",
      hash: "0".repeat(64),
      scopes: ["inherit"],
      note: "a script",
      created: NOW,
      expiresAt: null,
    });
    await setHubState(db, "announcement", "Lab closed on Monday");
  } finally {
    await handle.close();
  }
}

function classConfig(issuer: string): string {
  return `public_url: https://hub.school.example
auth:
  type: oauth
  oauth:
    issuer: ${issuer}
    client_id: onehub
    client_secret: the-client-secret-0123456789
users:
  admin: [ada]
roles:
  - name: teaching-assistant
    scopes: [list:users]
limits:
  memory: 2G
`;
}

async function sha256(path: string): Promise<string> {
  const bytes = await Deno.readFile(path);
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return Array.from(
    new Uint8Array(digest),
    (b) => b.toString(16).padStart(2, "0"),
  )
    .join("");
}

Deno.test("onehub export z2jh writes values.yaml and MIGRATION.md from the config and the database", async () => {
  await using provider = await startProvider("http://127.0.0.1:8000/");
  await using hub = await tempHub(classConfig(provider.issuer));
  await seedDatabase(hub.db);
  const before = await sha256(hub.db);
  const out = `${hub.dir}/z2jh`;
  const run = await runMain([
    "export",
    "z2jh",
    "--config",
    hub.path,
    "--out",
    out,
  ]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(
    run.stdout,
    new RegExp(`Wrote ${out}/values.yaml and ${out}/MIGRATION.md`),
  );
  assert.match(
    run.stdout,
    /1 value\(s\) to fill in before installing \(REPLACE-ME\)/,
  );
  assert.equal(await sha256(hub.db), before, "the database is not written");

  const text = await Deno.readTextFile(`${out}/values.yaml`);
  const values = parse(text) as Record<string, Record<string, unknown>>;
  assert.deepEqual(z2jhSchemaErrors(values), []);
  const config = values.hub!.config as Record<string, Record<string, unknown>>;
  const g = config.GenericOAuthenticator!;
  // The endpoints come from the provider's discovery document.
  assert.equal(g["authorize_url"], `${provider.issuer}/auth`);
  assert.equal(g["token_url"], `${provider.issuer}/token`);
  assert.match(
    String(g["client_secret"]),
    /^REPLACE-ME: auth\.oauth\.client_secret/,
  );
  assert.ok(!text.includes("the-client-secret-0123456789"));
  assert.deepEqual(config.Authenticator!["admin_users"], ["ada"]);
  assert.deepEqual(config.Authenticator!["allowed_users"], ["bob", "carol"]);
  assert.deepEqual(config.JupyterHub!["load_groups"], {
    students: { users: ["bob", "carol"], properties: { course: "intro" } },
  });
  assert.deepEqual(values.hub!.loadRoles, {
    "teaching-assistant": { scopes: ["list:users"], groups: ["students"] },
  });
  assert.deepEqual(values.hub!.templateVars, {
    announcement: "Lab closed on Monday",
  });
  assert.deepEqual(values.singleuser!.memory, { limit: "2G" });
  assert.equal((await Deno.stat(`${out}/values.yaml`)).mode! & 0o777, 0o644);

  const md = await Deno.readTextFile(`${out}/MIGRATION.md`);
  assert.match(md, /^# Moving this hub to Zero to JupyterHub/);
  assert.match(md, /`hub\.config\.GenericOAuthenticator\.client_secret`/);
  assert.match(md, /API tokens cannot move.*ada \(1\)/);
  assert.match(md, /Home directories do not move/);
});

Deno.test("onehub export z2jh refuses to overwrite without --force, and --include-secrets writes the secret", async () => {
  await using hub = await tempHub(
    classConfig("http://127.0.0.1:9/unreachable"),
  );
  const out = `${hub.dir}/z2jh`;
  const args = ["export", "z2jh", "--config", hub.path, "--out", out];
  assert.equal((await runMain(args)).code, 0);
  const first = await Deno.readTextFile(`${out}/values.yaml`);
  // No database yet: none is made.
  await assert.rejects(Deno.stat(hub.db), Deno.errors.NotFound);
  assert.match(first, /\(no database yet\)/);

  const again = await runMain([...args, "--include-secrets"]);
  assert.equal(again.code, 1);
  assert.match(
    again.stderr,
    new RegExp(
      `${out}/values\\.yaml already exists: pass --force to replace it`,
    ),
  );
  assert.equal(await Deno.readTextFile(`${out}/values.yaml`), first);

  const forced = await runMain([...args, "--include-secrets", "--force"]);
  assert.equal(forced.code, 0, forced.stderr);
  const text = await Deno.readTextFile(`${out}/values.yaml`);
  assert.match(text, /client_secret: the-client-secret-0123456789/);
  assert.match(text, /This file holds secrets in clear/);
  assert.equal((await Deno.stat(`${out}/values.yaml`)).mode! & 0o777, 0o600);
  // The unreachable issuer's endpoints are left to fill in.
  assert.match(text, /authorize_url: "REPLACE-ME: authorization_endpoint of /);
});

Deno.test("onehub export z2jh with a file as --out writes nothing; a PAM hub exports with the authenticator to choose", async () => {
  await using hub = await tempHub("");
  const file = `${hub.dir}/not-a-folder`;
  await Deno.writeTextFile(file, "x");
  const run = await runMain([
    "export",
    "z2jh",
    "--config",
    hub.path,
    "--out",
    file,
  ]);
  assert.equal(run.code, 1);
  assert.match(run.stderr, /--out .*not-a-folder is a file, not a folder/);
  assert.equal(await Deno.readTextFile(file), "x");

  const pam = await runMain([
    "export",
    "z2jh",
    "--config",
    hub.path,
    "--out",
    `${hub.dir}/pam`,
  ]);
  assert.equal(pam.code, 0, pam.stderr);
  const values = parse(await Deno.readTextFile(`${hub.dir}/pam/values.yaml`));
  assert.deepEqual(z2jhSchemaErrors(values), []);
  assert.match(
    await Deno.readTextFile(`${hub.dir}/pam/MIGRATION.md`),
    /PAM has no meaning on Kubernetes/,
  );
});

Deno.test("onehub export z2jh refuses a database that needs migrating, and changes nothing", async () => {
  await using hub = await tempHub("");
  await seedDatabase(hub.db);
  const handle = openDatabase(hub.db);
  await sql`DELETE FROM kysely_migration WHERE name = '0009_share_base_scopes'`
    .execute(handle.db);
  await handle.close();
  const before = await sha256(hub.db);
  const out = `${hub.dir}/z2jh`;
  const run = await runMain([
    "export",
    "z2jh",
    "--config",
    hub.path,
    "--out",
    out,
  ]);
  assert.equal(run.code, 1);
  assert.match(
    run.stderr,
    /is older than this onehub \(pending migrations: 0009_share_base_scopes\): run "onehub db upgrade"/,
  );
  assert.equal(await sha256(hub.db), before);
  await assert.rejects(Deno.stat(out), Deno.errors.NotFound);
});

Deno.test("onehub export: missing or unknown targets and stray words are usage errors; --help", async (t) => {
  const rows: Array<[string[], RegExp]> = [
    [["export"], /Missing target; expected one of: z2jh, jupyterhub/],
    [
      ["export", "kubernetes"],
      /Unknown export target "kubernetes"; expected one of: z2jh, jupyterhub/,
    ],
    [
      ["export", "jupyterhub"],
      /^onehub export jupyterhub: --url is missing[^]*Usage: onehub export jupyterhub --url URL/,
    ],
    [["export", "z2jh", "extra"], /takes no arguments, got "extra"/],
    [["export", "z2jh", "--nope"], /Unknown option '--nope'/],
  ];
  for (const [args, message] of rows) {
    await t.step(args.join(" "), async () => {
      const out = await runMain(args);
      assert.equal(out.code, 2, out.stderr);
      assert.match(out.stderr, message);
    });
  }
  const help = await runMain(["export", "z2jh", "--help"]);
  assert.equal(help.code, 0);
  assert.match(
    help.stdout,
    /^Usage: onehub export z2jh \[--out DIR\] \[--include-secrets\] \[--force\]/,
  );
  assert.match(help.stdout, /Zero to JupyterHub Helm chart\n4\.4\.0/);
  const top = await runMain(["export", "--help"]);
  assert.equal(top.code, 0);
  assert.match(top.stdout, /z2jh {8}values\.yaml and MIGRATION\.md/);
  assert.match(top.stdout, /jupyterhub {2}users, groups and shares/);
});
