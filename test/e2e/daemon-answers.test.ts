/**
 * What the daemon does with odd broadcast answers, end to end with the built CLI and the
 * fake Tatum API: a 2xx without txId (or without boolean `completed`) was broadcast all the
 * same, so it is journaled as broadcast under the locally computed hash, logged at warn,
 * and never sent again as if it had failed.
 */
import { readFileSync } from 'node:fs';
import { keccak256 } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeTatumApi } from '../../scripts/lib/tatum-api-server.js';
import { createTestVault, type TestVault } from '../support/vault.js';
import { addPrivateKey, auditRecords, explain, journalRows, runDaemon, testKey } from './support.js';

const ETH_ONCE = ['--runOnce', '--testnet', '--chain', 'ETH'];
const ethTx = (nonce: number) =>
  JSON.stringify({
    to: '0x1111111111111111111111111111111111111111',
    value: '5',
    gasPrice: '1000000000',
    gas: 21000,
    nonce,
  });

describe('daemon: broadcast answers', () => {
  let api: FakeTatumApi;
  let tv: TestVault;
  let wallet: string;

  beforeAll(async () => {
    tv = await createTestVault({ testnetOnly: true });
    wallet = addPrivateKey(tv.vault, 'ETH', true, testKey(0x71));
    tv.vault.seal('test setup');
    api = await FakeTatumApi.start();
  });
  afterAll(async () => {
    await api?.stop();
  });

  it('a 2xx without txId: journaled as broadcast with the local hash, warned, not reported, never re-sent', async () => {
    const id = api.queue({ chain: 'ETH', hashes: [wallet], serializedTransaction: ethTx(0) });
    api.failNext({ kind: 'json', body: { status: 'accepted' } }, 1, { path: '/v3/ethereum/broadcast' });
    const r = await runDaemon(tv, api, ETH_ONCE);
    expect(r.code, explain(r)).toBe(0);
    expect(api.errorReports).toEqual([]);
    const sent = api.broadcasts.filter((b) => b.signatureId === id);
    expect(sent).toHaveLength(0); // the injected answer came before the fake recorded it
    const row = journalRows(tv).get(id)!;
    expect(row.state).toBe('broadcast');
    expect(row.chainTxId).toBe(keccak256(row.rawTx!));
    expect(r.stderr).toMatch(/"level":"warn".*answered no txId/);
    expect(auditRecords(tv).find((a) => a.event === 'broadcast' && a.subject === id)?.details).toMatchObject({
      txId: row.chainTxId,
      warning: expect.any(String),
    });

    // Tatum still lists it (it never saw a txId): the next cycle does not send it again.
    const again = await runDaemon(tv, api, ETH_ONCE);
    expect(again.code, explain(again)).toBe(0);
    expect(api.requestsTo('/v3/ethereum/broadcast')).toHaveLength(1);
    expect(api.errorReports).toEqual([]);
  });

  it("version header and advice (§2.1, §2.8): sends hardkms's version, logs Tatum's advice once at warn (error when Tatum says ERROR)", async () => {
    const api = await FakeTatumApi.start({ latestVersionHeader: '8.0.2;ERROR;Please update Tatum KMS' });
    try {
      const r = await runDaemon(tv, api, ['--runOnce', '--testnet', '--chain', 'ETH,BSC']);
      expect(r.code, explain(r)).toBe(0);
      const [poll] = api.requestsTo('/v3/kms/pending/ETH');
      const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
        version: string;
      };
      expect(poll?.headers['x-ttm-kms-client-version']).toBe(version);
      expect(poll?.headers['user-agent']).toBe(`hardkms/${version}`);
      const advice = r.stderr.split('\n').filter((l) => l.includes('Tatum API version advice'));
      expect(advice).toHaveLength(1); // two chains polled, one log line
      expect(advice[0]).toMatch(/"level":"error".*Please update Tatum KMS/);
    } finally {
      await api.stop();
    }
  });
});
