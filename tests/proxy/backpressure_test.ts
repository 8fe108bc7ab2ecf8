/**
 * Backpressure: with a client that stops reading, the proxy must stop
 * reading from the target instead of buffering what the target sends. The
 * proxy runs in its own process so its resident memory can be sampled
 * from /proc; the target (in this process) offers 320 MiB and counts what
 * it actually got rid of.
 *
 * The stall is a fixed few seconds on purpose: the property is that
 * nothing grows while time passes.
 */
import assert from "node:assert/strict";
import { startEchoUpstream } from "../_helpers/echo_upstream.ts";
import {
  type ProxyProcess,
  startProxyProcess,
} from "../_helpers/proxy_process.ts";
import { waitFor } from "../_helpers/wait_for.ts";
import { get, RawClient } from "./_raw_http.ts";

const MiB = 1024 * 1024;
const OFFERED_MIB = 320;
const STALL_MS = 3000;
const RSS_LIMIT = 150 * MiB;
/** Socket buffers on both hops of the loopback (client, proxy, target) hold at most a few tens of MiB. */
const STALLED_LIMIT = 64 * MiB;

const onLinux = Deno.build.os === "linux";

/** Samples `probe` every 50 ms until `stop` resolves; returns the maximum seen. */
async function sampleMax(
  probe: () => Promise<number>,
  stop: Promise<unknown>,
): Promise<number> {
  let max = await probe();
  let stopped = false;
  stop.finally(() => (stopped = true)).catch(() => {});
  while (!stopped) {
    await Promise.race([
      new Promise((resolve) => setTimeout(resolve, 50)),
      stop.catch(() => {}),
    ]);
    max = Math.max(max, await probe());
  }
  return max;
}

const stallFor = (ms: number) =>
  new Promise((resolve) => setTimeout(resolve, ms));

/** An echo upstream behind a proxy process, a raw client on the proxy; all closed on dispose. */
async function clientThroughProxyProcess() {
  const stack = new AsyncDisposableStack();
  try {
    const up = stack.use(await startEchoUpstream());
    const proxy = stack.use(await startProxyProcess({ "/": up.origin }));
    const client = stack.use(await RawClient.connect(proxy.port));
    const close = () => stack.disposeAsync();
    return { up, proxy, client, [Symbol.asyncDispose]: close };
  } catch (error) {
    await stack.disposeAsync();
    throw error;
  }
}

/** The proxy's peak RSS while the client reads nothing for STALL_MS. */
function rssWhileStalled(proxy: ProxyProcess): Promise<number> {
  return sampleMax(() => proxy.rss(), stallFor(STALL_MS));
}

/** The client reads all that was offered; what it got and the proxy's peak RSS meanwhile. */
async function readOffered(
  client: RawClient,
  proxy: ProxyProcess,
): Promise<{ received: number; rss: number }> {
  const reading = client.discard(OFFERED_MIB * MiB);
  const rss = await sampleMax(() => proxy.rss(), reading);
  return { received: await reading, rss };
}

/** Asserts the proxy's peak RSS stayed under RSS_LIMIT while it was `doing` something. */
function assertRssUnder(rss: number, doing: string): void {
  assert.ok(
    rss < RSS_LIMIT,
    `proxy RSS reached ${(rss / MiB).toFixed(1)} MiB while ${doing}`,
  );
}

Deno.test({
  name: "proxy holds a WebSocket flood back while the client does not read",
  ignore: !onLinux,
  async fn() {
    await using setup = await clientThroughProxyProcess();
    const { up, proxy, client } = setup;
    await client.write(
      `GET /ws-flood?count=${OFFERED_MIB}&size=${MiB} HTTP/1.1\r\nHost: hub.test\r\nUpgrade: websocket\r\n` +
        "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
    );
    assert.equal((await client.readHead())?.status, 101);
    await waitFor(() => up.floodSent() > 0, {
      description: "the flood to start",
    });

    // Stall: read nothing.
    const stalledRss = await rssWhileStalled(proxy);
    const sentWhileStalled = up.floodSent();
    assert.ok(
      sentWhileStalled < STALLED_LIMIT,
      `the target got rid of ${
        (sentWhileStalled / MiB).toFixed(1)
      } MiB although the client read nothing`,
    );
    assertRssUnder(stalledRss, "stalled");

    // Resume: everything offered arrives, memory stays flat.
    // (Frames add a few bytes per message; the session itself stays open until the client closes.)
    const { received, rss: readingRss } = await readOffered(client, proxy);
    assert.ok(received >= OFFERED_MIB * MiB, `received ${received} bytes`);
    await waitFor(() => up.floodSent() === OFFERED_MIB * MiB, {
      description: "the whole flood to be sent",
    });
    assertRssUnder(readingRss, "relaying");
  },
});

Deno.test({
  name: "proxy holds a large HTTP download back while the client does not read",
  ignore: !onLinux,
  async fn() {
    await using setup = await clientThroughProxyProcess();
    const { up, proxy, client } = setup;
    await client.write(get(`/big?mb=${OFFERED_MIB}&length=1`));
    const head = await client.readHead();
    assert.equal(head?.status, 200);
    await waitFor(() => up.streams[0]?.bytes, {
      description: "the download to start",
    });

    const stalledRss = await rssWhileStalled(proxy);
    const pulledWhileStalled = up.streams[0]!.bytes;
    assert.ok(
      pulledWhileStalled < STALLED_LIMIT,
      `the target produced ${
        (pulledWhileStalled / MiB).toFixed(1)
      } MiB although the client read nothing`,
    );
    assertRssUnder(stalledRss, "stalled");

    const { received, rss: readingRss } = await readOffered(client, proxy);
    assert.ok(received >= OFFERED_MIB * MiB);
    assert.equal(up.streams[0]!.bytes, OFFERED_MIB * MiB);
    assertRssUnder(readingRss, "relaying");
  },
});
