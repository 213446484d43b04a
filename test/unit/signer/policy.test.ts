import { describe, expect, it } from 'vitest';
import type { DecodedTx } from '../../../src/chains/decoded.js';
import { InputError } from '../../../src/errors.js';
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

  it('names the file and the field that is wrong, never a value of it', () => {
    const err = (text: string, source?: string) => {
      try {
        parsePolicy(text, source);
      } catch (e) {
        expect(e).toBeInstanceOf(InputError);
        expect((e as InputError).hint).toMatch(/"Signing policy" in docs\/runbook\.md/);
        return (e as Error).message;
      }
      throw new Error('accepted');
    };
    expect(err('{', 'p.json')).toBe('p.json is not valid JSON (line 1, column 2).');
    expect(err('[]', 'p.json')).toBe(
      'p.json: expected a JSON object with "chains" and/or "wallets", got an array of 0 entries.',
    );
    expect(err('{"chain":{}}', 'p.json')).toBe('p.json: chain: not a policy section (use "chains" and "wallets").');
    expect(err('{"chains":{"ETH":{"maxAmout":"1"}}}', 'p.json')).toMatch(
      /^p\.json: chains\.ETH\.maxAmout: not a rule field \(maxAmount, maxPer24h, maxFee, /,
    );
    expect(err('{"chains":{"ETH":{"maxAmount":"1.5"}}}')).toBe(
      'policy: chains.ETH.maxAmount: expected a non-negative integer in the smallest unit (a decimal string, e.g. "1000000"), got a string of 3 characters.',
    );
    expect(err('{"chains":{"ETH":{"maxAmount":1e30}}}')).toMatch(
      /^policy: chains\.ETH\.maxAmount: expected .*, got a number\.$/,
    );
    expect(err('{"chains":{"eth":{}}}')).toBe('policy: chains.eth: not a chain code (uppercase, e.g. ETH).');
    expect(err('{"chains":{"ETH":{"allowedDestinations":"0x1"}}}')).toBe(
      'policy: chains.ETH.allowedDestinations: expected an array of address strings, got a string of 3 characters.',
    );
    expect(err('{"wallets":{"w":{"tokens":{"0x1":{"allowContractCalls":true}}}}}')).toBe(
      'policy: wallets.w.tokens["0x1"].allowContractCalls: not a token limit (maxAmount, maxPer24h, allowedDestinations).',
    );
    expect(err('{"chains":{"ETH":{"maxFee":"0.1234567890123456789"}}}')).toBe(
      'policy: chains.ETH.maxFee: has more than 18 decimal places.',
    );
    expect(err('{"chains":{"BTC":{"maxFee":"lots"}}}')).toBe(
      'policy: chains.BTC.maxFee: expected a non-negative decimal number in coin units, e.g. "0.01", got a string of 4 characters.',
    );
    expect(err('{"chains":{"TRON":{"maxFeeRate":"1"}}}')).toBe(
      'policy: chains.TRON.maxFeeRate: does not apply to TRON (its fee is limited by maxFee only).',
    );
    expect(err('{"wallets":{"w":{"maxFee":"1"}}}')).toBe(
      'policy: wallets.w.maxFee: a per-chain limit: set it under chains.<CHAIN>.',
    );
    expect(err('{"wallets":{"w":{"allowDeploy":"yes"}}}')).toBe(
      'policy: wallets.w.allowDeploy: expected true or false, got a string of 3 characters.',
    );
    expect(err('{"chains":{"ETH":{"contracts":{"0xab":["a9059cbb"]}}}}')).toBe(
      'policy: chains.ETH.contracts["0xab"]: expected an array of 4-byte selectors such as "0xa9059cbb", got an array of 1 entries.',
    );
    expect(err(`{"wallets":{"${'w'.repeat(101)}":{}}}`)).toMatch(/: not a signature id \(1 to 100 characters\)\.$/);
  });

  it('keeps every key of a map, __proto__ and constructor included, in null-prototype maps', () => {
    const p = parsePolicy(
      '{"wallets":{"constructor":{"maxAmount":"1"},"__proto__":{"tokens":{"__proto__":{"maxAmount":"2"}}}}}',
    );
    expect(Object.getPrototypeOf(p.wallets)).toBeNull();
    expect(Object.keys(p.wallets).sort()).toEqual(['__proto__', 'constructor']);
    expect((p.wallets['constructor' as string] as { maxAmount?: bigint }).maxAmount).toBe(1n);
    expect(Object.getPrototypeOf(p.wallets.__proto__!.tokens)).toBeNull();
    expect(p.wallets.__proto__!.tokens!.__proto__!.maxAmount).toBe(2n);
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
