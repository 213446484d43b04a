import { isUtf8 } from 'node:buffer';
import { createDecipheriv, createHash } from 'node:crypto';
import { HardkmsError } from '../errors.js';

/**
 * Tatum KMS's wallet.dat cipher (spec §5.1): crypto-js `AES.encrypt(text, password)`,
 * i.e. OpenSSL's "Salted__" format — Base64("Salted__" ‖ salt8 ‖ AES-256-CBC/PKCS#7
 * ciphertext), key and IV from EVP_BytesToKey(MD5, 1 iteration). There is no MAC: a
 * wrong password is only noticed because the padding, UTF-8 or JSON comes out wrong.
 * `openssl enc -aes-256-cbc -md md5 -a -A` reads and writes the same format.
 */

export const MAGIC = Buffer.from('Salted__', 'latin1');
export const SALT_BYTES = 8;
const KEY_BYTES = 32;
const IV_BYTES = 16;

export function wrongLegacyPassword(): HardkmsError {
  return new HardkmsError('LEGACY_WRONG_PASSWORD', 'Wrong password for the Tatum wallet file.', {
    hint: 'Use the password the Tatum KMS store was created with (TATUM_KMS_PASSWORD). The file has no MAC, so a corrupted file looks the same.',
  });
}

function formatError(what: string): HardkmsError {
  return new HardkmsError('LEGACY_FORMAT', `The Tatum wallet file ${what}.`, {
    hint: 'Give the wallet.dat written by Tatum KMS (one Base64 line starting U2FsdGVkX1).',
  });
}

/** OpenSSL EVP_BytesToKey with MD5 and one iteration: D_i = MD5(D_{i-1} ‖ password ‖ salt). */
export function evpBytesToKey(password: Buffer, salt: Buffer): { key: Buffer; iv: Buffer } {
  const out = Buffer.alloc(KEY_BYTES + IV_BYTES);
  let prev = Buffer.alloc(0);
  let filled = 0;
  while (filled < out.length) {
    const block = createHash('md5').update(prev).update(password).update(salt).digest();
    prev.fill(0);
    filled += block.copy(out, filled);
    prev = block;
  }
  prev.fill(0);
  // Copies into non-pooled buffers so the caller can wipe them; then wipe `out`.
  const key = Buffer.alloc(KEY_BYTES);
  const iv = Buffer.alloc(IV_BYTES);
  out.copy(key, 0, 0, KEY_BYTES);
  out.copy(iv, 0, KEY_BYTES);
  out.fill(0);
  return { key, iv };
}

/**
 * Decrypts a Tatum wallet.dat (its text content) with the store password (UTF-8 bytes).
 * Returns the plaintext JSON as UTF-8 bytes; the caller zeroes it. An empty file yields
 * an empty buffer (Tatum treats it as a store without wallets).
 */
export function decryptLegacy(fileText: string, password: Buffer): Buffer {
  // crypto-js writes one line; tolerate line wrapping such as `openssl enc -a` without -A.
  const text = fileText.replace(/\s+/g, '');
  if (text.length === 0) return Buffer.alloc(0);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || text.length % 4 === 1) throw formatError('is not Base64 text');
  const raw = Buffer.from(text, 'base64');
  if (raw.length < MAGIC.length + SALT_BYTES || !raw.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw formatError('does not start with the OpenSSL "Salted__" header');
  }
  const ciphertext = raw.subarray(MAGIC.length + SALT_BYTES);
  if (ciphertext.length === 0 || ciphertext.length % 16 !== 0) {
    throw formatError('is truncated (its ciphertext is not a whole number of AES blocks)');
  }
  const { key, iv } = evpBytesToKey(password, raw.subarray(MAGIC.length, MAGIC.length + SALT_BYTES));
  const parts: Buffer[] = [];
  try {
    const decipher = createDecipheriv('aes-256-cbc', key, iv);
    try {
      parts.push(decipher.update(ciphertext));
      parts.push(decipher.final());
    } catch {
      throw wrongLegacyPassword(); // bad PKCS#7 padding
    }
    const plain = Buffer.alloc(parts.reduce((n, p) => n + p.length, 0));
    let pos = 0;
    for (const p of parts) pos += p.copy(plain, pos);
    if (!looksLikeJsonObject(plain)) {
      plain.fill(0);
      throw wrongLegacyPassword();
    }
    return plain;
  } finally {
    key.fill(0);
    iv.fill(0);
    for (const p of parts) p.fill(0);
  }
}

/**
 * Cheap check that the plaintext is what Tatum writes: valid UTF-8 whose first and last
 * non-space characters are braces. Random bytes from a wrong key that happen to carry
 * valid padding fail here; full JSON validation happens once, in parseLegacyStore.
 */
function looksLikeJsonObject(plain: Buffer): boolean {
  if (!isUtf8(plain)) return false; // checks without decoding the secrets into a string
  const isSpace = (b: number) => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;
  let a = 0;
  let z = plain.length - 1;
  while (a <= z && isSpace(plain[a]!)) a++;
  while (z >= a && isSpace(plain[z]!)) z--;
  return z > a && plain[a] === 0x7b && plain[z] === 0x7d;
}
