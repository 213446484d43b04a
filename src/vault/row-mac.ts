import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

/**
 * Row authentication. Every wallets row carries HMAC-SHA256 over all of its columns under
 * a key derived from the vault secret, so someone with write access to wallet.dat but
 * without the secret cannot edit a row (say, swap an xpub to redirect deposits), move a
 * wrapped key to another signature id, or inject a row. The key is derived per purpose so
 * the store key itself is never used directly.
 */
export function deriveMacKey(storeKey: Buffer, vaultId: string, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', storeKey, Buffer.from(vaultId, 'utf8'), `hardkms ${purpose} mac v1`, 32));
}

/** Length-prefixed encoding: no two different field lists encode to the same bytes. */
function encodeFields(fields: ReadonlyArray<string | number | Buffer>): Buffer {
  const parts: Buffer[] = [];
  for (const f of fields) {
    const bytes = Buffer.isBuffer(f) ? f : Buffer.from(typeof f === 'number' ? `n:${f}` : `s:${f}`, 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32BE(bytes.length);
    parts.push(len, bytes);
  }
  return Buffer.concat(parts);
}

export function macFields(key: Buffer, table: string, fields: ReadonlyArray<string | number | Buffer>): Buffer {
  return createHmac('sha256', key).update(table).update(encodeFields(fields)).digest();
}

/** False (never a throw) for anything but a Buffer of the right length: a `mac` stored as TEXT or NULL is a tampered row. */
export function macMatches(expected: Buffer, actual: unknown): boolean {
  return Buffer.isBuffer(actual) && expected.length === actual.length && timingSafeEqual(expected, actual);
}
