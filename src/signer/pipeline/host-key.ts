/**
 * What the three kinds of resolved signing keys (secp256k1, ed25519, ADA) share when a mnemonic
 * wallet signs: the child key exists on the host only while one transaction is signed.
 */
import { bytesEqual } from '../../chains/decoded.js';
import type { HardkmsError } from '../../errors.js';
import { wipedSignerError } from './signing-key-errors.js';

/**
 * The seed of a decrypted mnemonic, handed to `fn`; mnemonic and seed are zeroed before it
 * returns, whatever happens. Whatever `fn` returns is the caller's to wipe.
 */
export function withMnemonicSeed<T>(
  mnemonic: Buffer,
  toSeed: (mnemonic: Uint8Array) => Uint8Array,
  fn: (seed: Uint8Array) => T,
): T {
  let seed: Uint8Array | undefined;
  try {
    seed = toSeed(mnemonic);
    return fn(seed);
  } finally {
    mnemonic.fill(0);
    seed?.fill(0);
  }
}

/** A host key derived at its first use and kept until wipe(); a use after wipe() is the KEY_WIPED bug. */
interface HostKey<K> {
  /** The key, derived now if this is the first use. Throws what `derive` throws, or KEY_WIPED. */
  use(): K;
  /** Zeroes the key if one was derived; later uses throw. Idempotent. */
  wipe(): void;
}

function hostKey<K>(signatureId: string, derive: () => K, zero: (key: K) => void): HostKey<K> {
  let key: K | undefined;
  let wiped = false;
  return {
    use() {
      if (wiped) throw wipedSignerError(signatureId);
      key ??= derive();
      return key;
    },
    wipe() {
      wiped = true;
      if (key !== undefined) zero(key);
      key = undefined;
    },
  };
}

/** A resolved mnemonic child as a signer: the key exists on the host from its first signature until wipe(). */
interface HostKeySigner<S = Uint8Array> {
  readonly signatureId: string;
  readonly publicKey: Uint8Array;
  /** async: a derivation failure, a mismatch or a use after wipe() is a rejection, as every signer's. */
  sign(message: Uint8Array): Promise<S>;
  /** Zeroes the key if one was derived; later sign calls throw. Idempotent. */
  wipe(): void;
}

/** How one kind of host key (secp256k1, ed25519, ADA's BIP32-Ed25519) is derived, checked, used and zeroed. */
interface HostKeyKind<K, S> {
  /** Derives the child (decrypting the mnemonic; mnemonic and seed zeroed before it returns). */
  derive(): K;
  publicKeyOf(key: K): Uint8Array;
  /** The error when the derived key is not the one resolved for the transaction. */
  mismatch(): HardkmsError;
  sign(key: K, message: Uint8Array): S | Promise<S>;
  zero(key: K): void;
}

/**
 * The signer of a resolved mnemonic child: derived at the first signature, checked against
 * the public key resolved earlier (a different key is zeroed and refused before it signs),
 * kept only until wipe(), which the caller runs as soon as the transaction is signed.
 */
export function hostKeySigner<K, S = Uint8Array>(
  signatureId: string,
  resolvedPublicKey: Uint8Array,
  kind: HostKeyKind<K, S>,
): HostKeySigner<S> {
  const publicKey = Uint8Array.from(resolvedPublicKey);
  const key = hostKey(
    signatureId,
    () => {
      const k = kind.derive();
      if (!bytesEqual(kind.publicKeyOf(k), publicKey)) {
        kind.zero(k);
        throw kind.mismatch();
      }
      return k;
    },
    (k) => kind.zero(k),
  );
  return {
    signatureId,
    publicKey,
    async sign(message) {
      return kind.sign(key.use(), message);
    },
    wipe: () => key.wipe(),
  };
}
