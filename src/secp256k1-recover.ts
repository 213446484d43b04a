import { createRequire } from 'node:module';

/**
 * Public-key recovery through libsecp256k1 (npm `secp256k1`, native). noble's pure-JS
 * recovery costs about 3 ms per candidate on the CI machine, more than the token's own
 * signature; libsecp256k1 does it in about 0.05 ms. The package's index.js silently falls
 * back to a pure-JS build when the addon is missing, so the binding is loaded directly:
 * a missing addon is an install error, not a silent slowdown.
 */
interface NativeSecp256k1 {
  ecdsaRecover(signature: Uint8Array, recid: number, message: Uint8Array, compressed: boolean): Uint8Array;
}

let native: NativeSecp256k1 | undefined;

function binding(): NativeSecp256k1 {
  native ??= createRequire(import.meta.url)('secp256k1/bindings.js') as NativeSecp256k1;
  return native;
}

/**
 * The recovery id (0 or 1) under which the 64-byte r‖s over `digest32` recovers to
 * `publicKey` (33-byte compressed), or undefined when neither does: the signature is not
 * this key's, or not valid at all.
 */
export function findRecoveryId(signature64: Uint8Array, digest32: Uint8Array, publicKey: Uint8Array): 0 | 1 | undefined {
  for (const recid of [0, 1] as const) {
    if (recoversTo(signature64, digest32, recid, publicKey)) return recid;
  }
  return undefined;
}

/** Whether r‖s with `recid` over `digest32` recovers to `publicKey` (33-byte compressed). */
export function recoversTo(signature64: Uint8Array, digest32: Uint8Array, recid: 0 | 1, publicKey: Uint8Array): boolean {
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
