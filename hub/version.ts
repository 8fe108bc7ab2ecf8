/**
 * Version numbers. `HUB_API_VERSION` is what clients see in
 * `X-JupyterHub-Version` and `GET /hub/api`: it must be PEP 440 and at least
 * 5.x so jupyterhub-singleuser parses it and the idle culler uses `state=`
 * filters (JupyterHub's REST API reference). `ONEHUB_VERSION` is this program's own.
 *
 * @module
 */

/** The JupyterHub REST API level implemented. */
export const HUB_API_VERSION = "5.3.0";

/** onehub's own version. */
export const ONEHUB_VERSION = "0.1.0";
