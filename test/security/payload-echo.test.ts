/**
 * A pending transaction's payload is not echoed into the refusal. The refusal's message goes
 * to the daemon's log and back to Tatum in the error batch (`/v3/kms/{id}/error`); a payload
 * field that carried text (a string the attacker chose, a number) must be named by its field
 * and its kind, never repeated, whichever chain family reads it.
 */
import { describe, expect, it } from 'vitest';
import { parseAdaOperations } from '../../src/chains/ada/sign.js';
import { decodeAlgo } from '../../src/chains/algo/sign.js';
import { parseBchPayload } from '../../src/chains/bch/sign.js';
import { decodeEgld, egldSender } from '../../src/chains/egld/sign.js';
import { decodeEvm } from '../../src/chains/evm/sign.js';
import { offchainWithdrawalInputs } from '../../src/chains/utxo/sign.js';
import { parseVetPayload } from '../../src/chains/vet/sign.js';
import { decodeXrp } from '../../src/chains/xrp/sign.js';
import { tatumOps } from '../support/ada-payloads.js';
import { addressOf, ED_SEED } from '../support/xrp.js';

const MARK = 'MARK-payload-7f3e'; // short: describe() quoted strings of up to 40 characters
const NUMBER_MARK = 987654321.5;
const VET_TO = '0x' + '11'.repeat(20);
const EGLD_TO = 'erd1sqhjrtmsn5yjk6w85099p8v0ly0g8z9pxeqe5dvu5rlf2n7vq3vqytny9g';
const EGLD_FILL = { gasPrice: 1_000_000_000n, gasLimit: 50_000n };
/** A BCH transaction with one unsigned input and one output (version 2, locktime 0). */
const BCH_TX =
  '02000000' +
  '01' +
  'aa'.repeat(32) +
  '00000000' +
  '00' +
  'ffffffff' +
  '01' +
  'e803000000000000' +
  '19' +
  '76a914' +
  '22'.repeat(20) +
  '88ac' +
  '00000000';

function refusal(f: () => unknown): Error & { code: string } {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(Error);
    return e as Error & { code: string };
  }
  throw new Error('expected a refusal');
}

describe('payload values are named by kind, never quoted, in a refusal', () => {
  const withMark = (v: unknown) => JSON.stringify(v);
  it.each<[string, () => unknown, RegExp]>([
    ['XRP TransactionType', () => decodeXrp(withMark({ TransactionType: MARK })), /TransactionType/],
    [
      'XRP Account',
      () => decodeXrp(withMark({ TransactionType: 'Payment', Account: MARK })),
      /Account must be a classic r… address, got a string of 17 characters/,
    ],
    [
      'XRP issued currency',
      () =>
        decodeXrp(
          withMark({
            TransactionType: 'Payment',
            Account: addressOf(ED_SEED),
            Fee: '12',
            Sequence: 1,
            LastLedgerSequence: 9,
            Destination: addressOf(ED_SEED),
            Amount: { currency: MARK, value: '1', issuer: addressOf(ED_SEED) },
          }),
        ),
      /Amount\.currency/,
    ],
    ['ALGO type', () => decodeAlgo(withMark({ type: MARK }), true), /type/],
    ['ALGO genesisID', () => decodeAlgo(withMark({ type: 'pay', genesisID: MARK }), true), /genesisID/],
    ['VET to', () => parseVetPayload(withMark({ to: MARK }), true), /to must be a 0x address/],
    ['VET from', () => parseVetPayload(withMark({ to: VET_TO, from: MARK }), true), /from must be 0 or an address/],
    ['VET value (a string)', () => parseVetPayload(withMark({ to: VET_TO, value: MARK }), true), /value must be/],
    [
      'VET value (a number)',
      () => parseVetPayload(withMark({ to: VET_TO, value: NUMBER_MARK }), true),
      /value must be a non-negative integer .*, got a number/,
    ],
    [
      'EVM to',
      () => decodeEvm(withMark({ to: 12345678.25, value: '0' }), { chainId: 1n, chain: 'ETH' } as never),
      /to must be an address string, got a number/,
    ],
    ['EGLD to', () => decodeEgld(withMark({ to: MARK, value: '1' }), EGLD_FILL), /to is not a bech32 erd1… address/],
    [
      'EGLD value',
      () => decodeEgld(withMark({ to: EGLD_TO, value: MARK }), EGLD_FILL),
      /value is not a decimal amount .*\(got a string of 17 characters\)/,
    ],
    [
      'EGLD from',
      () => egldSender(withMark({ to: EGLD_TO, value: '1', from: MARK }), { publicKey: new Uint8Array(32) }),
      /from \(a string of 17 characters, not an erd1… address\) is not the signing wallet's address/,
    ],
    [
      'UTXO withdrawal vIn',
      () => offchainWithdrawalInputs('BTC', [{ vIn: MARK, vInIndex: 0 }]),
      /withdrawalResponses\[0\]\.vIn/,
    ],
    ['BCH input amounts', () => parseBchPayload(`${BCH_TX}:${JSON.stringify(MARK)}`), /input amounts must be/],
    [
      'ADA operation type',
      () => parseAdaOperations([{ ...(tatumOps()[0] as object), type: MARK }], true),
      /operations\[0\]\.type/,
    ],
    [
      'ADA account address',
      () => parseAdaOperations([{ ...(tatumOps()[0] as object), account: { address: MARK } }], true),
      /operations\[0\]\.account\.address is not a Cardano address .*got a string of 17 characters/,
    ],
    [
      'ADA amount value',
      () =>
        parseAdaOperations(
          [{ ...(tatumOps()[0] as object), amount: { value: MARK, currency: { symbol: 'ADA', decimals: 6 } } }],
          true,
        ),
      /operations\[0\]\.amount\.value/,
    ],
  ])('%s', (_what, f, names) => {
    const e = refusal(f);
    expect(e.code).toMatch(/^TX_PAYLOAD_/);
    expect(e.message).toMatch(names);
    expect(e.message).not.toContain(MARK);
    expect(e.message).not.toContain(String(NUMBER_MARK));
    expect(e.message).not.toContain('12345678');
  });
});
