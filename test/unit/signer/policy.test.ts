import { describe, expect, it } from 'vitest';
import type { DecodedTx } from '../../../src/chains/decoded.js';
import { evaluatePolicy, movementsOf, parsePolicy, type PolicyContext } from '../../../src/signer/pipeline/policy.js';

const A = '0x1111111111111111111111111111111111111111';
const B = '0x2222222222222222222222222222222222222222';
const TOKEN = '0x3333333333333333333333333333333333333333';

const ctx = (spent: Record<string, bigint> = {}, signatureIds: string[] = ['w1']): PolicyContext => ({
  chain: 'ETH',
  signatureIds,
  spent24h: (scope, asset) => spent[`${scope}|${asset}`] ?? 0n,
});
const ethTx = (to: string, amount: bigint): DecodedTx => ({ chain: 'ETH', outputs: [{ address: to, amount }] });

describe('policy file', () => {
  it('parses limits, lowercases hex addresses and token contracts', () => {
    const p = parsePolicy(
      JSON.stringify({
        chains: {
          ETH: {
            maxAmount: '100',
            maxPer24h: 1000,
            allowedDestinations: [A.toUpperCase().replace('0X', '0x')],
            tokens: { [TOKEN.toUpperCase().replace('0X', '0x')]: { maxAmount: '5' } },
          },
        },
        wallets: { w1: { maxAmount: '7', allowContractCalls: true } },
      }),
    );
    expect(p.chains.ETH).toMatchObject({
      maxAmount: 100n,
      maxPer24h: 1000n,
      allowedDestinations: [A],
      allowContractCalls: false,
      tokens: { [TOKEN]: { maxAmount: 5n } },
    });
    expect(p.wallets.w1).toMatchObject({ maxAmount: 7n, allowContractCalls: true });
  });

  it('names the file and the field that is wrong', () => {
    expect(() => parsePolicy('{', 'p.json')).toThrow(/p\.json is not valid JSON/);
    expect(() => parsePolicy('[]', 'p.json')).toThrow(/top level/);
    expect(() => parsePolicy('{"chain":{}}', 'p.json')).toThrow(/p\.json: chain is not a policy section/);
    expect(() => parsePolicy('{"chains":{"ETH":{"maxAmout":"1"}}}', 'p.json')).toThrow(
      /chains\.ETH\.maxAmout is not a rule field/,
    );
    expect(() => parsePolicy('{"chains":{"ETH":{"maxAmount":"1.5"}}}')).toThrow(
      /chains\.ETH\.maxAmount must be a non-negative integer/,
    );
    expect(() => parsePolicy('{"chains":{"ETH":{"maxAmount":1e30}}}')).toThrow(/maxAmount/);
    expect(() => parsePolicy('{"chains":{"eth":{}}}')).toThrow(/not a chain code/);
    expect(() => parsePolicy('{"chains":{"ETH":{"allowedDestinations":"0x1"}}}')).toThrow(
      /allowedDestinations must be an array/,
    );
    expect(() => parsePolicy('{"wallets":{"w":{"tokens":{"0x1":{"allowContractCalls":true}}}}}')).toThrow(
      /is not a token limit/,
    );
  });
});

describe('policy decisions', () => {
  const policy = parsePolicy(
    JSON.stringify({ chains: { ETH: { maxAmount: '100', maxPer24h: '150', allowedDestinations: [A] } } }),
  );

  it('allows a transfer within the limits to an allowed destination', () => {
    const v = evaluatePolicy(policy, ethTx(A, 100n), ctx());
    expect(v).toMatchObject({ ok: true, rulesApplied: ['chains.ETH'] });
  });

  it('refuses over maxAmount, over the rolling 24 h sum, and to other destinations', () => {
    expect(evaluatePolicy(policy, ethTx(A, 101n), ctx())).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/exceeds maxAmount 100/),
    });
    expect(evaluatePolicy(policy, ethTx(A, 60n), ctx({ 'chain|native': 100n }))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/plus 100 signed in the last 24 h exceeds maxPer24h 150/),
    });
    expect(evaluatePolicy(policy, ethTx(A, 50n), ctx({ 'chain|native': 100n })).ok).toBe(true);
    expect(evaluatePolicy(policy, ethTx(B, 1n), ctx())).toMatchObject({
      ok: false,
      reason: expect.stringContaining(`destination ${B} is not in allowedDestinations`),
    });
  });

  it('applies wallet rules with their own 24 h scope, on top of the chain rule', () => {
    const p = parsePolicy(JSON.stringify({ wallets: { w1: { maxPer24h: '10' } } }));
    expect(evaluatePolicy(p, ethTx(B, 5n), ctx({ 'wallet:w1|native': 6n })).ok).toBe(false);
    expect(evaluatePolicy(p, ethTx(B, 5n), ctx({ 'chain|native': 1000n })).ok).toBe(true);
    expect(evaluatePolicy(p, ethTx(B, 500n), ctx({}, ['w2'])).ok).toBe(true);
  });

  it('refuses contract calls unless allowed; limits listed tokens and refuses others', () => {
    const call: DecodedTx = {
      chain: 'ETH',
      outputs: [{ address: TOKEN, amount: 0n }],
      call: { kind: 'call', to: TOKEN, selector: '0x095ea7b3', dataLength: 68 },
    };
    expect(evaluatePolicy(policy, call, ctx())).toMatchObject({
      ok: false,
      reason: expect.stringContaining('contract call (selector 0x095ea7b3)'),
    });
    const p = parsePolicy(
      JSON.stringify({ chains: { ETH: { tokens: { [TOKEN]: { maxAmount: '10', allowedDestinations: [B] } } } } }),
    );
    const transfer = (contract: string, amount: bigint, to = B): DecodedTx => ({
      chain: 'ETH',
      outputs: [{ address: contract, amount: 0n }],
      token: { contract, standard: 'ERC20', to, amount },
    });
    expect(evaluatePolicy(p, transfer(TOKEN, 10n), ctx()).ok).toBe(true);
    expect(evaluatePolicy(p, transfer(TOKEN, 11n), ctx()).ok).toBe(false);
    expect(evaluatePolicy(p, transfer(TOKEN, 1n, A), ctx()).ok).toBe(false);
    expect(evaluatePolicy(p, transfer(A, 1n), ctx())).toMatchObject({
      ok: false,
      reason: expect.stringContaining('not in the allowed tokens'),
    });
  });

  it('UTXO: change to the signing keys is neither spent nor a destination; scripts may be listed', () => {
    const tx: DecodedTx = {
      chain: 'LTC',
      outputs: [
        { address: 'tltc1qdest', script: '0014aa', amount: 700n },
        { script: '0014bb', amount: 300n },
      ],
      fee: 10n,
    };
    expect(movementsOf(tx, new Set(['0014bb']))).toEqual([
      // The fee counts: it leaves the wallet as surely as an output does.
      {
        asset: 'native',
        amount: 710n,
        fee: 10n,
        destinations: [{ shown: 'tltc1qdest', forms: ['tltc1qdest', '0014aa'] }],
      },
    ]);
    const p = parsePolicy(JSON.stringify({ chains: { LTC: { maxAmount: '710', allowedDestinations: ['0014AA'] } } }));
    const c = { ...ctx(), chain: 'LTC' };
    expect(evaluatePolicy(p, tx, c, new Set(['0014bb'])).ok).toBe(true);
    expect(evaluatePolicy(p, tx, c, new Set()).ok).toBe(false);
  });
});
