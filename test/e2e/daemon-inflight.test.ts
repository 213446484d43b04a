/**
 * Two daemon behaviours the other e2e files leave out: SIGTERM while a transaction is in
 * flight (it is finished, then the vault is sealed), and Tatum's --runOnce filters
 * (--wallets replaces the vault's ids for every chain; --transactionIds skips the others).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeApprover, FakeTatumApi } from '../../scripts/lib/tatum-api-server.js';
import { createTestVault, type TestVault } from '../support/vault.js';
import { addPrivateKey, auditRecords, explain, runDaemon, spawnDaemon, testKey, waitFor } from './support.js';

const TO = '0x3333333333333333333333333333333333333333';
let nonce = 0;
const ethTx = () => JSON.stringify({ to: TO, value: '1', gasPrice: '1000000000', gas: 21000, nonce: nonce++ });

describe('daemon: in-flight shutdown and --runOnce filters', () => {
  let api: FakeTatumApi;
  let tv: TestVault;
  let w1: string;
  let w2: string;

  beforeAll(async () => {
    tv = await createTestVault({ testnetOnly: true });
    w1 = addPrivateKey(tv.vault, 'ETH', true, testKey(0x41));
    w2 = addPrivateKey(tv.vault, 'ETH', true, testKey(0x42));
    tv.vault.seal('test setup');
    api = await FakeTatumApi.start();
  });
  afterAll(async () => {
    await api?.stop();
  });

  it('SIGTERM during a transaction: the transaction is finished (signed and broadcast), then the vault is sealed', async () => {
    api.clearQueue();
    const approver = await FakeApprover.start();
    approver.delayMs = 1_500;
    try {
      const id = api.queue({ chain: 'ETH', hashes: [w1], serializedTransaction: ethTx() });
      approver.approved.add(id);
      const d = spawnDaemon(tv, api, ['--testnet', '--chain', 'ETH', '--period', '1', '--externalUrl', approver.url]);
      await waitFor(() => approver.requests.length > 0, 30_000, 'the approval request');
      d.child.kill('SIGTERM'); // while the approver is still thinking
      expect(await d.exited).toBe(0);
      expect(api.broadcasts.filter((b) => b.signatureId === id)).toHaveLength(1);
      const records = auditRecords(tv);
      const broadcastAt = records.findIndex((r) => r.event === 'broadcast' && r.subject === id);
      const sealAt = records.findIndex((r, i) => i > broadcastAt && r.event === 'seal');
      expect(broadcastAt).toBeGreaterThan(0);
      // The unwrap is audited before the signature, the signature before the broadcast.
      const unwrapAt = records.findIndex((r) => r.event === 'unwrap' && r.subject === id);
      const signAt = records.findIndex((r) => r.event === 'sign' && r.subject === id && r.result === 'ok');
      expect(records[unwrapAt]?.details).toMatchObject({ keys: [{ signatureId: w1, where: 'token' }] });
      expect(unwrapAt).toBeLessThan(signAt);
      expect(signAt).toBeLessThan(broadcastAt);
      expect(records[sealAt]).toMatchObject({ details: { reason: 'daemon stopped by SIGTERM' } });
    } finally {
      await approver.stop();
    }
  });

  it('--runOnce --transactionIds processes only the listed pending ids', async () => {
    api.clearQueue();
    const keep = api.queue({ chain: 'ETH', hashes: [w1], serializedTransaction: ethTx() });
    const other = api.queue({ chain: 'ETH', hashes: [w1], serializedTransaction: ethTx() });
    const r = await runDaemon(tv, api, ['--runOnce', '--testnet', '--chain', 'ETH', '--transactionIds', keep]);
    expect(r.code, explain(r)).toBe(0);
    expect(api.broadcasts.map((b) => b.signatureId)).toContain(keep);
    expect(api.broadcasts.map((b) => b.signatureId)).not.toContain(other);
  });

  it('--runOnce --wallets asks the API about those signature ids only', async () => {
    api.clearQueue();
    const r = await runDaemon(tv, api, ['--runOnce', '--testnet', '--chain', 'ETH', '--wallets', w2]);
    expect(r.code, explain(r)).toBe(0);
    const last = api.requestsTo('/v3/kms/pending/ETH').at(-1) as { json?: { signatureIds?: string[] } } | undefined;
    expect(last?.json?.signatureIds).toEqual([w2]);
  });
});
