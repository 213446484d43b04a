import Database from 'better-sqlite3';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { encryptLegacy } from '../../../src/vault/legacy-cipher-testing.js';
import { CLI, runCli } from '../../support/cli.js';
import { createTestToken, TEST_PIN, type TestToken } from '../../support/softhsm.js';

const PASSWORD = 'Pw9fK3Zq7xLm2vQ8';
const HAS_SCRIPT = spawnSync('script', ['--version']).status === 0;

/**
 * Progress of long commands (issue 14 item 9): plain lines on stderr when it is not a
 * terminal, a redrawn bar on a terminal (a pty from util-linux `script`), counts only, never
 * a key, address or signature id; an interrupted batch says how many keys it stored, and
 * exactly that many are in the store.
 */
describe('progress of batch generation, export and re-keying', () => {
  let token: TestToken;
  let path: string;
  let env: Record<string, string>;
  const walletRows = (): number => {
    const db = new Database(path, { readonly: true });
    try {
      return (db.prepare('SELECT count(*) AS n FROM wallets').get() as { n: number }).n;
    } finally {
      db.close();
    }
  };

  beforeAll(async () => {
    token = createTestToken('hardkms', { setProcessEnv: false });
    path = join(mkdtempSync(join(tmpdir(), 'hardkms-progress-')), 'wallet.dat');
    env = { ...token.env, TATUM_KMS_PASSWORD: PASSWORD };
    const init = await runCli(['init', '--testnet', '--path', path], { env: { ...env, HARDKMS_TOKEN_PIN: TEST_PIN } });
    expect(init.code, init.stderr).toBe(0);
  }, 60_000);

  it('not a terminal: plain progress lines on stderr with count, rate and ETA, the last one complete; no secret, address or id', async () => {
    const r = await runCli(['generatemanagedprivatekeybatch', 'ETH', '600', '--testnet', '--path', path], {
      env,
      timeoutMs: 120_000,
    });
    expect(r.code, r.stderr).toBe(0);
    const out = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { signatureId: string; address: string });
    expect(out).toHaveLength(600);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('progress: '));
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const l of lines)
      expect(l).toMatch(
        /^progress: keys generated and stored \d+\/600 \(\d+%\), [\d.]+\/s, (ETA (\d+[hms]|\d+m\d+s|\?)|done in .+)$/,
      );
    expect(lines[0]).toMatch(/^progress: keys generated and stored 500\/600 \(83%\)/);
    expect(lines.at(-1)).toMatch(/^progress: keys generated and stored 600\/600 \(100%\), [\d.]+\/s, done in \d+s$/);
    expect(r.stderr).not.toContain('\r');
    for (const w of out.slice(0, 50)) {
      expect(r.stderr).not.toContain(w.signatureId);
      expect(r.stderr).not.toContain(w.address);
    }
  }, 120_000);

  it.skipIf(!HAS_SCRIPT)(
    'on a terminal (a pty): one bar redrawn in place, ending at the total',
    () => {
      const cmd = `${process.execPath} ${CLI} generatemanagedprivatekeybatch ETH 520 --testnet --path ${path} >/dev/null`;
      const r = spawnSync('script', ['-q', '-e', '-c', cmd, '/dev/null'], {
        env: { PATH: process.env.PATH, ...env },
        input: '',
        encoding: 'utf8',
        timeout: 120_000,
      });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain('\r\x1b[2Kkeys generated and stored [');
      expect(r.stdout).toMatch(/keys generated and stored \[#{24}\] 520\/520 100% [\d.]+\/s done/);
      expect(r.stdout).not.toContain('progress: ');
    },
    120_000,
  );

  it('Ctrl-C during a batch: exit 130, the error says how many keys were stored, and exactly those are in the store', async () => {
    const before = walletRows();
    const child = spawn(
      process.execPath,
      [CLI, 'generatemanagedprivatekeybatch', 'ETH', '5000', '--testnet', '--path', path],
      {
        env: { PATH: process.env.PATH, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      if (stdout === '') child.kill('SIGINT');
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((res) => child.on('close', (c) => res(c)));
    expect(code, stderr).toBe(130);
    const printed = stdout.trim().split('\n').length;
    const error = JSON.parse(stderr.split('\n').find((l) => l.startsWith('{"error"'))!) as {
      code: string;
      error: string;
    };
    expect(error.code).toBe('CANCELLED');
    const m = /^Interrupted by SIGINT after (\d+) of 5000 keys: those \1 are stored/.exec(error.error);
    expect(m, error.error).not.toBeNull();
    const stored = Number(m![1]);
    expect(stored).toBeGreaterThan(0);
    expect(stored).toBeLessThan(5000);
    expect(stored).toBe(printed);
    expect(walletRows() - before).toBe(stored);
  }, 120_000);

  it('import-legacy shows its progress over the wallets of the Tatum file, and no key', async () => {
    const keys = Array.from({ length: 60 }, () => `0x${randomBytes(32).toString('hex')}`);
    const store = Object.fromEntries(keys.map((k) => [randomUUID(), { privateKey: k, chain: 'ETH', testnet: true }]));
    const file = join(mkdtempSync(join(tmpdir(), 'hardkms-progress-legacy-')), 'wallet.dat');
    writeFileSync(file, encryptLegacy(Buffer.from(JSON.stringify(store)), Buffer.from('tatum-legacy-pass')));
    const r = await runCli(['import-legacy', file, '--path', path], {
      env: { ...env, HARDKMS_LEGACY_PASSWORD: 'tatum-legacy-pass' },
      timeoutMs: 120_000,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^progress: wallets prepared for import 60\/60 \(100%\), [\d.]+\/s, done in \d+s$/m);
    for (const k of keys) expect(r.stderr).not.toContain(k.slice(2));
  }, 120_000);

  it('export and re-keying show their progress too', async () => {
    const exported = await runCli(['export', '--path', path], { env, timeoutMs: 120_000 });
    expect(exported.code, exported.stderr).toBe(0);
    const n = walletRows();
    expect(exported.stderr).toContain(`progress: wallets exported ${n}/${n} (100%)`);
    const rotated = await runCli(['rotate', '--path', path], { env, input: 'Another-Pw-7Qz9xK\n', timeoutMs: 120_000 });
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(rotated.stderr).toMatch(new RegExp(`progress: rows re-keyed (\\d+)/\\1 \\(100%\\)`));
  }, 240_000);
});
