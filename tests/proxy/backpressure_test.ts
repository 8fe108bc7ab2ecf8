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
import { startProxyProcess } from "../_helpers/proxy_process.ts";
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

Deno.test({
  name: "proxy holds a WebSocket flood back while the client does not read",
  ignore: !onLinux,
  async fn() {
    await using up = await startEchoUpstream();
    await using proxy = await startProxyProcess({ "/": up.origin });
    await using client = await RawClient.connect(proxy.port);
    await client.write(
      `GET /ws-flood?count=${OFFERED_MIB}&size=${MiB} HTTP/1.1\r\nHost: hub.test\r\nUpgrade: websocket\r\n` +
        "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
    );
    assert.equal((await client.readHead())?.status, 101);
    await waitFor(() => up.floodSent() > 0, {
      description: "the flood to start",
    });

    // Stall: read nothing.
    const stalledRss = await sampleMax(() => proxy.rss(), stallFor(STALL_MS));
    const sentWhileStalled = up.floodSent();
    assert.ok(
      sentWhileStalled < STALLED_LIMIT,
      `the target got rid of ${
        (sentWhileStalled / MiB).toFixed(1)
      } MiB although the client read nothing`,
    );
    assert.ok(
      stalledRss < RSS_LIMIT,
      `proxy RSS reached ${(stalledRss / MiB).toFixed(1)} MiB while stalled`,
    );

    // Resume: everything offered arrives, memory stays flat.
    // (Frames add a few bytes per message; the session itself stays open until the client closes.)
    const reading = client.discard(OFFERED_MIB * MiB);
    const readingRss = await sampleMax(() => proxy.rss(), reading);
    const received = await reading;
    assert.ok(received >= OFFERED_MIB * MiB, `received ${received} bytes`);
    await waitFor(() => up.floodSent() === OFFERED_MIB * MiB, {
      description: "the whole flood to be sent",
    });
    assert.ok(
      readingRss < RSS_LIMIT,
      `proxy RSS reached ${(readingRss / MiB).toFixed(1)} MiB while relaying`,
    );
  },
});

Deno.test({
  name: "proxy holds a large HTTP download back while the client does not read",
  ignore: !onLinux,
  async fn() {
    await using up = await startEchoUpstream();
    await using proxy = await startProxyProcess({ "/": up.origin });
    await using client = await RawClient.connect(proxy.port);
    await client.write(get(`/big?mb=${OFFERED_MIB}&length=1`));
    const head = await client.readHead();
    assert.equal(head?.status, 200);
    await waitFor(() => up.streams[0]?.bytes, {
      description: "the download to start",
    });

    const stalledRss = await sampleMax(() => proxy.rss(), stallFor(STALL_MS));
    const pulledWhileStalled = up.streams[0]!.bytes;
    assert.ok(
      pulledWhileStalled < STALLED_LIMIT,
      `the target produced ${
        (pulledWhileStalled / MiB).toFixed(1)
      } MiB although the client read nothing`,
    );
    assert.ok(
      stalledRss < RSS_LIMIT,
      `proxy RSS reached ${(stalledRss / MiB).toFixed(1)} MiB while stalled`,
    );

    const reading = client.discard(OFFERED_MIB * MiB);
    const readingRss = await sampleMax(() => proxy.rss(), reading);
    assert.ok((await reading) >= OFFERED_MIB * MiB);
    assert.equal(up.streams[0]!.bytes, OFFERED_MIB * MiB);
    assert.ok(
      readingRss < RSS_LIMIT,
      `proxy RSS reached ${(readingRss / MiB).toFixed(1)} MiB while relaying`,
    );
  },
});
