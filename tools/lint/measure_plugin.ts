/**
 * A lint plugin that measures rather than judges: it reports every function
 * with its length, as `<lines> <name>`, for tools/longest_functions.ts.
 * Not in deno.json; that tool passes it in a configuration of its own.
 *
 * @module
 */
import { functionName } from "./onehub_plugin.ts";

const plugin: Deno.lint.Plugin = {
  name: "measure",
  rules: {
    "function-length": {
      create(context) {
        const record = (node: Parameters<typeof functionName>[0]) =>
          context.report({
            node,
            message: `${context.sourceCode.getText(node).split("\n").length} ${
              functionName(node)
            }`,
          });
        return {
          FunctionDeclaration: record,
          FunctionExpression: record,
          ArrowFunctionExpression: record,
        };
      },
    },
  },
};

export default plugin;
