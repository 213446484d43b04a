/**
 * `hardkms rotate` on a wallet.dat that another process holds unsealed (the daemon, a long
 * command): that process's key is no longer the store's, so nothing it appends afterwards may
 * carry that key's MAC. The bug (issue 16, seen on PostgreSQL and the same here): the audit
 * append set the authenticated head with the old key (the daemon's seal record at its stop, a
 * records-only step such as an approver's denial, the failure record of a pending transaction),
 * and every later unseal refused the vault with AUDIT_HEAD_MISMATCH. Now the append checks the
 * key under the writer lock (VAULT_REKEYED, nothing written), the daemon stops on it, and the
 * seal's record is appended unsigned, countersigned by the next unseal.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HardkmsError } from '../../../src/errors.js';
import { FakeApprover, FakeTatumApi } from '../../../scripts/lib/tatum-api-server.js';
import { runCli } from '../../support/cli.js';
import { createTestVault, openTestVault, TEST_PASSWORD, type TestVault } from '../../support/vault.js';
import { addPrivateKey, auditRecords, explain, runDaemon, spawnDaemon, testKey, waitFor } from '../../e2e/support.js';

const TO = '0x3333333333333333333333333333333333333333';
const P1 = 'the first rotated password of this vault';
const P2 = 'the second rotated password of this vault';

describe('rotate while another process holds wallet.dat unsealed', () => {
  let tv: TestVault;
  let api: FakeTatumApi;
  let wallet: string;
  let nonce = 0;
  /** The vault's password now (each case rotates it; a case run alone starts from the first). */
  let password = TEST_PASSWORD;
  const ethTx = () => JSON.stringify({ to: TO, value: '1', gasPrice: '1000000000', gas: 21000, nonce: nonce++ });
  const cli = (args: string[], password: string, input?: string) =>
    runCli([...args, '--path', tv.path], {
      env: { ...tv.token.env, TATUM_KMS_PASSWORD: password },
      timeoutMs: 120_000,
      ...(input !== undefined ? { input } : {}),
    });

  beforeAll(async () => {
    tv = await createTestVault({ testnetOnly: true });
    wallet = addPrivateKey(tv.vault, 'ETH', true, testKey(0x42));
    tv.vault.seal('test setup');
    api = await FakeTatumApi.start();
  }, 120_000);
  afterAll(async () => {
    await api?.stop();
  });

  it('the unsealed process appends nothing under its old key (VAULT_REKEYED); its seal record is unsigned and the next unseal countersigns it', async () => {
    const stale = await openTestVault(tv.path);
    const rotated = await cli(['rotate'], password, `${P1}\n`);
    expect(rotated.code, rotated.stderr).toBe(0);
    password = P1;
    const before = auditRecords(tv).length;

    let thrown: unknown;
    try {
      stale.record({ event: 'sign', subject: 'after-the-rotate', result: 'ok' });
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(HardkmsError);
    expect((thrown as HardkmsError).code).toBe('VAULT_REKEYED');
    expect(auditRecords(tv)).toHaveLength(before);

    stale.seal('test end');
    const records = auditRecords(tv);
    expect(records).toHaveLength(before + 1);
    expect(records.at(-1)).toMatchObject({
      event: 'seal',
      sig: null,
      signed: false,
      details: { reason: 'test end', rekeyedMeanwhile: true },
    });

    // The head is still the rotate's, authentic under the new key: the vault opens and signs.
    const id = api.queue({ chain: 'ETH', hashes: [wallet], serializedTransaction: ethTx() });
    const run = await runDaemon(tv, api, ['--runOnce', '--testnet', '--chain', 'ETH'], { TATUM_KMS_PASSWORD: P1 });
    expect(run.code, explain(run)).toBe(0);
    expect(api.broadcasts.filter((b) => b.signatureId === id && b.txId !== undefined)).toHaveLength(1);
    const after = auditRecords(tv);
    // Countersigned from the seal record on (the daemon's own records while sealed follow it).
    expect(after.find((r) => r.event === 'audit.countersign' && r.seq > before)?.details).toMatchObject({
      first: before + 1,
    });
    const verify = await cli(['audit', 'verify'], P1);
    expect(verify.code, verify.stderr + verify.stdout).toBe(0);
  }, 180_000);

  it('a daemon waiting on the approver when the rotate commits stops with VAULT_REKEYED, signs and writes nothing under the old key, and the vault signs after it', async () => {
    api.clearQueue();
    const approver = await FakeApprover.start();
    let release!: () => void;
    approver.hold = new Promise<void>((r) => (release = r));
    try {
      const id = api.queue({ chain: 'ETH', hashes: [wallet], serializedTransaction: ethTx() });
      const d = spawnDaemon(
        tv,
        api,
        ['--testnet', '--chain', 'ETH', '--period', '0.5', '--externalUrl', approver.url],
        {
          TATUM_KMS_PASSWORD: password,
        },
      );
      await waitFor(() => approver.requests.length > 0 || d.child.exitCode !== null, 60_000, 'the approval request');
      expect(approver.requests.length, d.lines.join('\n').slice(-3000)).toBeGreaterThan(0);
      // Frozen while the rotate runs: however long it takes under load, the daemon's approver
      // timeout cannot answer first, and its next write comes after the rotate committed.
      d.child.kill('SIGSTOP');
      const rotated = await cli(['rotate'], password, `${P2}\n`);
      password = P2;
      const rotatedAt = auditRecords(tv).length;
      // The approver says no (or the daemon's wait for it timed out meanwhile): the daemon's next
      // write is the denial's record (records only, no row).
      release();
      d.child.kill('SIGCONT');
      expect(rotated.code, rotated.stderr).toBe(0);
      const code = await d.exited;
      const log = d.lines.join('\n');
      expect(code, log.slice(-4000)).not.toBe(0);
      expect(log).toMatch(/"code":"VAULT_REKEYED"/);
      expect(api.broadcasts.filter((b) => b.signatureId === id)).toHaveLength(0);
      const records = auditRecords(tv);
      // Not one signed record of the daemon after the rotate; its seal record unsigned.
      const later = records.slice(rotatedAt);
      expect(later.filter((r) => r.sig !== null)).toEqual([]);
      expect(later.map((r) => r.event)).toEqual(['seal']);
      expect(records.some((r) => r.event === 'approval' && r.subject === id && r.sig !== null)).toBe(false);

      approver.hold = undefined;
      approver.approved.add(id);
      const again = await runDaemon(
        tv,
        api,
        ['--runOnce', '--testnet', '--chain', 'ETH', '--externalUrl', approver.url],
        {
          TATUM_KMS_PASSWORD: P2,
        },
      );
      expect(again.code, explain(again)).toBe(0);
      expect(api.broadcasts.filter((b) => b.signatureId === id && b.txId !== undefined)).toHaveLength(1);
      const verify = await cli(['audit', 'verify'], P2);
      expect(verify.code, verify.stderr + verify.stdout).toBe(0);
    } finally {
      release();
      await approver.stop();
    }
  }, 240_000);
});
