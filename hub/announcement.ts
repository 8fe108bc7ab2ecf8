/**
 * The announcement banner on the login and home pages: the text an admin
 * set on the admin page (kept in `hub_state`, so it survives restarts), or
 * else the config's `announcement`. Plain text, at most
 * {@linkcode MAX_ANNOUNCEMENT} characters; templates escape it.
 *
 * @module
 */
import type { HubConfig } from "./config/mod.ts";
import type { Db } from "./db/mod.ts";
import { getHubState, setHubState } from "./db/hub_state.ts";
import { HubError } from "./errors.ts";

/** Longest banner text. */
export const MAX_ANNOUNCEMENT = 1000;
const KEY = "announcement";

/** The banner's current text, read without a query on every page. */
export class Announcement {
  #set = "";
  constructor(private readonly config: HubConfig, private readonly db: Db) {}

  /** Loads the admin's text from the database (at start). */
  async load(): Promise<void> {
    this.#set = await getHubState(this.db, KEY) ?? "";
  }

  /** What the pages show: the admin's text, else the config's. */
  text(): string {
    return this.#set || this.config.announcement;
  }

  /** The admin's text ("" = none, the config's applies). */
  adminText(): string {
    return this.#set;
  }

  /**
   * Sets (or with "" clears) the admin's text.
   *
   * @throws {HubError} 400 for a text that is too long or not one paragraph of text.
   */
  async set(text: string): Promise<void> {
    const clean = text.trim();
    if (clean.length > MAX_ANNOUNCEMENT) {
      throw new HubError(
        400,
        `The announcement is ${clean.length} characters; keep it to ${MAX_ANNOUNCEMENT}`,
      );
    }
    // deno-lint-ignore no-control-regex
    if (/[\u0000-\u0008\u000b-\u001f\u007f]/.test(clean)) {
      throw new HubError(400, "The announcement contains control characters");
    }
    await setHubState(this.db, KEY, clean);
    this.#set = clean;
  }
}
