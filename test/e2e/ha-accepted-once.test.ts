/**
 * Issue 16, exactly-once acceptance, with one daemon on wallet.dat (the embedded default): the
 * built CLI is killed (SIGKILL, the HARDKMS_TEST_CRASH_AFTER_SIGN=broadcast test hook) right
 * after the Tatum-compatible server accepted its broadcast and before its journal recorded
 * it. Tatum no longer lists a completed id, so the restarted daemon sees nothing to do; when
 * the list lags (the server's listCompleted option) it finds the signed row, asks Tatum
 * (GET /v3/kms/{id}) and records the completion, journal and audit, without sending the
 * transaction a second time. (Several daemons on PostgreSQL: test/e2e/ha-daemons.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeTatumApi } from '../../scripts/lib/tatum-api-server.js';
import { createTestVault, type TestVault } from '../support/vault.js';
import { addPrivateKey, auditRecords, explain, journalRows, runDaemon, testKey } from './support.js';

const A = '0x1111111111111111111111111111111111111111';
const ETH_ONCE = ['--runOnce', '--testnet', '--chain', 'ETH'];

describe('one daemon killed between Tatum accepting its broadcast and its journal recording it', () => {
  let api: FakeTatumApi;
  let lagging: FakeTatumApi;
  let tv: TestVault;
  let wallet: string;
  let nonce = 0;

  beforeAll(async () => {
    tv = await createTestVault({ testnetOnly: true });
    wallet = addPrivateKey(tv.vault, 'ETH', true, testKey(0x6b));
    tv.vault.seal('test setup');
    api = await FakeTatumApi.start();
    lagging = await FakeTatumApi.start({ listCompleted: true });
  });
  afterAll(async () => {
    await api?.stop();
    await lagging?.stop();
  });

  const queue = (server: FakeTatumApi): string =>
    server.queue({
      chain: 'ETH',
      hashes: [wallet],
      serializedTransaction: JSON.stringify({ to: A, value: '9', gasPrice: '1000000000', gas: 21000, nonce: nonce++ }),
    });

  it('Tatum no longer lists the completed id: the restart sends nothing and asks nothing', async () => {
    const id = queue(api);
    const crashed = await runDaemon(tv, api, ETH_ONCE, { HARDKMS_TEST_CRASH_AFTER_SIGN: 'broadcast' });
    expect(crashed.code, explain(crashed)).toBe(-1);
    expect(api.broadcasts.filter((b) => b.signatureId === id && b.txId !== undefined)).toHaveLength(1);
    const r = await runDaemon(tv, api, ETH_ONCE);
    expect(r.code, explain(r)).toBe(0);
    expect(api.broadcasts.filter((b) => b.signatureId === id)).toHaveLength(1);
    expect(api.requestsTo(`/v3/kms/${id}`)).toEqual([]);
    // The journal keeps the signature (never signed again); its broadcast went unrecorded.
    expect(journalRows(tv).get(id)?.state).toBe('signed');
  });

  it('Tatum still lists it: the restart records the completion Tatum reports and sends nothing again', async () => {
    const api = lagging;
    const id = queue(api);
    const crashed = await runDaemon(tv, api, ETH_ONCE, { HARDKMS_TEST_CRASH_AFTER_SIGN: 'broadcast' });
    expect(crashed.code, explain(crashed)).toBe(-1); // killed by SIGKILL
    const sent = api.broadcasts.filter((b) => b.signatureId === id);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.txId).toBeDefined();
    const row = journalRows(tv).get(id)!;
    expect(row).toMatchObject({ state: 'signed', rawTx: sent[0]!.txData });
    expect(api.pending(id)?.txId).toBe(sent[0]!.txId);

    const r = await runDaemon(tv, api, ETH_ONCE);
    expect(r.code, explain(r)).toBe(0);
    expect(api.broadcasts.filter((b) => b.signatureId === id)).toHaveLength(1);
    expect(api.requestsTo(`/v3/kms/${id}`).map((q) => q.method)).toEqual(['GET']);
    expect(journalRows(tv).get(id)).toMatchObject({ state: 'broadcast', chainTxId: sent[0]!.txId, rawTx: row.rawTx });
    const records = auditRecords(tv).filter((a) => a.subject === id && (a.event === 'sign' || a.event === 'broadcast'));
    expect(records.map((a) => `${a.event} ${a.result}`)).toEqual(['sign ok', 'broadcast ok']);
    expect(records[1]!.details).toMatchObject({ via: 'tatum-completed', txId: sent[0]!.txId, rebroadcast: true });
  });
});
