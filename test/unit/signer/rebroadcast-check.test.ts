import { createHash } from 'node:crypto';
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

describe('TRON: the journaled JSON is read through a schema; a tampered row is named, never quoted', () => {
  const rawDataHex = '0a024f2a2208010203040506070840e0a6b8b7b431';
  const unsigned = JSON.stringify({
    visible: false,
    txID: createHash('sha256').update(Buffer.from(rawDataHex, 'hex')).digest('hex'),
    raw_data: {},
    raw_data_hex: rawDataHex,
  });
  const signedOf = (payload: string) => `${payload.slice(0, -1)},"signature":["${'ab'.repeat(65)}"]}`;
  const p = (serializedTransaction: string): PendingTransaction => ({
    id: 'd'.repeat(24),
    chain: 'TRON',
    hashes: ['w'],
    serializedTransaction,
  });
  const refusal = (payload: string, rawTx: string): string => {
    try {
      checkSignedMatchesPayload(p(payload), rawTx, () => 0n);
    } catch (e) {
      expect(e).toMatchObject({ code: 'JOURNAL_RAW_TX_MISMATCH' });
      return (e as Error).message;
    }
    throw new Error('not refused');
  };

  it('the signed form of the payload passes (raw_data_hex in either letter case); another raw_data_hex is refused', () => {
    expect(() => checkSignedMatchesPayload(p(unsigned), signedOf(unsigned), () => 0n)).not.toThrow();
    expect(() =>
      checkSignedMatchesPayload(
        p(unsigned),
        signedOf(unsigned.replace(rawDataHex, rawDataHex.toUpperCase())),
        () => 0n,
      ),
    ).not.toThrow();
    expect(refusal(unsigned, signedOf(unsigned.replace(rawDataHex, rawDataHex.replace('4f2a', '4f2b'))))).toMatch(
      /raw_data_hex differs/,
    );
  });

  it('a row that is not JSON: its line and column, not V8 message (which quotes the text)', () => {
    const planted = 'd3adb33f-not-a-transaction';
    const text = refusal(unsigned, planted);
    expect(text).toMatch(/the signed transaction is not valid JSON \(line 1, column 1\)/);
    expect(text).not.toMatch(/d3adb33f|Unexpected token/);
    // A torn row (cut mid-write): where it ends.
    expect(refusal(unsigned, `{"raw_data_hex":"${rawDataHex}",\n"signature": ["ab`)).toMatch(/line 2, column 18\)/);
  });

  it('a row or payload without a hex raw_data_hex names the field, never its value', () => {
    expect(refusal(unsigned, '{"txID":"x"}')).toMatch(
      /the signed transaction is not a TRON transaction \(raw_data_hex: required/,
    );
    const odd = refusal(unsigned, '{"raw_data_hex":"d3adb33fzz"}');
    expect(odd).toMatch(/raw_data_hex: expected non-empty, even-length hex/);
    expect(odd).not.toMatch(/d3adb33f/);
    expect(refusal(unsigned, '["d3adb33f"]')).toMatch(/expected a TRON transaction \(JSON object\), got an array/);
    expect(refusal('{"raw_data_hex":""}', signedOf(unsigned))).toMatch(/the payload is not a TRON transaction/);
  });

  it('a library that quotes what it failed to decode (ethers) is named by its class only', () => {
    const evm: PendingTransaction = { ...p('{}'), chain: 'ETH' };
    expect(() => checkSignedMatchesPayload(evm, '0xd3adb33f', () => 1n)).toThrow(/it does not decode \(/);
    try {
      checkSignedMatchesPayload(evm, '0xd3adb33f', () => 1n);
    } catch (e) {
      expect((e as Error).message).not.toMatch(/d3adb33f/);
    }
  });
});
