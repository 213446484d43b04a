/**
 * Several daemons of one host share one audit log: each appends under the store's writer lock,
 * but a daemon also reads the log's last record after every cycle (the hardkms_audit_records
 * gauge) without that lock. While another instance is in the middle of its append, that read
 * sees a half-written last line. The daemon used to stop on it (AUDIT_LOG_CORRUPT, exit 1): the
 * "daemon exited 1" of the 50-kill soak (test/e2e/ha-daemons.test.ts). Here the other instance's
 * append is held half-written for a few cycles of a running daemon; the daemon goes on, and
 * stops cleanly at SIGTERM with an intact log. An unfinished line still there at SIGTERM (its
 * writer was killed) is cut by the seal's append, under the writer lock, and the cut recorded. A
 * committed record that is damaged makes the seal record fail: the daemon says so and exits (it
 * used to hang, sealed, its health server open).
 */
import { appendFileSync, readFileSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeTatumApi } from '../../scripts/lib/tatum-api-server.js';
import { freePort } from '../../scripts/lib/ports.js';
import { runCli } from '../support/cli.js';
import { createTestVault, type TestVault } from '../support/vault.js';
import { addPrivateKey, daemonEnv, spawnDaemon, testKey, waitFor } from './support.js';

describe('a daemon reading the shared audit log while another instance appends', () => {
  let api: FakeTatumApi;
  let tv: TestVault;

  beforeAll(async () => {
    tv = await createTestVault({ testnetOnly: true });
    addPrivateKey(tv.vault, 'ETH', true, testKey(0x7c));
    tv.vault.seal('test setup');
    api = await FakeTatumApi.start();
  });
  afterAll(async () => {
    await api?.stop();
  });

  /** An ETH daemon polling every 0.1 s with its metrics served (it reads the log's last record each cycle). */
  async function startDaemon(): Promise<ReturnType<typeof spawnDaemon>> {
    const port = await freePort();
    const d = spawnDaemon(tv, api, [
      '--testnet',
      '--chain',
      'ETH',
      '--period',
      '0.1',
      '--metrics-addr',
      `127.0.0.1:${port}`,
    ]);
    await waitFor(() => d.lines.some((l) => l.includes('"daemon started"')), 60_000, 'daemon start');
    return d;
  }

  it('a half-written last line (another instance mid-append) does not stop it', async () => {
    const log = join(tv.dir, 'audit.log');
    const d = await startDaemon();
    const polls = () => api.requestsTo('/v3/kms/pending/ETH').length;
    await waitFor(() => polls() > 0, 30_000, 'first poll');

    // Another instance's append, caught between its first bytes and its newline.
    const size = statSync(log).size;
    appendFileSync(log, '{"seq":');
    const before = polls();
    await waitFor(() => polls() >= before + 5 || d.child.exitCode !== null, 30_000, 'five cycles').catch((e: Error) => {
      throw new Error(`${e.message}; the daemon said: ${d.lines.slice(-6).join('\n')}`);
    });
    const exitedMeanwhile = d.child.exitCode;
    truncateSync(log, size);

    expect(exitedMeanwhile, d.lines.filter((l) => l.includes('"error"')).join('\n')).toBeNull();
    d.child.kill('SIGTERM');
    expect(await d.exited).toBe(0);
    const last = JSON.parse(readFileSync(log, 'utf8').trim().split('\n').at(-1)!) as { event: string };
    expect(last.event).toBe('seal');
    const verify = await runCli(['audit', 'verify', '--path', tv.path], { env: daemonEnv(tv, api) });
    expect(verify.code, verify.stderr + verify.stdout).toBe(0);
  });

  it('an unfinished line still there at SIGTERM (its writer killed): the seal cuts it, records the cut, exits 0', async () => {
    const log = join(tv.dir, 'audit.log');
    const d = await startDaemon();
    appendFileSync(log, '{"seq":');
    const before = api.requestsTo('/v3/kms/pending/ETH').length;
    await waitFor(() => api.requestsTo('/v3/kms/pending/ETH').length >= before + 2, 30_000, 'two cycles');
    d.child.kill('SIGTERM');
    expect(await d.exited).toBe(0);
    const records = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; details: { bytes?: number } });
    expect(records.at(-1)!.event).toBe('seal');
    expect(records.at(-2)).toMatchObject({ event: 'audit.tail_cut', details: { bytes: 7 } });
    const verify = await runCli(['audit', 'verify', '--path', tv.path], { env: daemonEnv(tv, api) });
    expect(verify.code, verify.stderr + verify.stdout).toBe(0);
  });

  it('a committed record damaged at SIGTERM: the seal record fails, the daemon says so and exits', async () => {
    const log = join(tv.dir, 'audit.log');
    const d = await startDaemon();
    // The last record (the head: committed) loses its newline: nothing may cut it.
    const size = statSync(log).size;
    truncateSync(log, size - 1);
    try {
      const before = api.requestsTo('/v3/kms/pending/ETH').length;
      await waitFor(() => api.requestsTo('/v3/kms/pending/ETH').length >= before + 2, 30_000, 'two cycles');
      d.child.kill('SIGTERM');
      const code = await Promise.race([d.exited, new Promise((r) => setTimeout(() => r('still running'), 20_000))]);
      if (code === 'still running') d.child.kill('SIGKILL');
      expect(code).toBe(1);
      expect(d.lines.find((l) => l.startsWith('{"error"'))).toMatch(/"code":"AUDIT_LOG_CORRUPT"/);
      expect(d.lines.some((l) => l.includes('the seal record could not be written'))).toBe(true);
    } finally {
      appendFileSync(log, '\n');
    }
  });
});
