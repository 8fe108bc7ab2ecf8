/**
 * Small facts about addresses and peers, each decided in one place: which
 * bind addresses and URLs are this machine's own, and JupyterHub's rule for
 * "this server answers". No state.
 *
 * @module
 */

/**
 * Whether a bind address accepts connections from this machine only.
 *
 * @example
 * ```ts
 * isLoopbackAddress("127.0.0.1"); // true
 * isLoopbackAddress("0.0.0.0"); // false
 * ```
 */
export function isLoopbackAddress(ip: string): boolean {
  return ip === "localhost" || ip === "::1" || /^127\.\d+\.\d+\.\d+$/.test(ip);
}

/** Whether a URL names this machine (127.0.0.1, localhost or [::1]). */
export function isLoopbackUrl(url: URL): boolean {
  return url.hostname === "127.0.0.1" || url.hostname === "localhost" ||
    url.hostname === "[::1]";
}

/**
 * JupyterHub's readiness rule for a server or a service: any answer below
 * 500 counts, redirects are not followed, no answer within `timeoutMs`
 * (or an error) does not.
 */
export async function httpAnswers(
  url: string,
  timeoutMs = 5000,
): Promise<boolean> {
  try {
    const res = await fetch(url, {
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.body?.cancel();
    return res.status < 500;
  } catch {
    return false;
  }
}
