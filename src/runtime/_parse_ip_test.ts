import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseIp } from "./_parse_ip.ts";

describe("parseIp()", () => {
  it("parseIp() reads IPv4 dotted quads into 4 bytes", () => {
    assert.deepEqual([...parseIp("127.0.0.1")!], [127, 0, 0, 1]);
    assert.deepEqual([...parseIp("0.0.0.0")!], [0, 0, 0, 0]);
    assert.deepEqual([...parseIp("255.255.255.255")!], [255, 255, 255, 255]);
  });

  it("parseIp() reads IPv6 with ::, full form and an IPv4 tail into 16 bytes", () => {
    assert.deepEqual([...parseIp("::")!], new Array(16).fill(0));
    assert.deepEqual([...parseIp("::1")!], [...new Array(15).fill(0), 1]);
    assert.deepEqual(
      [...parseIp("fe80::1:ab")!],
      [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0xab],
    );
    assert.deepEqual([...parseIp("1:2:3:4:5:6:7:8")!], [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8]);
    assert.deepEqual(
      [...parseIp("::ffff:192.168.0.1")!],
      [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 168, 0, 1],
    );
  });

  it("parseIp() refuses names, bad quads, zones and malformed IPv6", () => {
    for (
      const text of [
        "localhost",
        "",
        "1.2.3",
        "256.0.0.1",
        "01.2.3.4",
        "1.2.3.4.5",
        "fe80::1%eth0",
        "1::2::3",
        "1:2:3:4:5:6:7:8:9",
        "1:2:3:4:5:6:7",
        "12345::",
        "::g",
      ]
    ) {
      assert.equal(parseIp(text), undefined, text);
    }
  });
});
