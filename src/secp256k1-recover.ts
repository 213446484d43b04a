import { nativeSecp256k1 } from './secp256k1-native.js';

/**
 * Public-key recovery through libsecp256k1 (npm `secp256k1`, native). noble's pure-JS
 * recovery costs about 3 ms per candidate on the CI machine, more than the token's own
 * signature; libsecp256k1 does it in about 0.05 ms.
 */
const binding = nativeSecp256k1;

/**
 * The recovery id (0 or 1) under which the 64-byte r‖s over `digest32` recovers to
 * `publicKey` (33-byte compressed), or undefined when neither does: the signature is not
 * this key's, or not valid at all.
 */
export function findRecoveryId(
  signature64: Uint8Array,
  digest32: Uint8Array,
  publicKey: Uint8Array,
): 0 | 1 | undefined {
  for (const recid of [0, 1] as const) {
    if (recoversTo(signature64, digest32, recid, publicKey)) return recid;
  }
  return undefined;
}

/** Whether r‖s with `recid` over `digest32` recovers to `publicKey` (33-byte compressed). */
export function recoversTo(
  signature64: Uint8Array,
  digest32: Uint8Array,
  recid: 0 | 1,
  publicKey: Uint8Array,
): boolean {
  let recovered: Uint8Array;
  try {
    recovered = binding().ecdsaRecover(signature64, recid, digest32, true);
  } catch {
    // libsecp256k1 throws on an r or s out of range or a point that does not exist.
    return false;
  }
  return Buffer.from(recovered.buffer, recovered.byteOffset, recovered.byteLength).equals(
    Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.byteLength),
  );
}
