/**
 * A resolved ed25519 key (XLM, ALGO, XRP, SOL) as an Ed25519Signer: every message goes to the token
 * (unwrap → CKM_EDDSA → destroy, hsm/token.ts); the seed never reaches chain code.
 */
import { ed25519 } from '@noble/curves/ed25519';
import type { Ed25519Signer } from '../../chains/ed25519/signer.js';
import { ed25519Spec } from '../../chains/ed25519/spec.js';
import { mnemonicToSeed } from '../../chains/mnemonic.js';
import { HardkmsError } from '../../errors.js';
import type { WalletEntry } from '../../vault/entries.js';
import type { Vault } from '../../vault/vault.js';
import { decryptSecret, wrappedKeyOf } from '../../vault/entry-secrets.js';
import type { KeyRef } from './key-resolution.js';
import { hostKeySigner, withMnemonicSeed } from './host-key.js';

export function ed25519SignerFor(vault: Vault, ref: KeyRef): Ed25519Signer & { readonly signatureId: string } {
  const wrapped = wrappedKeyOf(vault, ref.entry);
  return {
    signatureId: ref.entry.signatureId,
    publicKey: Uint8Array.from(ref.publicKey),
    // The chain's signEd25519Checked verifies it against the wallet's key.
    sign: (message) => Promise.resolve(vault.token.signEd25519WithWrapped(wrapped, message)),
  };
}

/** An ed25519 signer that may hold a host key (a mnemonic child) until wiped. */
interface WipeableEd25519Signer extends Ed25519Signer {
  readonly signatureId: string;
  /** Zeroes the host key, if one was derived; later sign calls throw. Idempotent. */
  wipe(): void;
}

/** The seed of a mnemonic wallet's ed25519 child (SOL: m/44'/501'/0'/0'/index'); mnemonic and BIP39 seed are wiped before it returns. */
function mnemonicChildSeed(vault: Vault, entry: WalletEntry, index: number): Uint8Array {
  const child = ed25519Spec(entry.chain)?.childSeed;
  if (child === undefined || entry.kind !== 'mnemonic') {
    throw new HardkmsError(
      'TX_KEY_NOT_RESOLVED',
      `wallet ${entry.signatureId} (${entry.chain}, ${entry.kind}) has no ed25519 mnemonic children`,
    );
  }
  return withMnemonicSeed(decryptSecret(vault, entry), mnemonicToSeed, (seed) => child(seed, index, entry.testnet));
}

/** Public key of a mnemonic wallet's ed25519 child, for key resolution; every secret is wiped before it returns. The caller audits. */
export function mnemonicEd25519PublicKey(vault: Vault, entry: WalletEntry, index: number): Uint8Array {
  const k = mnemonicChildSeed(vault, entry, index);
  try {
    return ed25519.getPublicKey(k);
  } finally {
    k.fill(0);
  }
}

/**
 * A resolved SOL/EGLD key: a stored key signs in the token; a mnemonic child is a host key
 * (host-key.ts), derived at the first signature and wiped by the caller.
 */
export function ed25519SignerForRef(vault: Vault, ref: KeyRef): WipeableEd25519Signer {
  if (ref.entry.kind !== 'mnemonic') return { ...ed25519SignerFor(vault, ref), wipe: () => undefined };
  const { entry } = ref;
  const index = ref.index ?? 0;
  return hostKeySigner(entry.signatureId, ref.publicKey, {
    derive: () => mnemonicChildSeed(vault, entry, index),
    publicKeyOf: (k) => ed25519.getPublicKey(k),
    mismatch: () =>
      new HardkmsError(
        'WALLET_KEY_MISMATCH',
        `wallet ${entry.signatureId}: the key derived at index ${index} is not the one resolved for this transaction`,
        {
          hint: 'The entry changed while the transaction was being signed; it was not signed.',
        },
      ),
    sign: (k, message) => ed25519.sign(message, k),
    zero: (k) => k.fill(0),
  });
}
