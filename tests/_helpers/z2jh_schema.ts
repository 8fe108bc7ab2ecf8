/**
 * Validates Zero to JupyterHub values the way `helm install` does: the
 * chart's default values (tests/fixtures/z2jh/chart-values.yaml) coalesced
 * with the given ones (maps merged, lists and scalars replaced, null
 * removes a default), then checked against the chart's values schema
 * (tests/fixtures/z2jh/values.schema.json, draft-07) by ajv, non-strict as
 * Helm's validator is. Fixtures: tests/fixtures/z2jh/ (see its README.md).
 *
 * @module
 */
import Ajv from "ajv";
import { parse } from "yaml";
import { repoPath } from "./paths.ts";

type Json = Record<string, unknown>;

function isMap(value: unknown): value is Json {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Helm's coalescing of user values over chart defaults. */
export function coalesce(defaults: Json, values: Json): Json {
  const out: Json = { ...defaults };
  for (const [key, value] of Object.entries(values)) {
    if (value === null) delete out[key];
    else if (isMap(value) && isMap(out[key])) {
      out[key] = coalesce(out[key] as Json, value);
    } else out[key] = value;
  }
  return out;
}

const schema = JSON.parse(
  await Deno.readTextFile(repoPath("tests/fixtures/z2jh/values.schema.json")),
) as Json;
const chartValues = parse(
  await Deno.readTextFile(repoPath("tests/fixtures/z2jh/chart-values.yaml")),
) as Json;

// deno-lint-ignore no-explicit-any
const ajv = new (Ajv as any)({ strict: false, allErrors: true });
const validate = ajv.compile(schema) as {
  (data: unknown): boolean;
  errors?: { instancePath: string; message?: string; params: unknown }[];
};

/** The schema's complaints about `values` over the chart's defaults ([] = valid). */
export function z2jhSchemaErrors(values: Json): string[] {
  if (validate(coalesce(chartValues, values))) return [];
  return (validate.errors ?? []).map((e) =>
    `${e.instancePath || "/"} ${e.message ?? ""} ${JSON.stringify(e.params)}`
  );
}
