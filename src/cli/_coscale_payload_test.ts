import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { parseCoscaleData } from "../formats/coscale_data.ts";
import { coscaleEntrySize, coscaleForm, coscalePayload } from "./_coscale_payload.ts";

function payloadOf(text: string): unknown {
  const { entries, errors } = parseCoscaleData(text);
  assert.deepEqual(errors, []);
  return JSON.parse(coscalePayload(entries));
}

describe("coscalePayload()", () => {
  it("coscalePayload() builds the §3.3 example from the grammar", () => {
    assert.deepEqual(
      payloadOf(
        "M675:A:1495108650:1.23,0:1.1,-60:4.2;" +
          'M12:S34:-60:[100,10,[1,2,3,4,5,6,7,8,9,10,11,12,13]]:{"Queue":"q1","Cluster":"cl1"}',
      ),
      [
        { m: 675, s: "A", d: [[1495108650, 1.23], [0, 1.1], [-60, 4.2]] },
        {
          m: 12,
          s: "S34",
          d: [[-60, [100, 10, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]]]],
          dv: { Queue: "q1", Cluster: "cl1" },
        },
      ],
    );
  });

  it("coscalePayload() merges points per subject, metric and identical dimensions, in first-seen order", () => {
    assert.deepEqual(
      payloadOf(
        'M1:S1:-60:1;M2:S1:-60:5;M1:S1:0:2;M1:S2:0:3;M1:S1:0:4:{"a":"x","b":"y"};M1:S1:-30:6:{"b":"y","a":"x"};' +
          'M1:S1:-10:7:{"a":"z"}',
      ),
      [
        { m: 1, s: "S1", d: [[-60, 1], [0, 2]] },
        { m: 2, s: "S1", d: [[-60, 5]] },
        { m: 1, s: "S2", d: [[0, 3]] },
        { m: 1, s: "S1", d: [[0, 4], [-30, 6]], dv: { a: "x", b: "y" } },
        { m: 1, s: "S1", d: [[-10, 7]], dv: { a: "z" } },
      ],
    );
  });

  it("coscalePayload() keeps negative and exponent values and escapes dimension text", () => {
    const { entries } = parseCoscaleData('M3:A:0:-2.5e-3:{"q\\"x":"a;b"}');
    assert.equal(coscalePayload(entries), '[{"m":3,"s":"A","d":[[0,-0.0025]],"dv":{"q\\"x":"a;b"}}]');
    assert.equal(coscalePayload([]), "[]");
  });

  it("coscaleEntrySize() is never below what the entry adds to the payload", () => {
    const { entries } = parseCoscaleData(
      'M1:A:0:1;M22:S333:[-60:1.5,0:-2e10];M4:S1:-60:[100,50,[1,2,3]]:{"Queue":"q1","Data Center":"dc é"}',
    );
    for (const entry of entries) {
      assert.ok(coscaleEntrySize(entry) >= coscalePayload([entry]).length - 2, JSON.stringify(entry));
    }
  });
});

describe("coscaleForm()", () => {
  it("coscaleForm() is cdata = base64 of gzip of the payload, URL-encoded", () => {
    const payload = '[{"m":1,"s":"A","d":[[0,1.5]]}]';
    const form = new URLSearchParams(coscaleForm(payload));
    assert.deepEqual([...form.keys()], ["cdata"]);
    assert.equal(gunzipSync(Buffer.from(form.get("cdata")!, "base64")).toString(), payload);
  });
});
