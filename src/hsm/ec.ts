import { secp256k1 } from '@noble/curves/secp256k1';
import { HardkmsError } from '../errors.js';

type CurveName = 'secp256k1' | 'p256';

/** DER-encoded named-curve OIDs for CKA_EC_PARAMS. */
export const CURVE_OID: Record<CurveName, Buffer> = {
  secp256k1: Buffer.from('06052b8104000a', 'hex'),
  p256: Buffer.from('06082a8648ce3d030107', 'hex'),
};

const ORDER: Record<CurveName, bigint> = {
  secp256k1: secp256k1.CURVE.n,
  p256: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
};

/**
 * CKA_EC_POINT is a DER OCTET STRING around the uncompressed point on most tokens
 * (SoftHSM2, Luna); some return the bare point. Accept both.
 */
export function decodeEcPoint(value: Buffer): Buffer {
  if (value.length === 65 && value[0] === 0x04) return Buffer.from(value);
  if (value[0] === 0x04 && value[1] === 0x41 && value.length === 67) return Buffer.from(value.subarray(2));
  if (value[0] === 0x04 && value[1] === 0x81 && value[2] === 0x41 && value.length === 68)
    return Buffer.from(value.subarray(3));
  throw new HardkmsError('HSM_FAILED', 'The token returned an EC point in an unexpected encoding.');
}

function toBig(b: Uint8Array): bigint {
  return BigInt(`0x${Buffer.from(b).toString('hex') || '0'}`);
}

function to32(n: bigint): Buffer {
  return Buffer.from(n.toString(16).padStart(64, '0'), 'hex');
}

/** Splits a raw r ‖ s signature from CKM_ECDSA and flips s to the lower half of the order. */
export function normaliseLowS(curve: CurveName, raw: Buffer): { r: Buffer; s: Buffer } {
  if (raw.length !== 64) {
    throw new HardkmsError('HSM_FAILED', `The token returned a ${raw.length}-byte ECDSA signature; expected 64.`);
  }
  const n = ORDER[curve];
  const r = Buffer.from(raw.subarray(0, 32));
  let s = toBig(raw.subarray(32));
  if (s > n / 2n) s = n - s;
  return { r, s: to32(s) };
}
