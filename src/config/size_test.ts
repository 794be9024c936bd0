import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { formatSize, parseSize } from "./size.ts";

describe("parseSize()", () => {
  it("parses binary units and plain byte counts", () => {
    assert.equal(parseSize("512KiB"), 512 * 1024);
    assert.equal(parseSize("4MiB"), 4 * 1024 * 1024);
    assert.equal(parseSize("1GiB"), 1024 ** 3);
    assert.equal(parseSize("2TiB"), 2 * 1024 ** 4);
    assert.equal(parseSize("100B"), 100);
    assert.equal(parseSize(65536), 65536);
  });

  it("rounds fractional sizes down to whole bytes", () => {
    assert.equal(parseSize("1.5KiB"), 1536);
    assert.equal(parseSize("0.3KiB"), 307);
  });

  it("refuses decimal units, negatives and fractions of a byte", () => {
    for (const value of ["1MB", "1kb", "4 mib", "-1KiB", "KiB", "", "1.5", -1, 1.5, Number.NaN]) {
      assert.equal(parseSize(value), undefined, String(value));
    }
  });
});

describe("formatSize()", () => {
  it("uses the coarsest exact unit", () => {
    assert.equal(formatSize(4 * 1024 * 1024), "4MiB");
    assert.equal(formatSize(1000), "1000B");
    assert.equal(formatSize(1536), "1536B");
  });

  it("round-trips through parseSize()", () => {
    for (const bytes of [1, 1024, 1025, 128 * 1024, 1024 ** 3]) {
      assert.equal(parseSize(formatSize(bytes)), bytes);
    }
  });
});
