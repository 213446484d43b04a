/**
 * The daemon's safety rules, end to end with the built CLI and the fake Tatum API (ETH
 * payloads that need no node; broadcasts are recorded by the fake): four-eyes approval,
 * policy, the journal across a kill -9, the mainnet gate, SIGTERM.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { freePort } from '../../scripts/lib/ports.js';
import { createTestToken, TEST_PIN } from '../support/softhsm.js';
import { FakeApprover, FakeTatumApi } from '../../scripts/lib/tatum-api-server.js';
import { createTestVault, type TestVault } from '../support/vault.js';
import {
  addPrivateKey,
  auditRecords,
  explain,
  journalRows,
  runDaemon,
  spawnDaemon,
  testKey,
  waitFor,
} from './support.js';

const A = '0x1111111111111111111111111111111111111111';
const B = '0x2222222222222222222222222222222222222222';
let nonce = 0;
const ethTx = (to: string, value: bigint) =>
  JSON.stringify({ to, value: value.toString(), gasPrice: '1000000000', gas: 21000, nonce: nonce++ });
const ETH_ONCE = ['--runOnce', '--testnet', '--chain', 'ETH'];

describe('daemon safety, end to end', () => {
  let api: FakeTatumApi;
  let tv: TestVault;
  let wallet: string;
  let dir: string;

  beforeAll(async () => {
    tv = await createTestVault({ testnetOnly: true });
    wallet = addPrivateKey(tv.vault, 'ETH', true, testKey(0x61));
    tv.vault.seal('test setup');
    api = await FakeTatumApi.start();
    dir = mkdtempSync(join(tmpdir(), 'hardkms-daemon-safety-'));
  });
  afterAll(async () => {
    await api?.stop();
  });
  beforeEach(() => {
    api.clearQueue();
  });

  const broadcastsOf = (id: string) => api.broadcasts.filter((b) => b.signatureId === id);
  const signRecords = (id: string) =>
    auditRecords(tv).filter((a) => a.event === 'sign' && a.subject === id && a.result === 'ok');

  it('the approver denies: nothing is signed, nothing is reported, the denial is audited', async () => {
    const approver = await FakeApprover.start();
    try {
      const id = api.queue({ chain: 'ETH', hashes: [wallet], serializedTransaction: ethTx(A, 1n) });
      const r = await runDaemon(tv, api, [...ETH_ONCE, '--externalUrl', approver.url]);
      expect(r.code, explain(r)).toBe(0);
      expect(approver.requests.map((q) => `${q.method} ${q.path}`)).toEqual([`GET /approve/${id}`]);
      expect(broadcastsOf(id)).toEqual([]);
      expect(signRecords(id)).toEqual([]);
      expect(api.errorReports.filter((e) => e.signatureId === id)).toEqual([]);
      expect(journalRows(tv).get(id)).toMatchObject({ state: 'received', rawTx: undefined });
      expect(auditRecords(tv).find((a) => a.event === 'approval' && a.subject === id)).toMatchObject({
        result: 'denied',
      });
    } finally {
      await approver.stop();
    }
  });

  it('the approver is down: nothing is signed; next cycle, with the approver back, it is signed (POST mode)', async () => {
    const id = api.queue({ chain: 'ETH', hashes: [wallet], serializedTransaction: ethTx(A, 2n) });
    const down = `http://127.0.0.1:${await freePort()}/approve`;
    const first = await runDaemon(tv, api, [...ETH_ONCE, '--externalUrl', down, '--externalUrlMethod', 'POST']);
    expect(first.code, explain(first)).toBe(0);
    expect(broadcastsOf(id)).toEqual([]);

    const approver = await FakeApprover.start();
    try {
      approver.approved.add(id);
      const second = await runDaemon(tv, api, [
        ...ETH_ONCE,
        '--externalUrl',
        approver.url,
        '--externalUrlMethod',
        'POST',
      ]);
      expect(second.code, explain(second)).toBe(0);
      expect(approver.requests[0]).toMatchObject({
        method: 'POST',
        path: `/approve/${id}`,
        json: { id, chain: 'ETH', hashes: [wallet] },
      });
      expect(broadcastsOf(id)).toHaveLength(1);
      expect(signRecords(id)[0]?.details).toMatchObject({ approvalRequired: true, approved: true });
    } finally {
      await approver.stop();
    }
  });

  it('with --externalUrlSecret, a 2xx without the right HMAC does not approve', async () => {
    const secret = 'f'.repeat(64);
    const file = join(dir, 'approver.key');
    writeFileSync(file, `${secret}\n`, { mode: 0o600 });
    const approver = await FakeApprover.start({ secret: Buffer.from(secret) });
    try {
      const id = api.queue({ chain: 'ETH', hashes: [wallet], serializedTransaction: ethTx(A, 3n) });
      approver.approved.add(id);
      approver.mode = 'wrong-mac';
      await runDaemon(tv, api, [...ETH_ONCE, '--externalUrl', approver.url, '--externalUrlSecret', file]);
      expect(broadcastsOf(id)).toEqual([]);
      approver.mode = 'normal';
      const r = await runDaemon(tv, api, [...ETH_ONCE, '--externalUrl', approver.url, '--externalUrlSecret', file]);
      expect(r.code, explain(r)).toBe(0);
      expect(broadcastsOf(id)).toHaveLength(1);
      expect(r.stderr).not.toContain(secret);
    } finally {
      await approver.stop();
    }
  });

  it('a policy violation is not signed, is reported in the error batch and audited; what the policy allows is signed', async () => {
    const policy = join(dir, 'policy.json');
    // The fee counts toward maxAmount: 21000 gas at 1 gwei is 21000000000000 wei.
    writeFileSync(
      policy,
      JSON.stringify({ chains: { ETH: { maxAmount: '21000000001000', allowedDestinations: [A] } } }),
    );
    const ok = api.queue({ chain: 'ETH', hashes: [wallet], serializedTransaction: ethTx(A, 1000n) });
    const tooMuch = api.queue({ chain: 'ETH', hashes: [wallet], serializedTransaction: ethTx(A, 1001n) });
    const elsewhere = api.queue({ chain: 'ETH', hashes: [wallet], serializedTransaction: ethTx(B, 1n) });
    const r = await runDaemon(tv, api, [...ETH_ONCE, '--policy', policy]);
    expect(r.code, explain(r)).toBe(1);
    expect(broadcastsOf(ok)).toHaveLength(1);
    expect(broadcastsOf(tooMuch)).toEqual([]);
    expect(broadcastsOf(elsewhere)).toEqual([]);
    const reports = api.errorReports.filter((e) => e.signatureId === tooMuch || e.signatureId === elsewhere);
    expect(reports.map((e) => e.error)).toEqual([
      expect.stringMatching(
        /^POLICY_VIOLATION: policy chains\.ETH: ETH amount 21000000001001 \(1001 sent \+ 21000000000000 fee\) exceeds maxAmount 21000000001000/,
      ),
      expect.stringMatching(
        /^POLICY_VIOLATION: policy chains\.ETH: destination 0x2222222222222222222222222222222222222222 is not in allowedDestinations/,
      ),
    ]);
    // One error batch for the cycle.
    expect(api.requestsTo('/v3/tatum/kms/batch').at(-1)?.json).toEqual({ errors: reports });
    const audit = auditRecords(tv);
    expect(audit.find((a) => a.event === 'policy' && a.subject === tooMuch)).toMatchObject({ result: 'denied' });
    expect(audit.find((a) => a.event === 'policy' && a.subject === ok)).toMatchObject({ result: 'ok' });
    expect(signRecords(tooMuch)).toEqual([]);
  });

  it('refuses a malformed policy file before unsealing, naming the field', async () => {
    const policy = join(dir, 'bad-policy.json');
    writeFileSync(policy, JSON.stringify({ chains: { ETH: { maxAmout: '1' } } }));
    const r = await runDaemon(tv, api, [...ETH_ONCE, '--policy', policy]);
    expect(r.code).not.toBe(0);
    expect(r.error().error).toContain('chains.ETH.maxAmout: not a rule field');
  });

  it('kill -9 after signing, before broadcasting: the restart broadcasts the SAME raw transaction and signs nothing new', async () => {
    const id = api.queue({ chain: 'ETH', hashes: [wallet], serializedTransaction: ethTx(A, 5n) });
    const crashed = await runDaemon(tv, api, ETH_ONCE, { HARDKMS_TEST_CRASH_AFTER_SIGN: '1' });
    expect(crashed.code, explain(crashed)).toBe(-1); // killed by SIGKILL
    expect(broadcastsOf(id)).toEqual([]);
    const row = journalRows(tv).get(id)!;
    expect(row.state).toBe('signed');
    expect(row.rawTx).toMatch(/^0x/);
    expect(signRecords(id)).toHaveLength(1); // audited before it could leave the process

    const r = await runDaemon(tv, api, ETH_ONCE);
    expect(r.code, explain(r)).toBe(0);
    expect(broadcastsOf(id).map((b) => b.txData)).toEqual([row.rawTx]);
    expect(signRecords(id)).toHaveLength(1);
    expect(auditRecords(tv).find((a) => a.event === 'broadcast' && a.subject === id)?.details).toMatchObject({
      rebroadcast: true,
    });
    expect(journalRows(tv).get(id)).toMatchObject({ state: 'broadcast', rawTx: row.rawTx });
  });

  it('a pending id that comes back with another payload after signing is refused and audited', async () => {
    const payload = ethTx(A, 6n);
    const id = api.queue({ chain: 'ETH', hashes: [wallet], serializedTransaction: payload });
    await runDaemon(tv, api, ETH_ONCE, { HARDKMS_TEST_CRASH_AFTER_SIGN: '1' });
    api.clearQueue();
    api.queue({ id, chain: 'ETH', hashes: [wallet], serializedTransaction: ethTx(B, 999n) });
    const r = await runDaemon(tv, api, ETH_ONCE);
    expect(r.code).toBe(1);
    expect(broadcastsOf(id)).toEqual([]);
    expect(api.errorReports.find((e) => e.signatureId === id)?.error).toMatch(
      /^TX_ALREADY_SIGNED: .*different payload/,
    );
    expect(
      auditRecords(tv).find((a) => a.event === 'sign' && a.subject === id && a.result === 'denied')?.details,
    ).toMatchObject({
      reason: 'payload changed after signing',
    });
    expect(signRecords(id)).toHaveLength(1);
  });

  it('reports malformed pending transactions and keeps going', async () => {
    api.queueRaw('ETH', { id: 'b'.repeat(24), chain: 'ETH', serializedTransaction: 42, hashes: [wallet] });
    const good = api.queue({ chain: 'ETH', hashes: [wallet], serializedTransaction: ethTx(A, 7n) });
    const r = await runDaemon(tv, api, ETH_ONCE);
    expect(r.code).toBe(1);
    expect(api.errorReports.find((e) => e.signatureId === 'b'.repeat(24))?.error).toMatch(
      /^TX_MALFORMED: .*serializedTransaction/,
    );
    expect(broadcastsOf(good)).toHaveLength(1);
  });

  it('SIGTERM: stops polling, seals the vault, exits 0', async () => {
    const d = spawnDaemon(tv, api, ['--testnet', '--chain', 'ETH', '--period', '1']);
    await waitFor(() => d.lines.some((l) => l.includes('"daemon started"')), 30_000, 'daemon start');
    await waitFor(() => api.requestsTo('/v3/kms/pending/ETH').length > 0, 30_000, 'first poll');
    d.child.kill('SIGTERM');
    expect(await d.exited).toBe(0);
    expect(auditRecords(tv).at(-1)).toMatchObject({ event: 'seal', details: { reason: 'daemon stopped by SIGTERM' } });
  });

  it('a testnet-only vault refuses a mainnet daemon', async () => {
    const r = await runDaemon(tv, api, ['--runOnce', '--chain', 'ETH']);
    expect(r.code).not.toBe(0);
    expect(r.error()).toMatchObject({ code: 'DAEMON_MAINNET_REFUSED', hint: expect.stringContaining('--testnet') });
  });
});

describe('mainnet gate', () => {
  it('refuses mainnet without an approver and with a password seal, unless the loud flag is given (audited)', async () => {
    const token = createTestToken('hardkms', { setProcessEnv: false });
    const path = join(mkdtempSync(join(tmpdir(), 'hardkms-mainnet-')), 'wallet.dat');
    const api = await FakeTatumApi.start();
    const env = {
      ...token.env,
      TATUM_KMS_PASSWORD: 'Pw9fK3Zq7xLm2vQ8',
      TATUM_API_KEY: api.apiKey,
      TATUM_API_URL: api.url,
    };
    try {
      const init = await runCli(['init', '--allow-password-mainnet', '--path', path], {
        env: { ...env, HARDKMS_TOKEN_PIN: TEST_PIN },
      });
      expect(init.code, init.stderr).toBe(0);
      const refused = await runCli(['daemon', '--runOnce', '--chain', 'ETH', '--path', path], { env });
      expect(refused.code).not.toBe(0);
      expect(refused.error()).toMatchObject({ code: 'DAEMON_MAINNET_REFUSED' });
      expect(refused.error().error).toMatch(/no four-eyes approver.*sealed by a password/);
      expect(api.requests).toEqual([]);

      // Mainnet needs a policy even with the override: nothing is signed by default.
      const noPolicy = await runCli(
        ['daemon', '--runOnce', '--chain', 'ETH', '--path', path, '--i-understand-mainnet-without-approval'],
        { env },
      );
      expect(noPolicy.code).not.toBe(0);
      expect(noPolicy.error()).toMatchObject({
        code: 'DAEMON_MAINNET_REFUSED',
        error: expect.stringContaining('--policy'),
      });
      expect(api.requests).toEqual([]);
      const policy = join(dirname(path), 'policy.json');
      writeFileSync(policy, JSON.stringify({ chains: { ETH: { maxAmount: '0' } } }));
      // the fake API is plain http on 127.0.0.1: on mainnet that needs its own audited flag
      const allowed = await runCli(
        [
          'daemon',
          '--runOnce',
          '--chain',
          'ETH',
          '--path',
          path,
          '--policy',
          policy,
          '--i-understand-mainnet-without-approval',
          '--allow-insecure-http',
        ],
        {
          env,
        },
      );
      expect(allowed.code, allowed.stderr).toBe(0);
      expect(allowed.stderr).toContain('MAINNET');
      expect(api.requestsTo('/v3/kms/pending/ETH')).toHaveLength(1);
      const audit = auditRecords({ path } as TestVault);
      expect(audit.find((a) => a.event === 'daemon.mainnet-override')).toMatchObject({
        result: 'info',
        details: { flag: '--i-understand-mainnet-without-approval' },
      });
    } finally {
      await api.stop();
    }
  });
});
