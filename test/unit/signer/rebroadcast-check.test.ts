import { Wallet } from 'ethers';
import { describe, expect, it } from 'vitest';
import { checkSignedMatchesPayload } from '../../../src/signer/pipeline/rebroadcast-check.js';
import type { PendingTransaction } from '../../../src/signer/source/pending.js';

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
    expect(() => checkSignedMatchesPayload(pending(A, '5'), '0xdeadbeef', () => 1n)).toThrow(
      expect.objectContaining({ code: 'JOURNAL_RAW_TX_MISMATCH' }),
    );
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

describe('one-key chains are checked too (XLM was refused as "does not decode" before: its family has no HD adapter)', () => {
  it('XLM: the same transaction body signed passes; another body is refused', async () => {
    const { Asset, Keypair, Operation } = await import('@stellar/stellar-base');
    const { xlmEnvelope, hostSigner } = await import('../../support/xlm.js');
    const { signXlm } = await import('../../../src/chains/xlm/sign.js');
    const dest = Keypair.fromRawEd25519Seed(Buffer.alloc(32, 9)).publicKey();
    const st = xlmEnvelope(Operation.payment({ destination: dest, asset: Asset.native(), amount: '1' }));
    const other = xlmEnvelope(Operation.payment({ destination: dest, asset: Asset.native(), amount: '2' }));
    const signedXdr = await signXlm(st, [hostSigner(new Uint8Array(32).fill(7))], true);
    const p = (serializedTransaction: string): PendingTransaction => ({
      id: 'b'.repeat(24),
      chain: 'XLM',
      hashes: ['w'],
      serializedTransaction,
    });
    expect(() => checkSignedMatchesPayload(p(st), signedXdr, () => 0n)).not.toThrow();
    expect(() => checkSignedMatchesPayload(p(other), signedXdr, () => 0n)).toThrow(/transaction body differs/);
  });

  it('XRP: the blob of the payload passes; another Amount is refused', async () => {
    const { signXrp } = await import('../../../src/chains/xrp/sign.js');
    const { addressOf, ED_SEED, hostXrpKey, xrpPayment } = await import('../../support/xrp.js');
    const st = xrpPayment(addressOf(ED_SEED));
    const blob = await signXrp(st, hostXrpKey(ED_SEED));
    const p = (serializedTransaction: string): PendingTransaction => ({
      id: 'c'.repeat(24),
      chain: 'XRP',
      hashes: ['w'],
      serializedTransaction,
    });
    expect(() => checkSignedMatchesPayload(p(st), blob, () => 0n)).not.toThrow();
    expect(() => checkSignedMatchesPayload(p(xrpPayment(addressOf(ED_SEED), { Amount: '5' })), blob, () => 0n)).toThrow(
      /signed fields differ/,
    );
  });
});
