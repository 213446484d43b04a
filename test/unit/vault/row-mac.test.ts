import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { macFields } from '../../../src/vault/row-mac.js';

/** The encoding as first written (a Buffer per field, then concat): stored MACs were made with it. */
function referenceMac(key: Buffer, table: string, fields: ReadonlyArray<string | number | Buffer>): Buffer {
  const parts: Buffer[] = [];
  for (const f of fields) {
    const bytes = Buffer.isBuffer(f) ? f : Buffer.from(typeof f === 'number' ? `n:${f}` : `s:${f}`, 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32BE(bytes.length);
    parts.push(len, bytes);
  }
  return createHmac('sha256', key).update(table).update(Buffer.concat(parts)).digest();
}

describe('row MACs', () => {
  const key = randomBytes(32);

  it('are byte for byte the MACs of the original encoding (rows written before keep verifying)', () => {
    const samples: (string | number | Buffer)[][] = [
      [],
      [''],
      [0],
      [Buffer.alloc(0)],
      ['ETH', 'privateKey', 1, Buffer.from('00ff', 'hex'), '{"address":"0xab"}'],
      ['ünïcödé ✓ 𝄞', -1.5, 2 ** 53, Buffer.alloc(300, 7), 's:n:'],
      ['x'.repeat(5000), randomBytes(4096), 123456789],
    ];
    for (let i = 0; i < 50; i++) {
      samples.push(
        Array.from({ length: 1 + (i % 9) }, (_, j) =>
          j % 3 === 0 ? randomBytes(j * 7) : j % 3 === 1 ? randomBytes(j * 5).toString('latin1') : i * 31 + j,
        ),
      );
    }
    for (const fields of samples) {
      expect(macFields(key, 'wallets', fields).toString('hex')).toBe(
        referenceMac(key, 'wallets', fields).toString('hex'),
      );
    }
  });

  // (A Buffer field is not tagged: a row's columns have fixed types, so a Buffer never stands where a string does.)
  it('still tell field lists apart that concatenate to the same text', () => {
    expect(macFields(key, 't', ['ab', 'c']).equals(macFields(key, 't', ['a', 'bc']))).toBe(false);
    expect(macFields(key, 't', [1]).equals(macFields(key, 't', ['1']))).toBe(false);
  });
});
