// arrowcols.mjs - Arrow column builders from arrays of JavaScript values (null for a null), shared
// by the test writers pqwriters.mjs and bigpages.mjs. Test tooling only.
import * as arrow from 'apache-arrow';

export function bitmap(vals) {
  const bm = new Uint8Array(Math.ceil(vals.length / 8));
  vals.forEach((v, i) => { if (v !== null) bm[i >> 3] |= 1 << (i & 7); });
  return bm;
}
export function fixed(type, vals, Arr, conv = (v) => v) {
  const data = new Arr(vals.length);
  vals.forEach((v, i) => { data[i] = v === null ? conv(Arr === BigInt64Array ? 0n : 0) : conv(v); });
  return arrow.makeData({ type, length: vals.length, nullCount: vals.filter((v) => v === null).length,
    nullBitmap: bitmap(vals), data });
}
export function utf8(vals) {
  const enc = new TextEncoder();
  const parts = vals.map((v) => enc.encode(v ?? ''));
  const offs = new Int32Array(vals.length + 1);
  parts.forEach((p, i) => { offs[i + 1] = offs[i] + p.length; });
  const data = new Uint8Array(offs[vals.length]);
  parts.forEach((p, i) => data.set(p, offs[i]));
  return arrow.makeData({ type: new arrow.Utf8(), length: vals.length,
    nullCount: vals.filter((v) => v === null).length, nullBitmap: bitmap(vals), valueOffsets: offs, data });
}
