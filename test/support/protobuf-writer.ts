/** A tiny protobuf writer for hand-made TRON raw_data_hex, independent of the code under test. */
export function varint(n: bigint | number): number[] {
  let v = BigInt(n);
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return out;
}
export const fVarint = (field: number, v: bigint | number): number[] => [...varint(field << 3), ...varint(v)];
export const fBytes = (field: number, b: Uint8Array | number[]): number[] => [
  ...varint((field << 3) | 2),
  ...varint(b.length),
  ...b,
];
