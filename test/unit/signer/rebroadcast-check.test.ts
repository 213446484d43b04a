import { Wallet } from 'ethers';
import { describe, expect, it } from 'vitest';
import { checkSignedMatchesPayload } from '../../../src/signer/rebroadcast-check.js';
import type { PendingTransaction } from '../../../src/signer/pending.js';

const A = '0x1111111111111111111111111111111111111111';
const B = '0x2222222222222222222222222222222222222222';
const key = new Wallet('0x' + '11'.repeat(32));

describe('a journaled raw transaction is checked against its payload before any re-broadcast', () => {
  const pending = (to: string, value: string): PendingTransaction => ({
    id: 'a'.repeat(24),
    chain: 'ETH',
    hashes: ['w'],
    serializedTransaction: JSON.stringify({ to, value, gasPrice: '1000000000', gas: 21000, nonce: 3 }),
  });
  const signed = (to: string, value: bigint, nonce = 3) =>
    key.signTransaction({ type: 0, to, value, gasPrice: 10n ** 9n, gasLimit: 21000n, nonce, chainId: 1n });

  it('accepts the signed form of the payload and refuses another transaction, naming what differs', async () => {
    expect(() => checkSignedMatchesPayload(pending(A, '5'), '0xdeadbeef', () => 1n)).toThrow(expect.objectContaining({ code: 'JOURNAL_RAW_TX_MISMATCH' }));
    const same = await signed(A, 5n);
    expect(() => checkSignedMatchesPayload(pending(A, '5'), same, () => 1n)).not.toThrow();
    expect(() => checkSignedMatchesPayload(pending(A, '5'), same, () => 5n)).toThrow(/chain id differs/);
    const toB = await signed(B, 5n);
    const more = await signed(A, 6n);
    const later = await signed(A, 5n, 4);
    expect(() => checkSignedMatchesPayload(pending(A, '5'), toB, () => 1n)).toThrow(/recipient differs/);
    expect(() => checkSignedMatchesPayload(pending(A, '5'), more, () => 1n)).toThrow(/value differs/);
    expect(() => checkSignedMatchesPayload(pending(A, '5'), later, () => 1n)).toThrow(/nonce differs/);
  });
});
