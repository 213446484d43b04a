/**
 * A resolved key (key-resolution.ts) as a DigestSigner whose secret exists only while a
 * transaction is being signed:
 *
 * - private-key wallets: every digest goes to the token (unwrap → sign → destroy the
 *   session object); the plain key never reaches the host;
 * - mnemonic wallets: on the first digest the token decrypts the mnemonic, the host
 *   derives the seed and the child key, and mnemonic and seed are zeroed at once; the child
 *   key stays in one host signer until `wipe()`, which the caller runs in a `finally` as
 *   soon as the transaction is signed (one decryption per key per transaction, not per input).
 *
 * The derived key is checked against the public key resolved from the stored xpub before
 * it signs anything: a wallet entry whose xpub and mnemonic disagree is refused.
 */
import { HardkmsError } from '../../errors.js';
import { getChainAdapter } from '../../chains/registry.js';
import { mnemonicToSeed } from '../../chains/mnemonic.js';
import {
  hostDigestSigner,
  type DigestSigner,
  type HostDigestSigner,
  type SignerSignature,
} from '../../chains/digest-signer.js';
import type { WalletEntry } from '../../vault/entries.js';
import type { Vault } from '../../vault/vault.js';
import { decryptSecret, signWithEntry } from '../../vault/entry-secrets.js';
import type { KeyRef } from './key-resolution.js';
import { wipedSignerError, derivedKeyMismatch } from './signing-key-errors.js';
import { hostKeySigner, withMnemonicSeed } from './host-key.js';

export interface SigningKey extends DigestSigner {
  readonly signatureId: string;
  readonly index: number | undefined;
  /** Zeroes whatever the signer holds; later signDigest calls throw. Idempotent. */
  wipe(): void;
}

/** The secret-touching steps, injectable so a test can watch the buffers they return. */
export interface SigningKeyDeps {
  /** r, s from the token; the recovery id is left to signDigestChecked. */
  signWrapped(vault: Vault, entry: WalletEntry, digest: Uint8Array): SignerSignature;
  decryptMnemonic(vault: Vault, entry: WalletEntry): Buffer;
  mnemonicToSeed(mnemonic: Uint8Array): Uint8Array;
  /** `chain`: the chain whose path derives (§3.1 rule 3), default the entry's own. */
  privateKeyFromSeed(entry: WalletEntry, seed: Uint8Array, index: number, chain?: string): Uint8Array;
  hostSigner(privateKey: Uint8Array): HostDigestSigner;
}

export const defaultSigningKeyDeps: SigningKeyDeps = {
  signWrapped: (vault, entry, digest) => signWithEntry(vault, entry, digest),
  decryptMnemonic: (vault, entry) => decryptSecret(vault, entry),
  mnemonicToSeed: (m) => mnemonicToSeed(m),
  privateKeyFromSeed: (entry, seed, index, chain) =>
    getChainAdapter(chain ?? entry.chain).privateKeyFromSeed(seed, index, entry.testnet),
  hostSigner: (k) => hostDigestSigner(k),
};

export function signingKeyFor(vault: Vault, ref: KeyRef, deps: SigningKeyDeps = defaultSigningKeyDeps): SigningKey {
  const { entry } = ref;
  const publicKey = Uint8Array.from(ref.publicKey);
  let wiped = false;
  const checkLive = (): void => {
    if (wiped) throw wipedSignerError(entry.signatureId);
  };

  if (entry.kind === 'privateKey') {
    return {
      signatureId: entry.signatureId,
      index: undefined,
      publicKey,
      async signDigest(digest) {
        checkLive();
        return deps.signWrapped(vault, entry, digest);
      },
      wipe() {
        wiped = true;
      },
    };
  }
  if (entry.kind !== 'mnemonic' || ref.index === undefined) {
    throw new HardkmsError(
      'TX_KEY_NOT_RESOLVED',
      `wallet ${entry.signatureId} (${entry.kind}) cannot sign this transaction`,
    );
  }
  const index = ref.index;
  const host = hostKeySigner(entry.signatureId, publicKey, {
    derive: () => childSigner(vault, entry, index, ref.deriveChain, deps, (signer) => signer),
    publicKeyOf: (signer) => signer.publicKey,
    mismatch: () => derivedKeyMismatch(entry.signatureId, index),
    sign: (signer, digest) => signer.signDigest(digest),
    zero: (signer) => signer.wipe(),
  });
  return {
    signatureId: entry.signatureId,
    index,
    publicKey: host.publicKey,
    signDigest: (digest) => host.sign(digest),
    wipe: () => host.wipe(),
  };
}

/** The host signer of a mnemonic wallet's child on `chain`'s path, handed to `fn`; mnemonic, seed and child key are zeroed before it returns. */
function childSigner<T>(
  vault: Vault,
  entry: WalletEntry,
  index: number,
  chain: string | undefined,
  deps: SigningKeyDeps,
  fn: (signer: HostDigestSigner) => T,
): T {
  return withMnemonicSeed(deps.decryptMnemonic(vault, entry), deps.mnemonicToSeed, (seed) => {
    const child = deps.privateKeyFromSeed(entry, seed, index, chain);
    try {
      return fn(deps.hostSigner(child));
    } finally {
      child.fill(0);
    }
  });
}

/**
 * Public key of a mnemonic wallet's child on another chain's path (§3.1 rule 3 across
 * chains whose paths differ), for key resolution before signing. Mnemonic, seed and child
 * key are zeroed before it returns; the caller audits the decryption.
 */
export function derivedPublicKey(
  vault: Vault,
  entry: WalletEntry,
  chain: string,
  index: number,
  deps: SigningKeyDeps = defaultSigningKeyDeps,
): Uint8Array {
  return childSigner(vault, entry, index, chain, deps, (signer) => {
    const pub = Uint8Array.from(signer.publicKey);
    signer.wipe();
    return pub;
  });
}
