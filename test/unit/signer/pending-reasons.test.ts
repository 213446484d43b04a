/**
 * A malformed pending transaction's reason goes back to the Tatum API in the error batch and
 * into the daemon's log: it names the field and the kind of value, never the value (a
 * compromised or buggy API could have put a secret, or text meant for an operator, there).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validatePending } from '../../../src/signer/source/pending.js';

const valid = {
  id: '5e6645712b55823de7ea82f1',
  chain: 'LTC',
  serializedTransaction: '{"hash":"00"}',
  hashes: ['11115fc0-2112-4c8a-b8bf-353b86f63111'],
  withdrawalResponses: [
    {
      address: { address: 'tltc1qxyz', currency: 'LTC', derivationKey: 4 },
      amount: 0.5,
      vIn: 'ab'.repeat(32),
      vInIndex: 1,
    },
  ],
};

describe('pending transaction reasons', () => {
  const MARK = 'L4rK-secret-0123';
  const patches: Record<string, unknown>[] = [
    { id: MARK },
    { chain: MARK },
    { hashes: [MARK.repeat(100)] },
    { hashes: MARK },
    { index: MARK },
    { withdrawalId: 7, txId: MARK },
    { signatures: [{ id: WALLET(), index: MARK }] },
    { withdrawalResponses: [{ ...valid.withdrawalResponses[0], vIn: MARK }] },
    {
      withdrawalResponses: [
        {
          ...valid.withdrawalResponses[0],
          address: { address: 'a', currency: 'LTC', destinationTag: MARK.repeat(100) },
        },
      ],
    },
  ];
  it.each(patches)('names the field of case %# and does not echo its value', (patch) => {
    const r = validatePending({ ...valid, ...patch });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.reason).toContain(Object.keys(patch)[0]!);
      expect(r.reason).not.toContain(MARK);
    }
  });

  it('fuzz: a string put in any field never comes back in the reason', () => {
    const fields = [
      'id',
      'chain',
      'serializedTransaction',
      'hashes',
      'signatures',
      'index',
      'withdrawalId',
      'withdrawalResponses',
      'txId',
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...fields),
        fc.string({ minLength: 8 }),
        fc.constantFrom('bare', 'list', 'object'),
        (field, s, shape) => {
          const garbage = shape === 'bare' ? s : shape === 'list' ? [s] : { id: s, index: s, vIn: s, address: s };
          const r = validatePending({ ...valid, [field]: garbage });
          return r.ok || !r.reason.includes(s);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

function WALLET(): string {
  return '22225fc0-2112-4c8a-b8bf-353b86f62222';
}
