import { randomUUID } from 'node:crypto';
import { HardkmsError } from '../errors.js';
import type { EcdsaSignature } from '../hsm/ec.js';
import { entryAad, type EntryKind, type NewWalletEntry, type PublicData, type WalletEntry } from './entries.js';
import type { Vault } from './vault.js';

/**
 * Wallet operations on an unsealed vault. The chain layer computes public data
 * (addresses, xpubs) and hands it in; this module only talks to the token and the store.
 */

function checkNetwork(vault: Vault, testnet: boolean): void {
  if (!testnet && vault.testnetOnly) {
    throw new HardkmsError('VAULT_TESTNET_ONLY', 'This vault was initialised with --testnet and refuses mainnet wallets.', {
      hint: 'Pass --testnet, or create a mainnet vault (with a YubiKey gate) for mainnet wallets.',
    });
  }
}

export interface PrivateKeyRequest {
  chain: string;
  testnet: boolean;
  signatureId?: string;
  /** Public data for the entry, computed by the chain layer from the 33-byte public key. */
  publicData: (publicKey: Buffer) => PublicData;
}

/**
 * Generates `count` secp256k1 keys inside the token and stores them wrapped, all in one
 * transaction. The plain keys never exist outside the token.
 */
export function generatePrivateKeys(vault: Vault, req: PrivateKeyRequest, count: number, onProgress?: (done: number) => void): WalletEntry[] {
  checkNetwork(vault, req.testnet);
  const entries: NewWalletEntry[] = [];
  for (let i = 0; i < count; i++) {
    const k = vault.token.generateSecp256k1();
    entries.push({
      signatureId: randomUUID(),
      chain: req.chain,
      testnet: req.testnet,
      kind: 'privateKey',
      publicData: { ...req.publicData(k.publicKey), publicKey: k.publicKey.toString('hex') },
      wrappedSecret: k.wrapped,
      mechanism: k.mechanism,
    });
    onProgress?.(i + 1);
  }
  vault.store.addEntries(entries);
  return entries.map((e) => ({ ...e, created: '' }));
}

/** Imports a user-supplied private key (already validated by the chain layer). */
export function importPrivateKey(vault: Vault, req: PrivateKeyRequest, privateKey: Uint8Array, publicKey: Uint8Array): NewWalletEntry {
  checkNetwork(vault, req.testnet);
  const k = vault.token.importSecp256k1(privateKey, publicKey);
  return {
    signatureId: req.signatureId ?? randomUUID(),
    chain: req.chain,
    testnet: req.testnet,
    kind: 'privateKey',
    publicData: { ...req.publicData(k.publicKey), publicKey: k.publicKey.toString('hex') },
    wrappedSecret: k.wrapped,
    mechanism: k.mechanism,
  };
}

export interface SecretRequest {
  chain: string;
  testnet: boolean;
  kind: Exclude<EntryKind, 'privateKey'>;
  signatureId?: string;
  publicData: PublicData;
}

/** Encrypts a mnemonic or chain secret with the token's data key, bound to its entry. */
export function encryptSecretEntry(vault: Vault, req: SecretRequest, secret: Buffer): NewWalletEntry {
  checkNetwork(vault, req.testnet);
  const signatureId = req.signatureId ?? randomUUID();
  const wrappedSecret = vault.token.encrypt(secret, entryAad({ signatureId, chain: req.chain, kind: req.kind }));
  return {
    signatureId,
    chain: req.chain,
    testnet: req.testnet,
    kind: req.kind,
    publicData: req.publicData,
    wrappedSecret,
    mechanism: vault.token.profile.dataMechanism,
  };
}

/**
 * Decrypts the secret of a mnemonic or secret entry. The caller wipes the buffer as soon
 * as it is done (signing, or printing for the commands whose purpose is to show it).
 */
export function decryptSecret(vault: Vault, entry: WalletEntry): Buffer {
  if (entry.kind === 'privateKey') return vault.token.revealWrapped(wrappedKeyOf(entry));
  return vault.token.decrypt(entry.wrappedSecret, entryAad(entry));
}

export function wrappedKeyOf(entry: WalletEntry): { wrapped: Buffer; mechanism: string; publicKey: Buffer } {
  if (entry.kind !== 'privateKey' || !entry.publicData.publicKey) {
    throw new HardkmsError('WALLET_KIND', `Wallet '${entry.signatureId}' is a ${entry.kind} wallet, not a private-key wallet.`);
  }
  return { wrapped: entry.wrappedSecret, mechanism: entry.mechanism, publicKey: Buffer.from(entry.publicData.publicKey, 'hex') };
}

/** Signs a digest with a private-key entry inside the token (unwrap → sign → destroy). */
export function signWithEntry(vault: Vault, entry: WalletEntry, digest: Uint8Array): EcdsaSignature {
  return vault.token.signWithWrapped(wrappedKeyOf(entry), digest);
}
