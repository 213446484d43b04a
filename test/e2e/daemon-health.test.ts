/**
 * /healthz and /metrics over real HTTP: the daemon starts sealed (a 2-of-3 emulated gate
 * with only one YubiKey plugged in), reports 503 while it waits for the quorum, unseals
 * when a second key is plugged in, then reports 200 and moving counters.
 */
import { generateX25519Identity, identityToRecipient } from 'age-encryption';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, collectLog, runCli } from '../support/cli.js';
import { freePort } from '../../scripts/lib/ports.js';
import { createTestToken, TEST_PIN } from '../support/softhsm.js';
import { FakeTatumApi } from '../../scripts/lib/tatum-api-server.js';
import { tokenObjectPath } from '../support/token-kill.js';
import { waitFor } from './support.js';

async function get(url: string): Promise<{ status: number; body: string }> {
  try {
    const r = await fetch(url);
    return { status: r.status, body: await r.text() };
  } catch {
    return { status: 0, body: '' };
  }
}

function metric(text: string, name: string, labels = ''): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels}`) && !l.startsWith('#'));
  return line ? Number(line.trim().split(' ').pop()) : NaN;
}

describe('daemon health and metrics', () => {
  let api: FakeTatumApi;
  let env: Record<string, string>;
  let path: string;
  let keys: string;
  let unplugged: string;
  let tokenDir: string;

  beforeAll(async () => {
    const token = createTestToken('hardkms', { setProcessEnv: false });
    tokenDir = token.tokenDir;
    const dir = mkdtempSync(join(tmpdir(), 'hardkms-health-'));
    keys = join(dir, 'yubikeys');
    unplugged = join(dir, 'unplugged');
    mkdirSync(unplugged);
    path = join(dir, 'wallet.dat');
    api = await FakeTatumApi.start();
    env = { ...token.env, HARDKMS_YUBIKEY_EMULATOR_DIR: keys, TATUM_API_KEY: api.apiKey, TATUM_API_URL: api.url };
    // The operators' share files (no terminal here): one age recipient per key.
    const to = await Promise.all([1, 2, 3].map(async () => identityToRecipient(await generateX25519Identity())));
    const recovery = ['--recovery-out', join(dir, 'recovery'), '--recovery-to', to.join(',')];
    const init = await runCli(
      ['init', '--yubikeys', '3', '--threshold', '2', '--driver', 'emulator', '--testnet', ...recovery, '--path', path],
      {
        env: { ...env, HARDKMS_TOKEN_PIN: TEST_PIN },
      },
    );
    expect(init.code, init.stderr).toBe(0);
    expect(
      (await runCli(['generatemanagedprivatekeybatch', 'ETH', '2', '--testnet', '--path', path], { env })).code,
    ).toBe(0);
    // Unplug two of the three keys: no quorum.
    for (const f of readdirSync(keys).slice(0, 2)) renameSync(join(keys, f), join(unplugged, f));
  });
  afterAll(async () => {
    await api?.stop();
  });

  it('503 while sealed, 200 after the quorum unseals, counters move after a cycle', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const child = spawn(
      process.execPath,
      [
        CLI,
        'daemon',
        '--testnet',
        '--chain',
        'ETH',
        '--period',
        '1',
        '--metrics-addr',
        `127.0.0.1:${port}`,
        '--path',
        path,
      ],
      {
        env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('close', (c) => r(c)));
    try {
      await waitFor(() => stderr.includes('still sealed'), 30_000, 'the daemon to report it waits for the quorum');
      const sealed = await get(`${base}/healthz`);
      expect(sealed.status).toBe(503);
      expect(JSON.parse(sealed.body)).toMatchObject({ status: 'sealed', sealed: true });
      const m0 = (await get(`${base}/metrics`)).body;
      expect(metric(m0, 'hardkms_unsealed')).toBe(0);
      // What docker/prometheus/alerts.yml alerts on: failed unseals by code, the period.
      expect(metric(m0, 'hardkms_unseal_failures_total', '{code="GATE_QUORUM_NOT_MET"}')).toBeGreaterThanOrEqual(1);
      expect(metric(m0, 'hardkms_period_seconds')).toBe(1);

      // An operator plugs in a second YubiKey.
      const f = readdirSync(unplugged)[0]!;
      renameSync(join(unplugged, f), join(keys, f));
      let healthy = { status: 0, body: '' };
      const end = Date.now() + 30_000;
      while (Date.now() < end) {
        healthy = await get(`${base}/healthz`);
        if (healthy.status === 200) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(healthy.status, stderr).toBe(200);
      expect(JSON.parse(healthy.body)).toMatchObject({
        status: 'ok',
        sealed: false,
        tokenReachable: true,
        lastPollOk: true,
      });
      const m1 = (await get(`${base}/metrics`)).body;
      expect(metric(m1, 'hardkms_unsealed')).toBe(1);
      const polls1 = metric(m1, 'hardkms_polls_total', '{chain="ETH",result="ok"}');
      expect(polls1).toBeGreaterThanOrEqual(1);
      await new Promise((r) => setTimeout(r, 2_500));
      const m2 = (await get(`${base}/metrics`)).body;
      expect(metric(m2, 'hardkms_polls_total', '{chain="ETH",result="ok"}')).toBeGreaterThan(polls1);
      expect(metric(m2, 'hardkms_audit_records')).toBeGreaterThan(0);
      const cycle = metric(m2, 'hardkms_cycle_seconds');
      expect(cycle).toBeGreaterThan(0);

      // SoftHSM2's token.object truncated under the running daemon (a kill elsewhere during a login): 503, named.
      const tokenObject = tokenObjectPath(tokenDir);
      const whole = readFileSync(tokenObject);
      writeFileSync(tokenObject, Buffer.alloc(0));
      try {
        const damaged = await get(`${base}/healthz`);
        expect(damaged.status).toBe(503);
        expect(JSON.parse(damaged.body)).toMatchObject({
          status: 'unhealthy',
          tokenDamaged: expect.stringMatching(/^token\.object: empty/),
        });
      } finally {
        writeFileSync(tokenObject, whole);
      }
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    collectLog(stderr);
  });
});
