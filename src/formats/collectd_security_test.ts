import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createCipheriv, createHash, createHmac, getCiphers } from "node:crypto";
import { aes256Ofb } from "./_aes256_ofb.ts";
import { encodeCollectdParts } from "./_collectd_parts.ts";
import { sealCollectdPacket } from "../inputs/collectd/seal.ts";
import { openCollectdPacket } from "./collectd_security.ts";
import type { AuthFailure, OpenOptions, SecurityLevel } from "./collectd_security.ts";

const USERS = new Map([["u", "p"], ["alice", "s3cret"]]);
const IV = Uint8Array.from({ length: 16 }, (_, i) => i * 7);

const TIME_HR = 1_700_000_000n << 30n;

/** Two value lists (load, then cpu-0/cpu-user) with every identity part, as collectd writes them. */
function plain(host = "h1", value = 1.5): Uint8Array {
  return encodeCollectdParts([
    { kind: "string", type: 0x0000, text: host },
    { kind: "number", type: 0x0008, value: TIME_HR },
    { kind: "string", type: 0x0002, text: "load" },
    { kind: "string", type: 0x0004, text: "load" },
    { kind: "values", values: [{ code: 1, value }] },
    { kind: "string", type: 0x0002, text: "cpu" },
    { kind: "string", type: 0x0003, text: "0" },
    { kind: "string", type: 0x0004, text: "cpu" },
    { kind: "string", type: 0x0005, text: "user" },
    { kind: "values", values: [{ code: 2, value: 42n }] },
  ]);
}

/** Joins packets and parts. */
function concat(chunks: readonly Uint8Array[]): Uint8Array {
  return encodeCollectdParts(chunks.map((bytes) => ({ kind: "raw", bytes })));
}

/** Runs openCollectdPacket and records copies of the sections and the failures. */
function open(packet: Uint8Array, level: SecurityLevel, auth: "users" | "no_auth_file" = "users") {
  const users = auth === "users" ? USERS : undefined;
  const sections: Uint8Array[] = [];
  const views: Uint8Array[] = [];
  const failures: Array<[AuthFailure, string]> = [];
  const options: OpenOptions = { level, users };
  const count = openCollectdPacket(packet, {
    section(bytes) {
      views.push(bytes);
      sections.push(Uint8Array.from(bytes));
    },
    failure(reason, user) {
      failures.push([reason, user]);
    },
  }, options);
  assert.equal(count, sections.length);
  return { sections, views, failures };
}

function sign(payload: Uint8Array, user = "u", password = "p"): Uint8Array {
  return sealCollectdPacket(payload, { mode: "sign", user, password });
}

function encrypt(payload: Uint8Array, user = "u", password = "p"): Uint8Array {
  return sealCollectdPacket(payload, { mode: "encrypt", user, password, iv: IV });
}

describe("openCollectdPacket()", () => {
  it("openCollectdPacket() hands a plain packet at level none on as the very bytes received", () => {
    const packet = plain();
    const r = open(packet, "none");
    assert.equal(r.views.length, 1);
    assert.equal(r.views[0], packet);
    assert.deepEqual(r.failures, []);
    assert.deepEqual(open(packet, "none", "no_auth_file").sections, [packet]);
  });

  it("openCollectdPacket() delivers nothing for an empty datagram", () => {
    assert.deepEqual(open(new Uint8Array(0), "none"), { sections: [], views: [], failures: [] });
  });

  it("openCollectdPacket() verifies a signed packet at every level that takes it", () => {
    const payload = plain();
    for (const level of ["none", "sign"] as const) {
      const r = open(sign(payload), level);
      assert.deepEqual(r.sections, [payload], level);
      assert.deepEqual(r.failures, [], level);
    }
  });

  it("openCollectdPacket() decrypts an encrypted packet at every level", () => {
    const payload = plain();
    for (const level of ["none", "sign", "encrypt"] as const) {
      const r = open(encrypt(payload), level);
      assert.deepEqual(r.sections, [payload], level);
      assert.deepEqual(r.failures, [], level);
    }
  });

  it("openCollectdPacket() without an auth file skips a signature unverified, as collectd does", () => {
    const payload = plain();
    const r = open(sign(payload, "nobody", "wrong"), "none", "no_auth_file");
    assert.deepEqual(r.sections, [payload]);
    assert.deepEqual(r.failures, []);
  });

  it("openCollectdPacket() without an auth file cannot decrypt: unknown_user", () => {
    const r = open(encrypt(plain()), "none", "no_auth_file");
    assert.deepEqual(r.sections, []);
    assert.deepEqual(r.failures, [["unknown_user", "u"]]);
  });

  it("openCollectdPacket() refuses plain packets at sign and encrypt, and signed ones at encrypt", () => {
    assert.deepEqual(open(plain(), "sign"), { sections: [], views: [], failures: [["required", ""]] });
    assert.deepEqual(open(plain(), "encrypt"), { sections: [], views: [], failures: [["required", ""]] });
    assert.deepEqual(open(sign(plain()), "encrypt"), {
      sections: [],
      views: [],
      failures: [["required", ""]],
    });
  });

  it("openCollectdPacket() refuses a signature by an unknown user or with the wrong password", () => {
    assert.deepEqual(open(sign(plain(), "mallory", "p"), "sign").failures, [["unknown_user", "mallory"]]);
    const wrong = open(sign(plain(), "u", "not-p"), "sign");
    assert.deepEqual(wrong.sections, []);
    assert.deepEqual(wrong.failures, [["bad_signature", "u"]]);
    // At level none an auth file still makes signatures count.
    assert.deepEqual(open(sign(plain(), "u", "not-p"), "none").failures, [["bad_signature", "u"]]);
  });

  it("openCollectdPacket() refuses a signed packet whose payload or HMAC was tampered with", () => {
    const signed = sign(plain());
    const payloadByte = signed.slice();
    payloadByte[signed.length - 3]! ^= 0x01;
    assert.deepEqual(open(payloadByte, "sign").failures, [["bad_signature", "u"]]);
    const hmacByte = signed.slice();
    hmacByte[10]! ^= 0x80;
    assert.deepEqual(open(hmacByte, "sign").failures, [["bad_signature", "u"]]);
    // Bytes appended after signing are covered by the signature too.
    assert.deepEqual(
      open(concat([signed, encodeCollectdParts([{ kind: "string", type: 0x0000, text: "extra" }])]), "sign")
        .failures,
      [[
        "bad_signature",
        "u",
      ]],
    );
  });

  it("openCollectdPacket() refuses an encrypted packet with a wrong password, unknown user or tampering", () => {
    assert.deepEqual(open(encrypt(plain(), "u", "not-p"), "encrypt").failures, [["bad_checksum", "u"]]);
    assert.deepEqual(open(encrypt(plain(), "eve", "p"), "encrypt").failures, [["unknown_user", "eve"]]);
    const sealed = encrypt(plain());
    for (const at of [8, 30, sealed.length - 1]) {
      const tampered = sealed.slice();
      tampered[at]! ^= 0x04;
      const r = open(tampered, "encrypt");
      assert.deepEqual(r.sections, [], `byte ${at}`);
      assert.deepEqual(r.failures, [["bad_checksum", "u"]], `byte ${at}`);
    }
  });

  it("openCollectdPacket() reports security parts with impossible lengths as malformed", () => {
    // A signature part without a user name.
    const noUser = sign(plain()).slice();
    new DataView(noUser.buffer).setUint16(2, 36);
    assert.deepEqual(open(noUser, "sign").failures, [["malformed", ""]]);
    // An encryption part whose user name length is 0, or runs past the part.
    for (const userLength of [0, 2000]) {
      const sealed = encrypt(plain()).slice();
      new DataView(sealed.buffer).setUint16(4, userLength);
      assert.deepEqual(open(sealed, "encrypt").failures, [["malformed", ""]], `user length ${userLength}`);
    }
    // An encryption part too short to hold anything.
    const short = new Uint8Array(60);
    new DataView(short.buffer).setUint16(0, 0x0210);
    new DataView(short.buffer).setUint16(2, 42);
    assert.deepEqual(open(short, "none").failures, [["malformed", ""]]);
  });

  it("openCollectdPacket() opens each encrypted part of a packet as its own section, in order", () => {
    const a = plain("a");
    const b = plain("b", 2.5);
    const r = open(
      concat([encrypt(a), sealCollectdPacket(b, { mode: "encrypt", user: "alice", password: "s3cret" })]),
      "encrypt",
    );
    assert.deepEqual(r.sections, [a, b]);
    assert.deepEqual(r.failures, []);
  });

  it("openCollectdPacket() keeps sections that came before a refused part and drops the rest of its scope", () => {
    const a = plain("a");
    const r = open(concat([encrypt(a), encrypt(plain("b"), "u", "wrong"), encrypt(plain("c"))]), "encrypt");
    assert.deepEqual(r.sections, [a]);
    assert.deepEqual(r.failures, [["bad_checksum", "u"]]);
  });

  it("openCollectdPacket() at level none joins the plain parts around an encrypted one into one section, after it", () => {
    const before = plain("before");
    const inner = plain("inner");
    const after = plain("after");
    const r = open(concat([before, encrypt(inner), after]), "none");
    assert.deepEqual(r.sections, [inner, concat([before, after])]);
    assert.deepEqual(r.failures, []);
  });

  it("openCollectdPacket() at level sign delivers the signed remainder and ignores plain parts before it", () => {
    const payload = plain();
    const r = open(concat([plain("unsigned"), sign(payload)]), "sign");
    assert.deepEqual(r.sections, [payload]);
    assert.deepEqual(r.failures, [["required", ""]]);
  });

  it("openCollectdPacket() verifies a signature inside an encrypted part", () => {
    const payload = plain();
    const r = open(encrypt(sign(payload, "alice", "s3cret")), "encrypt");
    assert.deepEqual(r.sections, [payload]);
    assert.deepEqual(r.failures, []);
  });

  it("openCollectdPacket() hands a truncated tail of a plain packet on for the format to count", () => {
    const packet = concat([plain(), Uint8Array.of(0x00, 0x06, 0x40, 0x00, 0x01)]);
    assert.deepEqual(open(packet, "none").sections, [packet]);
    const signed = sign(packet);
    assert.deepEqual(open(signed, "sign").sections, [packet]);
  });

  it("openCollectdPacket() never delivers a signed or encrypted packet with any one byte changed", () => {
    const cases = [
      { level: "sign" as const, sealed: sign(plain()) },
      { level: "encrypt" as const, sealed: encrypt(plain()) },
    ];
    for (const { level, sealed } of cases) {
      for (let at = 0; at < sealed.length; at++) {
        for (const flip of [0x01, 0x80]) {
          const mutated = sealed.slice();
          mutated[at]! ^= flip;
          const r = open(mutated, level);
          assert.deepEqual(r.sections, [], `${level}: byte ${at} ^ ${flip}`);
          assert.ok(r.failures.length > 0, `${level}: byte ${at} ^ ${flip} was not counted`);
        }
      }
    }
  });

  it("openCollectdPacket() survives random and truncated datagrams at every level", () => {
    let seed = 12345;
    const random = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    const seeds = [sign(plain()), encrypt(plain()), plain(), encrypt(sign(plain()))];
    for (let i = 0; i < 3000; i++) {
      let packet: Uint8Array;
      if (i % 3 === 0) {
        packet = Uint8Array.from({ length: Math.floor(random() * 200) }, () => Math.floor(random() * 256));
        // Steer some random packets into the security parts.
        if (packet.length > 4 && random() < 0.5) packet[0] = 0x02, packet[1] = random() < 0.5 ? 0x00 : 0x10;
      } else {
        const base = seeds[i % seeds.length]!;
        packet = base.slice(0, Math.floor(random() * (base.length + 1)));
        for (let k = 0; k < 3; k++) {
          if (packet.length > 0) packet[Math.floor(random() * packet.length)] = Math.floor(random() * 256);
        }
      }
      for (const level of ["none", "sign", "encrypt"] as const) {
        const r = open(packet, level);
        for (const section of r.sections) assert.ok(section.length > 0);
      }
    }
  });
});

describe("sealCollectdPacket()", () => {
  it("sealCollectdPacket() signs as collectd does: HMAC-SHA-256 of user name and payload, keyed by the password", () => {
    const payload = plain();
    const signed = sign(payload, "alice", "s3cret");
    const view = new DataView(signed.buffer);
    assert.equal(view.getUint16(0), 0x0200);
    assert.equal(view.getUint16(2), 36 + 5);
    const hmac = createHmac("sha256", "s3cret").update("alice").update(payload).digest();
    assert.deepEqual(Buffer.from(signed.subarray(4, 36)), hmac);
    assert.equal(Buffer.from(signed.subarray(36, 41)).toString(), "alice");
    assert.deepEqual(signed.subarray(41), payload);
  });

  it("sealCollectdPacket() encrypts as collectd does: AES-256-OFB of SHA-1 and payload, keyed by SHA-256 of the password", () => {
    const payload = plain();
    const sealed = encrypt(payload, "alice", "s3cret");
    const view = new DataView(sealed.buffer);
    assert.equal(view.getUint16(0), 0x0210);
    assert.equal(view.getUint16(2), sealed.length);
    assert.equal(view.getUint16(4), 5);
    assert.equal(Buffer.from(sealed.subarray(6, 11)).toString(), "alice");
    assert.deepEqual(sealed.subarray(11, 27), IV);
    const key = createHash("sha256").update("s3cret").digest();
    const clear = aes256Ofb(key, IV, sealed.subarray(27));
    assert.deepEqual(clear.subarray(0, 20), createHash("sha1").update(payload).digest());
    assert.deepEqual(new Uint8Array(clear.subarray(20)), payload);
  });

  it("sealCollectdPacket() refuses an empty user and a part over 65535 bytes", () => {
    assert.throws(
      () => sealCollectdPacket(plain(), { mode: "sign", user: "", password: "p" }),
      /user name is empty/,
    );
    assert.throws(
      () => sealCollectdPacket(new Uint8Array(65_500), { mode: "encrypt", user: "u", password: "p" }),
      /over 65535/,
    );
  });
});

describe("aes256Ofb()", () => {
  it("aes256Ofb() equals OpenSSL's aes-256-ofb where the runtime has it, and inverts itself", (t) => {
    const key = createHash("sha256").update("p").digest();
    const input = Uint8Array.from({ length: 1000 }, (_, i) => (i * 31) & 0xff);
    const out = aes256Ofb(key, IV, input);
    assert.deepEqual(new Uint8Array(aes256Ofb(key, IV, out)), input);
    if (!getCiphers().includes("aes-256-ofb")) {
      return t.skip("this runtime has no aes-256-ofb to compare with");
    }
    const cipher = createCipheriv("aes-256-ofb", key, IV);
    assert.deepEqual(out, Buffer.concat([cipher.update(input), cipher.final()]));
  });
});
