/**
 * onehub's own lint rules, run by `deno lint` (deno.json `lint.plugins`).
 *
 * `onehub/max-function-lines`: a function outside tests/ is at most
 * {@linkcode MAX_FUNCTION_LINES} lines, so each reads as a list of named
 * steps. The few exceptions are listed in {@linkcode LONG_FUNCTIONS} with
 * their reason (docs/architecture.md repeats them).
 *
 * `onehub/max-positional-params`: an exported function or method takes at
 * most {@linkcode MAX_POSITIONAL_PARAMS} positional parameters, the rest in
 * an options object (Deno's style guide: "max 2 args, put the rest into an
 * options object"), so a call reads without its signature beside it. A last
 * parameter that is that options object does not count (named `options` or
 * `…Options`, or typed `{ … }` or `…Options`), nor does a leading `db` (the
 * database handle) or `c` (hono's context), which nearly every function of
 * its module takes.
 *
 * @module
 */

/** The longest function body the rule lets through, in source lines. */
export const MAX_FUNCTION_LINES = 60;

/** The most positional parameters an exported function takes (Deno std's rule). */
export const MAX_POSITIONAL_PARAMS = 2;

/** Leading parameter names that do not count toward {@linkcode MAX_POSITIONAL_PARAMS}. */
const CONTEXT_PARAMS = new Set(["db", "c"]);

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

export function functionName(node: FunctionNode): string {
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

function paramName(param: Deno.lint.Parameter | undefined): string {
  if (param?.type === "Identifier") return param.name;
  if (param?.type === "AssignmentPattern" && param.left.type === "Identifier") {
    return param.left.name;
  }
  return "";
}

/** Whether a parameter is an options object: named or typed so, or typed `{ … }`. */
function isOptionsObject(param: Deno.lint.Parameter | undefined): boolean {
  if (!param) return false;
  const target = param.type === "AssignmentPattern" ? param.left : param;
  if (target.type !== "Identifier" && target.type !== "ObjectPattern") {
    return false;
  }
  if (target.type === "Identifier" && /(^o|O)ptions$/.test(target.name)) {
    return true;
  }
  const annotation = target.typeAnnotation?.typeAnnotation;
  if (annotation?.type === "TSTypeLiteral") return true;
  return annotation?.type === "TSTypeReference" &&
    annotation.typeName.type === "Identifier" &&
    /Options$/.test(annotation.typeName.name);
}

/** Whether a function is part of its module's exports (itself, its variable, or a public method of an exported class). */
function isExported(node: FunctionNode): boolean {
  const parent = node.parent;
  if (node.type === "FunctionDeclaration") {
    return parent?.type === "ExportNamedDeclaration" ||
      parent?.type === "ExportDefaultDeclaration";
  }
  if (parent?.type === "VariableDeclarator") {
    return parent.parent?.parent?.type === "ExportNamedDeclaration";
  }
  if (parent?.type === "MethodDefinition") {
    if (parent.key.type === "PrivateIdentifier") return false;
    const klass = parent.parent?.parent;
    return klass?.parent?.type === "ExportNamedDeclaration";
  }
  return false;
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
    "max-positional-params": {
      create(context) {
        const path = repoPath(context.filename);
        if (path.startsWith("tests/") || path.startsWith("bench/")) return {};
        function check(node: FunctionNode) {
          if (!isExported(node)) return;
          const params = node.params;
          const counted = params.length -
            (CONTEXT_PARAMS.has(paramName(params[0])) ? 1 : 0) -
            (params.length > 1 && isOptionsObject(params.at(-1)) ? 1 : 0);
          if (counted <= MAX_POSITIONAL_PARAMS) return;
          context.report({
            node,
            message: `${
              functionName(node)
            } takes ${counted} positional parameters (at most ${MAX_POSITIONAL_PARAMS})`,
            hint:
              "Keep the one or two a reader needs to see first; pass the rest in an options object",
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
