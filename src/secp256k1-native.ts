import { createRequire } from 'node:module';
import type { TinySecp256k1Interface } from 'bip32';

/**
 * libsecp256k1 through npm `secp256k1`'s native addon. The package's index.js silently
 * falls back to a pure-JS build when the addon is missing, so the binding is loaded
 * directly: a missing addon is an install error, not a silent slowdown.
 */
interface NativeSecp256k1 {
  privateKeyVerify(seckey: Uint8Array): boolean;
  privateKeyTweakAdd(seckey: Uint8Array, tweak: Uint8Array): Uint8Array;
  publicKeyVerify(pubkey: Uint8Array): boolean;
  publicKeyCreate(seckey: Uint8Array, compressed: boolean): Uint8Array;
  publicKeyConvert(pubkey: Uint8Array, compressed: boolean): Uint8Array;
  publicKeyTweakAdd(pubkey: Uint8Array, tweak: Uint8Array, compressed: boolean): Uint8Array;
  signatureNormalize(signature: Uint8Array): Uint8Array;
  ecdsaSign(
    message: Uint8Array,
    seckey: Uint8Array,
    options?: { data?: Uint8Array },
  ): { signature: Uint8Array; recid: number };
  ecdsaVerify(signature: Uint8Array, message: Uint8Array, pubkey: Uint8Array): boolean;
  ecdsaRecover(signature: Uint8Array, recid: number, message: Uint8Array, compressed: boolean): Uint8Array;
}

let native: NativeSecp256k1 | undefined;

export function nativeSecp256k1(): NativeSecp256k1 {
  native ??= createRequire(import.meta.url)('secp256k1/bindings.js') as NativeSecp256k1;
  return native;
}

function orNull<T>(fn: () => T): T | null {
  try {
    return fn();
  } catch {
    return null;
  }
}

/**
 * The curve operations bip32 needs, on libsecp256k1. The pure-JS library costs about 0.3 s
 * of CPU in bip32's start-up self-test alone (which still runs, now in a millisecond) and
 * several ms per derivation step. Semantics follow tiny-secp256k1: null where the result
 * is the point at infinity or zero, inputs never modified (the addon tweaks keys in place,
 * so private keys are copied first).
 */
export function bip32Ecc(): TinySecp256k1Interface {
  const s = nativeSecp256k1();
  const isPrivate = (d: Uint8Array): boolean => d.length === 32 && s.privateKeyVerify(d);
  return {
    isPoint: (p) => (p.length === 33 || p.length === 65) && s.publicKeyVerify(p),
    isPrivate,
    pointFromScalar: (d, compressed = true) => (isPrivate(d) ? s.publicKeyCreate(d, compressed) : null),
    pointAddScalar: (p, tweak, compressed = p.length === 33) => orNull(() => s.publicKeyTweakAdd(p, tweak, compressed)),
    privateAdd: (d, tweak) => orNull(() => s.privateKeyTweakAdd(Uint8Array.from(d), tweak)),
    sign: (h, d, e) => s.ecdsaSign(h, d, e === undefined ? {} : { data: e }).signature,
    verify: (h, q, signature, strict = false) => {
      // libsecp256k1 verifies low-s only; tiny-secp256k1 accepts high-s unless strict.
      const sig = strict ? signature : s.signatureNormalize(Uint8Array.from(signature));
      return orNull(() => s.ecdsaVerify(sig, h, q)) === true;
    },
  };
}
