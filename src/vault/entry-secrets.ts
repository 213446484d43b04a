import { randomBytes, randomUUID } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1';
import { HardkmsError } from '../errors.js';
import type { WrappedKey } from '../hsm/token.js';
import {
  hasInnerLayer,
  innerMechanism,
  innerOpen,
  innerSeal,
  packPrivateKeySecret,
  tokenMechanismOf,
  unpackPrivateKeySecret,
} from './inner.js';
import { entryAad, type EntryKind, type NewWalletEntry, type PublicData, type WalletEntry } from './entries.js';
import type { Vault } from './vault.js';

/**
 * Wallet operations on an unsealed vault. The chain layer computes public data
 * (addresses, xpubs) and hands it in; this module only talks to the token and the store.
 */

function checkNetwork(vault: Vault, testnet: boolean): void {
  checkNetworkOf(vault.testnetOnly, testnet);
}

/** The testnet-only refusal, also checked from the (unauthenticated) vault facts before any operator touches a key. */
export function checkNetworkOf(testnetOnly: boolean, testnet: boolean): void {
  if (!testnet && testnetOnly) {
    throw new HardkmsError(
      'VAULT_TESTNET_ONLY',
      'This vault was initialised with --testnet and refuses mainnet wallets.',
      {
        hint: 'Pass --testnet, or create a mainnet vault (with a YubiKey gate) for mainnet wallets.',
      },
    );
  }
}

interface PrivateKeyRequest {
  chain: string;
  testnet: boolean;
  signatureId?: string;
  /** 'ed25519': the key is a 32-byte ed25519 seed (XLM, ALGO); default secp256k1. */
  curve?: 'ed25519';
  /** Public data for the entry, computed by the chain layer from the 33-byte public key. */
  publicData: (publicKey: Buffer) => PublicData;
}

function innerAad(
  e: { signatureId: string; chain: string; kind: EntryKind },
  part: 'wrap' | 'export' | 'secret',
): Buffer {
  return Buffer.concat([entryAad(e), Buffer.from(`|inner ${part}`, 'utf8')]);
}

/** A secp256k1 scalar from the token's RNG XOR node:crypto, redrawn until it is in [1, n). */
function newSecp256k1Key(vault: Vault): Buffer {
  for (;;) {
    const a = vault.token.random(32);
    const b = randomBytes(32);
    for (let i = 0; i < 32; i++) a[i]! ^= b[i]!;
    b.fill(0);
    if (secp256k1.utils.isValidPrivateKey(a)) return a;
    a.fill(0);
  }
}

/**
 * Generates `count` secp256k1 keys and stores them, all in one transaction. Each key exists
 * in clear on the host only between its generation and its import into the token (as a
 * mnemonic does), because Tatum's getmanagedwallet / export must be able to show it, and a
 * key generated inside the token under the unwrap template could never be exported.
 */
export function generatePrivateKeys(
  vault: Vault,
  req: PrivateKeyRequest,
  count: number,
  onProgress?: (done: number) => void,
): WalletEntry[] {
  checkNetwork(vault, req.testnet);
  const entries: NewWalletEntry[] = [];
  for (let i = 0; i < count; i++) {
    const key = newSecp256k1Key(vault);
    try {
      entries.push(
        importPrivateKey(vault, { ...req, signatureId: randomUUID() }, key, secp256k1.getPublicKey(key, true)),
      );
    } finally {
      key.fill(0);
    }
    onProgress?.(i + 1);
  }
  vault.addEntries(entries, {
    event: 'wallet.generate',
    subject: count === 1 ? entries[0]!.signatureId : `${count} keys`,
    result: 'ok',
    details: { chain: req.chain, testnet: req.testnet, kind: 'privateKey', count, first: entries[0]?.signatureId },
  });
  return entries.map((e) => ({ ...e, created: '' }));
}

/**
 * Imports a private key (validated by the chain layer). Stored: the token-wrapped key (for
 * signing) and an export copy under the data key, each inside the inner layer. The export
 * copy is the key itself, or (`exportCopy`) the chain secret it was derived from (XRP seeds).
 */
export function importPrivateKey(
  vault: Vault,
  req: PrivateKeyRequest,
  privateKey: Uint8Array,
  publicKey: Uint8Array,
  exportCopy: Uint8Array = privateKey,
): NewWalletEntry {
  checkNetwork(vault, req.testnet);
  const id = { signatureId: req.signatureId ?? randomUUID(), chain: req.chain, kind: 'privateKey' as const };
  const k =
    req.curve === 'ed25519'
      ? vault.token.importEd25519(privateKey)
      : vault.token.importSecp256k1(privateKey, publicKey);
  if (!Buffer.from(k.publicKey).equals(Buffer.from(publicKey))) {
    throw new HardkmsError(
      'KEY_INVALID',
      'The token computed another public key for this private key than the chain layer did.',
      {
        hint: 'The key is corrupt or of another curve; nothing was stored.',
      },
    );
  }
  return privateKeyEntry(vault, req, id, k, exportCopy);
}

/** The stored form of a private key: token-wrapped (for signing) and an export copy, each under the inner layer. */
function privateKeyEntry(
  vault: Vault,
  req: PrivateKeyRequest,
  id: { signatureId: string; chain: string; kind: 'privateKey' },
  k: WrappedKey,
  privateKey: Uint8Array,
): NewWalletEntry {
  const inner = vault.innerKey();
  const exportInner = innerSeal(inner, privateKey, innerAad(id, 'export'));
  return {
    signatureId: id.signatureId,
    chain: req.chain,
    testnet: req.testnet,
    kind: 'privateKey',
    publicData: {
      ...req.publicData(k.publicKey),
      publicKey: k.publicKey.toString('hex'),
      ...(req.curve === 'ed25519' ? { keyType: 'ed25519' as const } : {}),
    },
    wrappedSecret: packPrivateKeySecret(
      innerSeal(inner, k.wrapped, innerAad(id, 'wrap')),
      vault.token.encrypt(exportInner, entryAad(id)),
    ),
    mechanism: innerMechanism(k.mechanism),
  };
}

/**
 * One ed25519 key pair generated in the token (CKM_EC_EDWARDS_KEY_PAIR_GEN; XLM, ALGO), as
 * an entry to store. Its export copy needs the seed once, on the host, wiped at once.
 */
export function generateEd25519Entry(vault: Vault, req: PrivateKeyRequest): NewWalletEntry {
  checkNetwork(vault, req.testnet);
  const k = vault.token.generateEd25519();
  const seed = vault.token.revealEd25519(k);
  try {
    return privateKeyEntry(
      vault,
      { ...req, curve: 'ed25519' },
      { signatureId: req.signatureId ?? randomUUID(), chain: req.chain, kind: 'privateKey' },
      k,
      seed,
    );
  } finally {
    seed.fill(0);
  }
}

/** `count` ed25519 keys generated in the token, stored in one transaction. */
export function generateEd25519Entries(vault: Vault, req: PrivateKeyRequest, count: number): WalletEntry[] {
  const entries: NewWalletEntry[] = [];
  for (let i = 0; i < count; i++) entries.push(generateEd25519Entry(vault, req));
  vault.store.addEntries(entries);
  return entries.map((e) => ({ ...e, created: '' }));
}

interface SecretRequest {
  chain: string;
  testnet: boolean;
  kind: Exclude<EntryKind, 'privateKey'>;
  signatureId?: string;
  publicData: PublicData;
}

/** Encrypts a mnemonic or chain secret: inner layer, then the token's data key, bound to its entry. */
export function encryptSecretEntry(vault: Vault, req: SecretRequest, secret: Buffer): NewWalletEntry {
  checkNetwork(vault, req.testnet);
  const signatureId = req.signatureId ?? randomUUID();
  const id = { signatureId, chain: req.chain, kind: req.kind };
  const wrappedSecret = vault.token.encrypt(innerSeal(vault.innerKey(), secret, innerAad(id, 'secret')), entryAad(id));
  return {
    signatureId,
    chain: req.chain,
    testnet: req.testnet,
    kind: req.kind,
    publicData: req.publicData,
    wrappedSecret,
    mechanism: innerMechanism(vault.token.profile.dataMechanism),
  };
}

function requireInnerLayer(entry: WalletEntry): void {
  if (!hasInnerLayer(entry.mechanism)) {
    throw new HardkmsError('VAULT_NOT_MIGRATED', `Wallet '${entry.signatureId}' has no inner layer yet.`, {
      hint: 'Unseal the vault once with this version of hardkms: it migrates every entry.',
    });
  }
}

/**
 * Decrypts the secret of an entry: the mnemonic or chain secret, or a private key's export
 * copy. It needs the unsealed vault (the inner key comes from the quorum), not only the
 * token. The caller wipes the buffer as soon as it is done (signing, or printing for the
 * commands whose purpose is to show it, which audit it first).
 */
export function decryptSecret(vault: Vault, entry: WalletEntry): Buffer {
  requireInnerLayer(entry);
  if (entry.kind === 'privateKey') {
    const outer = vault.token.decrypt(unpackPrivateKeySecret(entry.wrappedSecret).exportCopy, entryAad(entry));
    try {
      return innerOpen(vault.innerKey(), outer, innerAad(entry, 'export'));
    } finally {
      outer.fill(0);
    }
  }
  const outer = vault.token.decrypt(entry.wrappedSecret, entryAad(entry));
  try {
    return innerOpen(vault.innerKey(), outer, innerAad(entry, 'secret'));
  } finally {
    outer.fill(0);
  }
}

/** The token-wrapped key of a private-key entry, out of its inner layer, for signing. */
export function wrappedKeyOf(vault: Vault, entry: WalletEntry): WrappedKey {
  if (entry.kind !== 'privateKey' || !entry.publicData.publicKey) {
    throw new HardkmsError(
      'WALLET_KIND',
      `Wallet '${entry.signatureId}' is a ${entry.kind} wallet, not a private-key wallet.`,
    );
  }
  requireInnerLayer(entry);
  const wrapped = innerOpen(
    vault.innerKey(),
    unpackPrivateKeySecret(entry.wrappedSecret).wrappedInner,
    innerAad(entry, 'wrap'),
  );
  return {
    wrapped,
    mechanism: tokenMechanismOf(entry.mechanism),
    publicKey: Buffer.from(entry.publicData.publicKey, 'hex'),
  };
}

/**
 * Signs a digest with a private-key entry inside the token (unwrap → sign → destroy): r and
 * low-S s. The chain's signDigestChecked finds the recovery id against the wallet's public
 * key, which is also the check that the token signed with the wallet's key.
 */
export function signWithEntry(vault: Vault, entry: WalletEntry, digest: Uint8Array): { r: Buffer; s: Buffer } {
  return vault.token.signWithWrapped(wrappedKeyOf(vault, entry), digest);
}
