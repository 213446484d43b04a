import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lanesOf } from '../../../src/signer/daemon.js';
import { Journal } from '../../../src/signer/pipeline/journal.js';
import type { PendingTransaction } from '../../../src/signer/source/pending.js';
import { StepCommitter } from '../../../src/signer/pipeline/step-commit.js';
import { createTestVault, type TestVault } from '../../support/vault.js';
import { auditRecords } from '../../e2e/support.js';

const p = (id: string, hashes: string[], index?: number): PendingTransaction => ({
  id,
  chain: 'ETH',
  serializedTransaction: '{}',
  hashes,
  ...(index === undefined ? {} : { index }),
});

describe('lanesOf: one wallet in order, different wallets apart', () => {
  it('groups by chain, signature id and index; a pending id seen twice stays in one lane', () => {
    const lanes = lanesOf([
      p('a', ['w1']),
      p('b', ['w2']),
      p('c', ['w1']),
      p('d', ['w1'], 3),
      p('e', ['w1'], 3),
      p('a', ['w9']),
    ]);
    expect(lanes).toEqual([[0, 2, 5], [1], [3, 4]]);
  });
});

describe('StepCommitter: steps of one turn commit together', () => {
  let tv: TestVault;
  let journal: Journal;
  beforeAll(async () => {
    tv = await createTestVault({ testnetOnly: true });
    journal = new Journal(tv.vault.store);
  });
  afterAll(() => tv?.vault.seal());

  it('three steps in one turn: one batch, one signature; a failing step is rolled back alone', async () => {
    const steps = new StepCommitter(tv.vault);
    const before = auditRecords(tv).length;
    const results = await Promise.allSettled([
      steps.commit(
        () => journal.receive('000000000000000000000001', 'ETH', 'h1'),
        () => [{ event: 'approval', subject: '1', result: 'ok' }],
      ),
      steps.commit(
        () => {
          journal.receive('000000000000000000000002', 'ETH', 'h2');
          throw new Error('this step fails after writing its row');
        },
        () => [{ event: 'approval', subject: '2', result: 'ok' }],
      ),
      steps.commit(
        () => journal.receive('000000000000000000000003', 'ETH', 'h3'),
        () => [{ event: 'approval', subject: '3', result: 'ok' }],
      ),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(steps.stats).toEqual({ batches: 1, steps: 3 });
    expect(journal.get('000000000000000000000001')?.state).toBe('received');
    expect(journal.get('000000000000000000000002')).toBeUndefined();
    const added = auditRecords(tv).slice(before);
    expect(added.map((r) => [r.subject, r.batch, r.sig === null])).toEqual([
      ['1', 1, true],
      ['3', 0, false],
    ]);
  });

  it('when the batch cannot be recorded (the sink is down), every step is rejected and no row stays', async () => {
    const steps = new StepCommitter({
      store: tv.vault.store,
      recordBatch: () => {
        throw new Error('AUDIT_FORWARD_DOWN');
      },
    });
    const results = await Promise.allSettled([
      steps.commit(() => journal.receive('000000000000000000000004', 'ETH', 'h4')),
      steps.commit(() => journal.receive('000000000000000000000005', 'ETH', 'h5')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(journal.get('000000000000000000000004')).toBeUndefined();
    expect(journal.get('000000000000000000000005')).toBeUndefined();
  });
});
