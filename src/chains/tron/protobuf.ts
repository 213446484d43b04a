import { payloadError } from '../decoded.js';

/**
 * Just enough protobuf to read TRON's `Transaction.raw` (core/Tron.proto) and the three
 * contract messages we sign. Unknown fields are skipped by wire type, like any protobuf
 * reader; malformed bytes are refused.
 */

const CHAIN = 'TRON';

type FieldValue = { wire: 0; value: bigint } | { wire: 2; bytes: Uint8Array } | { wire: 1 | 5; bytes: Uint8Array };

/** All fields of one message, in order, grouped by field number. */
export function readMessage(buf: Uint8Array, what: string): Map<number, FieldValue[]> {
  const fields = new Map<number, FieldValue[]>();
  let pos = 0;
  const bad = (why: string) => payloadError(CHAIN, `raw_data_hex: ${what} is malformed (${why})`);
  const varint = (): bigint => {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (pos >= buf.length) throw bad('truncated varint');
      const b = buf[pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) {
        if (result >= 1n << 64n) throw bad('varint over 64 bits');
        return result;
      }
    }
    throw bad('varint too long');
  };
  const take = (n: number): Uint8Array => {
    if (pos + n > buf.length) throw bad('field runs past the end');
    const out = buf.subarray(pos, pos + n);
    pos += n;
    return out;
  };
  while (pos < buf.length) {
    const key = varint();
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (field === 0) throw bad('field number 0');
    let v: FieldValue;
    if (wire === 0) v = { wire: 0, value: varint() };
    else if (wire === 2) {
      const len = varint();
      if (len > BigInt(buf.length)) throw bad('length past the end');
      v = { wire: 2, bytes: take(Number(len)) };
    } else if (wire === 1) v = { wire: 1, bytes: take(8) };
    else if (wire === 5) v = { wire: 5, bytes: take(4) };
    else throw bad(`unsupported wire type ${wire}`);
    const list = fields.get(field);
    if (list === undefined) fields.set(field, [v]);
    else list.push(v);
  }
  return fields;
}

/** The last occurrence of a scalar varint field (protobuf's rule), or 0n. */
export function getVarint(m: Map<number, FieldValue[]>, field: number, what: string): bigint {
  const list = m.get(field);
  if (list === undefined) return 0n;
  const v = list[list.length - 1]!;
  if (v.wire !== 0) throw payloadError(CHAIN, `raw_data_hex: ${what} has the wrong wire type`);
  return v.value;
}

/** The last occurrence of a bytes / string / message field, or empty. */
export function getBytes(m: Map<number, FieldValue[]>, field: number, what: string): Uint8Array {
  const list = m.get(field);
  if (list === undefined) return new Uint8Array(0);
  const v = list[list.length - 1]!;
  if (v.wire !== 2) throw payloadError(CHAIN, `raw_data_hex: ${what} has the wrong wire type`);
  return v.bytes;
}

export function getRepeatedBytes(m: Map<number, FieldValue[]>, field: number, what: string): Uint8Array[] {
  return (m.get(field) ?? []).map((v) => {
    if (v.wire !== 2) throw payloadError(CHAIN, `raw_data_hex: ${what} has the wrong wire type`);
    return v.bytes;
  });
}

/** int64 fields are two's complement in a 64-bit varint. */
export function asInt64(v: bigint): bigint {
  return v >= 1n << 63n ? v - (1n << 64n) : v;
}
