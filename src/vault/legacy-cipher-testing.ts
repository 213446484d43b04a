import { createCipheriv, randomBytes } from 'node:crypto';
import { evpBytesToKey, MAGIC, SALT_BYTES } from './legacy-cipher.js';

/**
 * Encrypts like crypto-js / `openssl enc -aes-256-cbc -md md5 -a -A` with a fresh random
 * salt (or the given one, for tests). Only tests write Tatum files; hardkms itself only reads them.
 */
export function encryptLegacy(plain: Buffer, password: Buffer, salt: Buffer = randomBytes(SALT_BYTES)): string {
  if (salt.length !== SALT_BYTES) throw new Error('legacy salt must be 8 bytes');
  const { key, iv } = evpBytesToKey(password, salt);
  try {
    const cipher = createCipheriv('aes-256-cbc', key, iv);
    return Buffer.concat([MAGIC, salt, cipher.update(plain), cipher.final()]).toString('base64');
  } finally {
    key.fill(0);
    iv.fill(0);
  }
}
