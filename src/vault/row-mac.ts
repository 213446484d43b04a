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

/**
 * Length-prefixed encoding: no two different field lists encode to the same bytes. Written
 * into one buffer sized first (every row read and written is MAC'd: a Buffer per field and a
 * concat were most of a row's MAC time); the bytes are those of 4-byte length ‖ field, in order.
 */
function encodeFields(fields: ReadonlyArray<string | number | Buffer>): Buffer {
  let size = 0;
  const texts: (string | undefined)[] = new Array<string | undefined>(fields.length);
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    if (Buffer.isBuffer(f)) {
      size += 4 + f.length;
    } else {
      const text = typeof f === 'number' ? `n:${f}` : `s:${f}`;
      texts[i] = text;
      size += 4 + Buffer.byteLength(text, 'utf8');
    }
  }
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    const text = texts[i];
    if (text === undefined) {
      const bytes = f as Buffer;
      out.writeUInt32BE(bytes.length, at);
      bytes.copy(out, at + 4);
      at += 4 + bytes.length;
    } else {
      const n = out.write(text, at + 4, 'utf8');
      out.writeUInt32BE(n, at);
      at += 4 + n;
    }
  }
  return out;
}

export function macFields(key: Buffer, table: string, fields: ReadonlyArray<string | number | Buffer>): Buffer {
  return createHmac('sha256', key).update(table).update(encodeFields(fields)).digest();
}

/** False (never a throw) for anything but a Buffer of the right length: a `mac` stored as TEXT or NULL is a tampered row. */
export function macMatches(expected: Buffer, actual: unknown): boolean {
  return Buffer.isBuffer(actual) && expected.length === actual.length && timingSafeEqual(expected, actual);
}
