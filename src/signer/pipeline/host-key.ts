/**
 * What the three kinds of resolved signing keys (secp256k1, ed25519, ADA) share when a mnemonic
 * wallet signs: the child key exists on the host only while one transaction is signed.
 */
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

export function hostKey<K>(signatureId: string, derive: () => K, zero: (key: K) => void): HostKey<K> {
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
