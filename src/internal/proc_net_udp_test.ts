import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createSocket } from "node:dgram";
import type { Socket } from "node:dgram";
import { parseProcNetUdp, PROC_NET_UDP, readProcNetUdp, readSocketInodes } from "./proc_net_udp.ts";

const fixture = (name: string) =>
  readFileSync(fileURLToPath(new URL(`./testdata/${name}`, import.meta.url).href), "utf8");
const hasProc = readSocketInodes().then((inodes) => inodes !== undefined);

describe("parseProcNetUdp", () => {
  it("parseProcNetUdp() reads port, queue and drops of every IPv4 socket by inode", () => {
    const sockets = parseProcNetUdp(fixture("proc_net_udp.txt"));
    assert.deepEqual([...sockets.keys()], [30454, 30455, 30458]);
    // 0100007F:1FBD is 127.0.0.1:8125 with a full buffer: 0x680 bytes queued, 48 dropped.
    assert.deepEqual(sockets.get(30454), { drops: 48, rxQueue: 0x680, localPort: 8125 });
    assert.deepEqual(sockets.get(30455), { drops: 0, rxQueue: 0x340, localPort: 25826 });
    assert.deepEqual(sockets.get(30458), { drops: 0, rxQueue: 0, localPort: 44864 });
  });

  it("parseProcNetUdp() reads the IPv6 file, whose addresses are 32 hex digits", () => {
    const sockets = parseProcNetUdp(fixture("proc_net_udp6.txt"));
    assert.equal(sockets.size, 3);
    assert.deepEqual(sockets.get(30456), { drops: 48, rxQueue: 0x680, localPort: 8125 });
    assert.deepEqual(sockets.get(30457), { drops: 0, rxQueue: 0, localPort: 9125 });
    assert.deepEqual(sockets.get(30459), { drops: 0, rxQueue: 0, localPort: 53262 });
  });

  it("parseProcNetUdp() skips the header, blank and malformed lines and inode 0", () => {
    const text = [
      "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops",
      "",
      "garbage",
      "   1: 0100007F:1FBD 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 0 2 0000000000000000 0",
      "   2: 0100007F:ZZZZ 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 77 2 0000000000000000 0",
      "   3: 0100007F:0050 00000000:0000 07 00000000:00000010 00:00000000 00000000     0        0 78 2 0000000000000000 5",
    ].join("\n");
    assert.deepEqual([...parseProcNetUdp(text)], [[78, { drops: 5, rxQueue: 16, localPort: 80 }]]);
    assert.equal(parseProcNetUdp("").size, 0);
  });

  it("parseProcNetUdp() reads drops as 0 on kernels without a drops column", () => {
    const text =
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n" +
      "  5: 00000000:1FBD 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 99 2 0000000000000000\n";
    assert.deepEqual(parseProcNetUdp(text).get(99), { drops: 0, rxQueue: 0, localPort: 8125 });
  });
});

describe("readProcNetUdp", () => {
  it("readProcNetUdp() returns undefined for a file that does not exist", async () => {
    assert.equal(await readProcNetUdp("/nonexistent/proc/net/udp"), undefined);
    assert.equal(await readSocketInodes("/nonexistent/proc/self/fd"), undefined);
  });

  it("readProcNetUdp() finds a socket this process bound, and readSocketInodes() owns it", async (t) => {
    if (!(await hasProc)) return t.skip("no /proc on this system");
    const socket: Socket = createSocket("udp4");
    await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
    try {
      const port = socket.address().port;
      const sockets = await readProcNetUdp(PROC_NET_UDP.udp4);
      const own = await readSocketInodes();
      const mine = [...sockets!].filter(([inode, s]) => s.localPort === port && own!.has(inode));
      assert.equal(mine.length, 1);
      assert.equal(mine[0]![1].drops, 0);
    } finally {
      await new Promise<void>((resolve) => socket.close(resolve));
    }
  });
});
