/**
 * The one error type of `spawners/` (jupyterhub's `SpawnException`, minus
 * the web base class): `reason` is a sentence the hub can show to the user.
 *
 * @module
 */

/**
 * A server could not be started, polled or stopped, or a system account
 * could not be looked up or created.
 *
 * @example
 * ```ts
 * const argv = ["/usr/bin/jupyterhub-singleuser"];
 * const error = new SpawnError(`Cannot start "${argv[0]}": not found`);
 * error.reason; // the same text, shown on the spawn-pending page
 * ```
 */
export class SpawnError extends Error {
  /**
   * @param reason what went wrong, action first, detail after a colon
   * @param options the underlying error, if any
   */
  constructor(readonly reason: string, options?: { cause?: unknown }) {
    super(reason, options);
    this.name = "SpawnError";
  }
}
