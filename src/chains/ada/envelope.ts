/**
 * Cardano Rosetta's transaction envelope: `unsigned_transaction` and `signed_transaction`
 * are the hex of a CBOR array [transaction hex as a text string, extra data map] (Rosetta's
 * data-mapper encodeExtraData). hardkms reads the first element and checks that the whole
 * envelope is one well-formed CBOR item; the extra data (the operations Rosetta keeps for
 * its own `parse`) is not trusted and not needed.
 *
 * A reader this small instead of a CBOR package: the envelope is one fixed shape and the
 * transaction inside it is decoded by cardano-serialization-lib.
 */
import { payloadError } from '../decoded.js';

const MAX_DEPTH = 64;

function head(b: Uint8Array, pos: number): { major: number; value: number; next: number; indefinite: boolean } {
  if (pos >= b.length) throw new Error('truncated');
  const ib = b[pos]!;
  const major = ib >> 5;
  const info = ib & 0x1f;
  if (info < 24) return { major, value: info, next: pos + 1, indefinite: false };
  if (info === 31) return { major, value: 0, next: pos + 1, indefinite: true };
  const len = info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : info === 27 ? 8 : 0;
  if (len === 0 || pos + 1 + len > b.length) throw new Error('bad length');
  let v = 0;
  for (let i = 0; i < len; i++) v = v * 256 + b[pos + 1 + i]!;
  if (!Number.isSafeInteger(v)) throw new Error('length too large');
  return { major, value: v, next: pos + 1 + len, indefinite: false };
}

/** The position after the CBOR item at `pos`. */
function skip(b: Uint8Array, pos: number, depth = 0): number {
  if (depth > MAX_DEPTH) throw new Error('too deep');
  const h = head(b, pos);
  switch (h.major) {
    case 0:
    case 1:
      return h.next;
    case 2:
    case 3:
      if (h.indefinite) {
        let p = h.next;
        while (b[p] !== 0xff) p = skip(b, p, depth + 1);
        return p + 1;
      }
      if (h.next + h.value > b.length) throw new Error('truncated string');
      return h.next + h.value;
    case 4:
    case 5: {
      let p = h.next;
      if (h.indefinite) {
        while (b[p] !== 0xff) p = skip(b, p, depth + 1);
        return p + 1;
      }
      const n = h.major === 5 ? h.value * 2 : h.value;
      for (let i = 0; i < n; i++) p = skip(b, p, depth + 1);
      return p;
    }
    case 6:
      return skip(b, h.next, depth + 1);
    default:
      if (h.indefinite) throw new Error('stray break');
      return h.next;
  }
}

/** The envelope (checked hex) and the transaction hex inside it; `field` names it in the error. */
export function openRosettaEnvelope(
  envelopeHex: unknown,
  field: string,
): { envelopeHex: string; transactionHex: string } {
  const fail = (why: string) =>
    payloadError(
      'ADA',
      `Rosetta ${field} ${why}`,
      "The Rosetta node's answer was not used; nothing was signed or sent.",
    );
  if (
    typeof envelopeHex !== 'string' ||
    envelopeHex.length === 0 ||
    envelopeHex.length % 2 !== 0 ||
    !/^[0-9a-fA-F]+$/.test(envelopeHex)
  ) {
    throw fail('is not hex');
  }
  const b = Uint8Array.from(Buffer.from(envelopeHex, 'hex'));
  try {
    if (skip(b, 0) !== b.length) throw new Error('trailing bytes');
    const arr = head(b, 0);
    if (arr.major !== 4 || arr.indefinite || arr.value !== 2) throw new Error('not a two-element array');
    const text = head(b, arr.next);
    if (text.major !== 3 || text.indefinite) throw new Error('first element is not a text string');
    const tx = Buffer.from(b.subarray(text.next, text.next + text.value)).toString('latin1');
    if (tx.length === 0 || tx.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(tx))
      throw new Error('first element is not transaction hex');
    return { envelopeHex, transactionHex: tx.toLowerCase() };
  } catch (e) {
    throw fail(`is not Cardano Rosetta's [transaction hex, extra data] CBOR envelope (${(e as Error).message})`);
  }
}
