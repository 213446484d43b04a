import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { localTxHash } from '../../../src/signer/sinks/local-tx-hash.js';

describe('localTxHash for TRON reads the txID through a schema', () => {
  const txID = 'AB'.repeat(32);
  const sha = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`;

  it("is the signed JSON's txID, lowercase", () => {
    expect(localTxHash('TRON', JSON.stringify({ txID, raw_data_hex: '0a00', signature: ['00'] }))).toBe(
      txID.toLowerCase(),
    );
  });

  it('is the sha256 of the text when there is no 32-byte hex txID or no JSON object', () => {
    for (const raw of ['d3adb33f', '{"txID":"ab"}', '{"txID":5}', 'null', `["${txID}"]`, `{"txID":"${txID}zz"}`])
      expect(localTxHash('TRON', raw)).toBe(sha(raw));
  });
});
