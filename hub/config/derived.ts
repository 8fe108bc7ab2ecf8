/**
 * Facts derived from a resolved configuration that several modules ask
 * (whether OAuth sign-in is on, the lingering close's bounds); they parse
 * nothing.
 *
 * @module
 */
import type { HubConfig } from "./types.ts";

/** Whether sign-in with the `auth.oauth` provider is on (`auth.oauth.enabled`, or `auth.type: oauth`). */
export function oauthOn(config: HubConfig): boolean {
  return config.auth.oauth.enabled || config.auth.type === "oauth";
}

/** The lingering close's bounds (`http.lingering_*`) for the hub's port and the built-in proxy. */
export function lingerLimits(
  config: HubConfig,
): { maxBytes: number; totalMs: number; idleMs: number } {
  return {
    maxBytes: config.http.lingeringBytes,
    totalMs: config.http.lingeringTimeSeconds * 1000,
    idleMs: config.http.lingeringTimeoutSeconds * 1000,
  };
}
