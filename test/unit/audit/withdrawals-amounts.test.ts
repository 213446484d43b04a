/**
 * The withdrawals report reads a sign record's `amounts` only when it is an object of
 * decimal strings (audit/withdrawals.ts); any other shape (an array, a string, null) counts
 * as "no amounts recorded", as for a record of an older hardkms, and is never summed.
 */
import { describe, expect, it } from 'vitest';
import { buildWithdrawals, type LogRecord } from '../../../src/audit/withdrawals.js';

const sign = (amounts: unknown): LogRecord => ({
  seq: 1,
  time: '2026-01-02T03:04:05.000Z',
  event: 'sign',
  result: 'ok',
  subject: 'p1',
  details: { pendingId: 'p1', chain: 'ETH', testnet: true, signatureIds: ['w1'], amounts, fee: '21000' },
});

const report = (amounts: unknown) =>
  buildWithdrawals({ records: [sign(amounts)], journal: undefined, spends: [], from: '2026-01-02', to: '2026-01-02' });

describe('withdrawals: recorded amounts', () => {
  it('an object of decimal strings is summed per asset, with the fee; a value that is not one is skipped', () => {
    const r = report({ native: '5', '0xToken': '7', bad: 'MARK' });
    const all = r.rows.filter((x) => x.wallet === '*');
    // 'bad' is not a decimal: not an asset of the record.
    expect(all.map((x) => [x.asset, x.signedAmount, x.signedFees])).toEqual([
      ['0xToken', '7', '0'],
      ['native', '5', '21000'],
    ]);
    expect(r.reconciliation.amountsUnknown).toEqual([]);
  });

  it.each([[['5']], ['5'], [null]])(
    'amounts %j is no record of amounts (listed as unknown, nothing summed)',
    (amounts) => {
      const r = report(amounts);
      expect(r.reconciliation.amountsUnknown).toEqual(['p1']);
      expect(r.rows.filter((x) => x.wallet === '*').map((x) => [x.asset, x.signedAmount])).toEqual([['native', '0']]);
    },
  );
});
