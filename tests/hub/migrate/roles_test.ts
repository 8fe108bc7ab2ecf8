import assert from "node:assert/strict";
import {
  loadRolesPython,
  type OnehubRole,
  toLoadRoles,
  toZ2jhLoadRoles,
} from "../../../hub/migrate/roles.ts";
import { BUILTIN_ROLES } from "../../../hub/rbac/roles.ts";

function role(name: string, fields: Partial<OnehubRole> = {}): OnehubRole {
  return {
    name,
    description: "",
    scopes: [],
    users: [],
    groups: [],
    services: [],
    ...fields,
  };
}

const ROLES: OnehubRole[] = [
  role("teaching-assistant", {
    description: "Helps the students",
    scopes: ["access:servers!group=students", "list:users"],
    users: ["tom", "ada", "tom"],
    groups: ["tas"],
  }),
  // A built-in role as onehub has it: says nothing JupyterHub does not.
  role("server", {
    ...BUILTIN_ROLES.server,
    scopes: BUILTIN_ROLES.server.scopes,
  }),
  // Redefined (sharing on): carries its scopes.
  role("user", {
    description: BUILTIN_ROLES.user.description,
    scopes: ["self", "shares!user", "read:users:name", "read:groups:name"],
  }),
  // Built in, not redefined, but given to someone: no scopes, the bearers.
  role("admin", { ...BUILTIN_ROLES.admin, users: ["boss"] }),
  role("culler", { scopes: ["list:users"], services: ["idle-culler"] }),
];

Deno.test("toLoadRoles() keeps custom roles whole, built-in ones only as far as onehub changed or gave them", () => {
  assert.deepEqual(toLoadRoles(ROLES), [
    { name: "admin", users: ["boss"] },
    { name: "culler", scopes: ["list:users"], services: ["idle-culler"] },
    {
      name: "teaching-assistant",
      description: "Helps the students",
      scopes: ["access:servers!group=students", "list:users"],
      users: ["ada", "tom"],
      groups: ["tas"],
    },
    {
      name: "user",
      description: "Standard user privileges",
      scopes: ["self", "shares!user", "read:users:name", "read:groups:name"],
    },
  ]);
});

Deno.test("toZ2jhLoadRoles() is the same mapping keyed by name, as Z2JH's hub.loadRoles", () => {
  const z2jh = toZ2jhLoadRoles(ROLES);
  assert.deepEqual(Object.keys(z2jh), [
    "admin",
    "culler",
    "teaching-assistant",
    "user",
  ]);
  assert.deepEqual(z2jh.culler, {
    scopes: ["list:users"],
    services: ["idle-culler"],
  });
});

Deno.test("loadRolesPython() writes a Python literal JupyterHub's config reads", async () => {
  const text = loadRolesPython(toLoadRoles([
    role("quote-test", { description: 'says "hi" \\ é\n', users: ["ada"] }),
  ]));
  assert.equal(
    text,
    'c.JupyterHub.load_roles = [\n    {"name": "quote-test", "description": "says \\"hi\\" \\\\ é\\n", "scopes": [], "users": ["ada"]},\n]',
  );
  const python = await new Deno.Command("python3", {
    args: [
      "-c",
      `import json, sys\nclass C: pass\nc = C(); c.JupyterHub = C()\nexec(sys.stdin.read())\nprint(json.dumps(c.JupyterHub.load_roles))`,
    ],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const writer = python.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const out = await python.output();
  assert.deepEqual(JSON.parse(new TextDecoder().decode(out.stdout)), [{
    name: "quote-test",
    description: 'says "hi" \\ é\n',
    scopes: [],
    users: ["ada"],
  }]);
});
