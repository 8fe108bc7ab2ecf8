/**
 * onehub's own lint rules, run by `deno lint` (deno.json `lint.plugins`).
 *
 * `onehub/max-function-lines`: a function outside tests/ is at most
 * {@linkcode MAX_FUNCTION_LINES} lines, so each reads as a list of named
 * steps. The few exceptions are listed in {@linkcode LONG_FUNCTIONS} with
 * their reason (docs/architecture.md repeats them).
 *
 * @module
 */

/** The longest function body the rule lets through, in source lines. */
export const MAX_FUNCTION_LINES = 80;

/**
 * Functions allowed to be longer, as `path:name` (path relative to the repo,
 * name as {@linkcode functionName} gives it), each with its reason.
 */
export const LONG_FUNCTIONS: Record<string, string> = {
  "hub/db/migrations/0001_initial.ts:up":
    "a migration is one frozen list of CREATE statements; splitting it hides the schema it wrote",
};

/** A readable name for a function node: its own, its variable's, its method's or property's. */
type FunctionNode =
  | Deno.lint.FunctionDeclaration
  | Deno.lint.FunctionExpression
  | Deno.lint.ArrowFunctionExpression;

function functionName(node: FunctionNode): string {
  if ("id" in node && node.id && node.id.type === "Identifier") {
    return node.id.name;
  }
  const parent = node.parent;
  if (
    parent?.type === "VariableDeclarator" && parent.id.type === "Identifier"
  ) {
    return parent.id.name;
  }
  if (
    (parent?.type === "MethodDefinition" || parent?.type === "Property") &&
    (parent.key.type === "Identifier" ||
      parent.key.type === "PrivateIdentifier")
  ) {
    return parent.key.type === "PrivateIdentifier"
      ? `#${parent.key.name}`
      : parent.key.name;
  }
  // A route handler: `app.post("/users/:name", async (c) => …)` → `post("/users/:name")`.
  if (parent?.type === "CallExpression") {
    const first = parent.arguments[0];
    const callee = parent.callee.type === "MemberExpression" &&
        parent.callee.property.type === "Identifier"
      ? parent.callee.property.name
      : "call";
    if (first?.type === "Literal" && typeof first.value === "string") {
      return `${callee}(${JSON.stringify(first.value)})`;
    }
    return `${callee}(…)`;
  }
  return "(anonymous)";
}

function repoPath(filename: string): string {
  const at = filename.lastIndexOf("/tools/lint/");
  const root = new URL("../../", import.meta.url).pathname;
  return filename.startsWith(root)
    ? filename.slice(root.length)
    : filename.slice(at + 1);
}

const plugin: Deno.lint.Plugin = {
  name: "onehub",
  rules: {
    "max-function-lines": {
      create(context) {
        const path = repoPath(context.filename);
        if (path.startsWith("tests/") || path.startsWith("bench/")) return {};
        function check(node: FunctionNode) {
          const lines = context.sourceCode.getText(node).split("\n").length;
          if (lines <= MAX_FUNCTION_LINES) return;
          const name = functionName(node);
          const key = `${path}:${name}`;
          if (key in LONG_FUNCTIONS) return;
          context.report({
            node,
            message:
              `${name} is ${lines} lines (at most ${MAX_FUNCTION_LINES})`,
            hint:
              "Split it into named steps, or list it in LONG_FUNCTIONS (tools/lint/onehub_plugin.ts) with its reason",
          });
        }
        return {
          FunctionDeclaration: check,
          FunctionExpression: check,
          ArrowFunctionExpression: check,
        };
      },
    },
  },
};

export default plugin;
