/**
 * `hardkms audit withdrawals` (issue 14 item 14) on the store and log of a real daemon run
 * (built CLI, SoftHSM2 token, the fake Tatum API): the sums are the amounts and fees of the
 * payloads queued (computed here from the payloads, not by hardkms), signed and broadcast
 * counted apart, per wallet and per chain; run on a read-only auditor's copy, which it leaves
 * exactly as it was.
 */
import { chmodSync, copyFileSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { FakeTatumApi } from '../../scripts/lib/tatum-api-server.js';
import { createTestVault, type TestVault } from '../support/vault.js';
import { addPrivateKey, auditRecords, explain, runDaemon, testKey } from './support.js';
import type { WithdrawalRow } from '../../src/audit/withdrawals.js';

const GAS_PRICE = 1_000_000_000n;
const GAS = 21_000n;
const ethTx = (value: bigint, nonce: number): string =>
  JSON.stringify({
    to: '0x1111111111111111111111111111111111111111',
    value: value.toString(),
    gasPrice: GAS_PRICE.toString(),
    gas: Number(GAS),
    nonce,
  });

type Row = WithdrawalRow;

describe('audit withdrawals on a real daemon run', () => {
  let api: FakeTatumApi;
  let tv: TestVault;
  let a: string;
  let b: string;
  let copy: string;
  const today = new Date().toISOString().slice(0, 10);
  const fee = GAS * GAS_PRICE;

  beforeAll(async () => {
    tv = await createTestVault({ testnetOnly: true });
    a = addPrivateKey(tv.vault, 'ETH', true, testKey(0x51));
    b = addPrivateKey(tv.vault, 'ETH', true, testKey(0x52));
    tv.vault.seal('test setup');
    api = await FakeTatumApi.start();
    api.queue({ chain: 'ETH', hashes: [a], serializedTransaction: ethTx(5_000n, 0) });
    api.queue({ chain: 'ETH', hashes: [a], serializedTransaction: ethTx(7_000n, 1) });
    api.queue({ chain: 'ETH', hashes: [b], serializedTransaction: ethTx(11_000n, 0) });
    const ok = await runDaemon(tv, api, ['--runOnce', '--testnet', '--chain', 'ETH']);
    expect(ok.code, explain(ok)).toBe(0);
    // Signed, but the broadcast fails: it counts as signed, not as broadcast.
    api.queue({ chain: 'ETH', hashes: [b], serializedTransaction: ethTx(13_000n, 1) });
    api.failNext({ kind: 'status', status: 503 }, 5, { path: '/v3/ethereum/broadcast' });
    const failed = await runDaemon(tv, api, ['--runOnce', '--testnet', '--chain', 'ETH']);
    expect(failed.code).not.toBe(0);
    expect(auditRecords(tv).filter((r) => r.event === 'sign' && r.result === 'ok')).toHaveLength(4);

    // The auditor's copy: the three evidence files, read-only.
    copy = mkdtempSync(join(tmpdir(), 'hardkms-withdrawals-copy-'));
    for (const f of ['wallet.dat', 'audit.log', 'audit.pub.pem']) copyFileSync(join(tv.dir, f), join(copy, f));
    for (const f of readdirSync(copy)) chmodSync(join(copy, f), 0o444);
    chmodSync(copy, 0o555);
  }, 180_000);
  afterAll(async () => {
    if (copy) chmodSync(copy, 0o755);
    await api?.stop();
  });

  const withdrawals = (args: string[]) => runCli(['audit', 'withdrawals', '--path', join(copy, 'wallet.dat'), ...args]);

  it('sums per chain and per wallet what was signed and what was broadcast, amounts and fees apart', async () => {
    const before = readdirSync(copy).map((f) => [f, statSync(join(copy, f)).mode, statSync(join(copy, f)).mtimeMs]);
    const r = await withdrawals(['--from', today, '--to', today]);
    expect(r.code, r.stderr).toBe(0);
    const out = r.json() as {
      rows: Row[];
      transactions: { signed: number; broadcast: number };
      reconciliation: Record<string, unknown>;
    };
    expect(out.transactions).toEqual({ signed: 4, broadcast: 3 });
    const native = (wallet: string) => out.rows.find((x) => x.wallet === wallet && x.asset === 'native');
    expect(native('*')).toEqual({
      day: today,
      chain: 'ETH',
      net: 'testnet',
      wallet: '*',
      asset: 'native',
      signed: 4,
      signedAmount: (5_000n + 7_000n + 11_000n + 13_000n).toString(),
      signedFees: (4n * fee).toString(),
      broadcast: 3,
      broadcastAmount: (5_000n + 7_000n + 11_000n).toString(),
      broadcastFees: (3n * fee).toString(),
      feesUnknown: 0,
    });
    expect(native(a)).toMatchObject({
      signed: 2,
      signedAmount: '12000',
      broadcast: 2,
      broadcastAmount: '12000',
      broadcastFees: (2n * fee).toString(),
    });
    expect(native(b)).toMatchObject({
      signed: 2,
      signedAmount: '24000',
      broadcast: 1,
      broadcastAmount: '11000',
      signedFees: (2n * fee).toString(),
    });
    expect(out.rows).toHaveLength(3);
    expect(out.reconciliation).toMatchObject({
      signedNotInJournal: [],
      journalNotInLog: [],
      amountsUnknown: [],
      journalRead: true,
    });
    // Nothing in the evidence folder changed: no -wal/-shm, same modes and times.
    expect(readdirSync(copy).map((f) => [f, statSync(join(copy, f)).mode, statSync(join(copy, f)).mtimeMs])).toEqual(
      before,
    );
  }, 60_000);

  it('CSV has one line per row under a header; another range is empty', async () => {
    const csv = await withdrawals(['--from', today, '--to', today, '--format', 'csv']);
    expect(csv.code, csv.stderr).toBe(0);
    const lines = csv.stdout.trimEnd().split('\r\n');
    expect(lines[0]).toBe(
      'day,chain,net,wallet,asset,signed,signedAmount,signedFees,broadcast,broadcastAmount,broadcastFees,feesUnknown',
    );
    expect(lines).toContain(`${today},ETH,testnet,${a},native,2,12000,${2n * fee},2,12000,${2n * fee},0`);
    expect(lines).toHaveLength(4);
    const none = await withdrawals(['--from', '2020-01-01', '--to', '2020-01-31']);
    expect((none.json() as { rows: Row[] }).rows).toEqual([]);
  }, 60_000);

  it('a log that fails verification is refused, and bad days are usage errors that say how to write them', async () => {
    const bad = await withdrawals(['--from', '2026-13-01', '--to', today]);
    expect(bad.error()).toMatchObject({
      code: 'INVALID_INPUT',
      error: expect.stringContaining("--from '2026-13-01' is not a day written YYYY-MM-DD"),
    });
    const reversed = await withdrawals(['--from', today, '--to', '2020-01-01']);
    expect(reversed.error().code).toBe('INVALID_INPUT');

    // An edited amount in a sign record breaks its hash: nothing is summed from that log.
    const edited = mkdtempSync(join(tmpdir(), 'hardkms-withdrawals-edit-'));
    for (const f of ['wallet.dat', 'audit.pub.pem']) copyFileSync(join(tv.dir, f), join(edited, f));
    writeFileSync(
      join(edited, 'audit.log'),
      readFileSync(join(tv.dir, 'audit.log'), 'utf8').replace(
        '"amounts":{"native":"5000"}',
        '"amounts":{"native":"50"}',
      ),
    );
    const r = await runCli([
      'audit',
      'withdrawals',
      '--path',
      join(edited, 'wallet.dat'),
      '--from',
      today,
      '--to',
      today,
    ]);
    expect(r.error().code).toBe('AUDIT_VERIFY_FAILED');
    expect(r.stdout).toBe('');
  }, 60_000);
});
