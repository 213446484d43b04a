/**
 * A resolved ed25519 key (XLM, ALGO) as an Ed25519Signer: every message goes to the token
 * (unwrap → CKM_EDDSA → destroy, hsm/token.ts); the seed never reaches chain code.
 */
import type { Ed25519Signer } from '../chains/ed25519/signer.js';
import type { Vault } from '../vault/vault.js';
import { wrappedKeyOf } from '../vault/wallets.js';
import type { KeyRef } from './key-resolution.js';

export function ed25519SignerFor(vault: Vault, ref: KeyRef): Ed25519Signer & { readonly signatureId: string } {
  const wrapped = wrappedKeyOf(vault, ref.entry);
  return {
    signatureId: ref.entry.signatureId,
    publicKey: Uint8Array.from(ref.publicKey),
    sign: (message) => Promise.resolve(vault.token.signEd25519WithWrapped(wrapped, message)),
  };
}
