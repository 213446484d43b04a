import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { HardkmsError } from '../errors.js';

/**
 * The inner layer: every stored secret (wrapped key blobs, export copies of private keys,
 * mnemonics, chain secrets) is AES-256-GCM-encrypted on the host under a key that only the
 * vault secret (the quorum) opens, inside the token's own layer. The token PIN alone then
 * decrypts or unwraps nothing: the token's keys see only inner ciphertext.
 *
 * The inner key is random and stored in wallet.dat sealed under a key derived from the
 * store key, so that re-keying (a new store key) re-seals one meta value, not every row.
 */
const INNER_KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** `mechanism` column of entries that carry the inner layer: `inner1:<token mechanism>`. */
const INNER_PREFIX = 'inner1:';

export function hasInnerLayer(mechanism: string): boolean {
  return mechanism.startsWith(INNER_PREFIX);
}

export function innerMechanism(tokenMechanism: string): string {
  return `${INNER_PREFIX}${tokenMechanism}`;
}

export function tokenMechanismOf(mechanism: string): string {
  return hasInnerLayer(mechanism) ? mechanism.slice(INNER_PREFIX.length) : mechanism;
}

function kek(storeKey: Buffer, vaultId: string): Buffer {
  return Buffer.from(hkdfSync('sha256', storeKey, Buffer.from(vaultId, 'utf8'), 'hardkms inner kek v1', 32));
}

/** AES-256-GCM: iv ‖ ciphertext ‖ tag. */
export function innerSeal(key: Buffer, plain: Uint8Array, aad: Buffer): Buffer {
  const iv = randomBytes(IV_BYTES);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(aad);
  return Buffer.concat([iv, c.update(plain), c.final(), c.getAuthTag()]);
}

/** Inverse of innerSeal; the caller wipes the result. */
export function innerOpen(key: Buffer, sealed: Buffer, aad: Buffer): Buffer {
  if (sealed.length < IV_BYTES + TAG_BYTES) {
    throw new HardkmsError(
      'VAULT_INNER_REJECTED',
      'An inner-layer ciphertext in wallet.dat is too short to be one of ours.',
    );
  }
  const d = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES));
  d.setAAD(aad);
  d.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  try {
    return Buffer.concat([d.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)), d.final()]);
  } catch {
    throw new HardkmsError(
      'VAULT_INNER_REJECTED',
      'An inner-layer ciphertext in wallet.dat failed its integrity check.',
      {
        hint: 'The entry was altered, or belongs to another vault. Restore wallet.dat from a backup.',
      },
    );
  }
}

function keyAad(vaultId: string): Buffer {
  return Buffer.from(`hardkms inner key v1|${vaultId}`, 'utf8');
}

/** A new random inner key and its sealed form for the meta table. */
export function newInnerKey(storeKey: Buffer, vaultId: string): { key: Buffer; sealed: string } {
  const key = randomBytes(INNER_KEY_BYTES);
  return { key, sealed: sealInnerKey(key, storeKey, vaultId) };
}

function sealInnerKey(key: Buffer, storeKey: Buffer, vaultId: string): string {
  const k = kek(storeKey, vaultId);
  try {
    return innerSeal(k, key, keyAad(vaultId)).toString('base64');
  } finally {
    k.fill(0);
  }
}

export function openInnerKey(sealed: string, storeKey: Buffer, vaultId: string): Buffer {
  const k = kek(storeKey, vaultId);
  try {
    const key = innerOpen(k, Buffer.from(sealed, 'base64'), keyAad(vaultId));
    if (key.length !== INNER_KEY_BYTES)
      throw new HardkmsError('VAULT_INNER_REJECTED', 'The stored inner key has the wrong length.');
    return key;
  } finally {
    k.fill(0);
  }
}

/**
 * For re-keying (vault/ rekey): the inner key stays, only its seal follows the new store key.
 * Write the result to the meta key META.innerKey in the same transaction as the new seal.
 */
export function resealInnerKey(sealed: string, oldStoreKey: Buffer, newStoreKey: Buffer, vaultId: string): string {
  const key = openInnerKey(sealed, oldStoreKey, vaultId);
  try {
    return sealInnerKey(key, newStoreKey, vaultId);
  } finally {
    key.fill(0);
  }
}

/**
 * A private-key entry's stored secret: the token-wrapped key for signing and the export copy
 * (token data key over the inner layer), both inside the inner layer. Length-prefixed.
 */
export function packPrivateKeySecret(wrappedInner: Buffer, exportCopy: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(wrappedInner.length);
  return Buffer.concat([len, wrappedInner, exportCopy]);
}

export function unpackPrivateKeySecret(secret: Buffer): { wrappedInner: Buffer; exportCopy: Buffer } {
  if (secret.length < 4)
    throw new HardkmsError('VAULT_INNER_REJECTED', 'A private-key entry in wallet.dat is malformed.');
  const n = secret.readUInt32BE(0);
  if (secret.length < 4 + n)
    throw new HardkmsError('VAULT_INNER_REJECTED', 'A private-key entry in wallet.dat is malformed.');
  return { wrappedInner: secret.subarray(4, 4 + n), exportCopy: secret.subarray(4 + n) };
}
