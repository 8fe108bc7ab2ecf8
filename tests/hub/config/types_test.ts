/**
 * `HubConfig` is written out in hub/config/types.ts so editors and readers
 * see its shape; the key table (hub/config/mod.ts, rows in hub/config/keys/)
 * stays the source of truth. This file fails to COMPILE (`deno check`, so
 * `deno test` and `deno task ok` too) when the two differ.
 *
 * To fix a mismatch after adding, removing or changing a key: make the
 * field in hub/config/types.ts say what the row resolves to. The field's
 * path is the row's `field`; its type is what `resolve` returns, else the
 * enum's values as a union, `string[]` for a list, `number` for an int,
 * `boolean` for a bool, `string` for a string or url path. The errors
 * under `_derivedFitsWritten` / `_writtenFitsDerived` name the field that
 * differs; `_check` alone failing means a modifier differs (`readonly`,
 * `?`) or a field is a wider or narrower type in one direction only.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { CONFIG_KEYS } from "../../../hub/config/mod.ts";
import type { ConfigOf } from "../../../hub/config/schema.ts";
import type { HubConfig } from "../../../hub/config/types.ts";

/** The configuration type the key table derives. */
type DerivedConfig = ConfigOf<(typeof CONFIG_KEYS)[number]>;

/** `true` only when A and B are the same type (optional and readonly modifiers included). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends
  (<T>() => T extends B ? 1 : 2) ? true : false;

const _check: Equal<HubConfig, DerivedConfig> = true;
// Each way round: when one fails, the compiler names the field.
const _derivedFitsWritten: HubConfig = {} as DerivedConfig;
const _writtenFitsDerived: DerivedConfig = {} as HubConfig;

Deno.test("HubConfig in types.ts is the type the key table derives", () => {
  assert.equal(_check, true);
});
