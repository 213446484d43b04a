import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI, runCli } from '../../support/cli.js';
import { createTestToken, TEST_PIN } from '../../support/softhsm.js';

const PASSWORD = 'Pw9fK3Zq7xLm2vQ8';

/** Every file of a folder with its mode, size and mtime: what an auditor's evidence folder must keep. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of readdirSync(dir).sort()) {
    const s = statSync(join(dir, f));
    out[f] = `${(s.mode & 0o7777).toString(8)} ${s.size} ${s.mtimeMs}`;
  }
  return out;
}

/** A read-only bind mount needs a private mount namespace (root here, as in CI): probe once. */
const canMountReadOnly =
  process.getuid?.() === 0 &&
  spawnSync('unshare', ['--mount', 'sh', '-c', 'mount --bind -o ro /tmp /tmp && true'], { stdio: 'ignore' }).status ===
    0;

describe('read-only wallet directories and auditors’ copies', () => {
  let env: Record<string, string>;
  let live: string;

  beforeAll(async () => {
    const token = createTestToken('hardkms', { setProcessEnv: false });
    live = mkdtempSync(join(tmpdir(), 'hardkms-ro-'));
    env = { ...token.env, TATUM_KMS_PASSWORD: PASSWORD, HARDKMS_TOKEN_PIN: TEST_PIN };
    const init = await runCli(['init', '--testnet', '--path', join(live, 'wallet.dat')], { env });
    expect(init.code, init.stderr).toBe(0);
    const w = await runCli(['generatemanagedwallet', 'LTC', '--testnet', '--path', join(live, 'wallet.dat')], { env });
    expect(w.code, w.stderr).toBe(0);
  }, 120_000);

  it('audit verify and audit report on an auditor’s copy change nothing in the evidence folder (no -wal/-shm, no mode change)', async () => {
    const evidence = mkdtempSync(join(tmpdir(), 'hardkms-evidence-'));
    for (const f of ['wallet.dat', 'audit.log', 'audit.pub.pem']) cpSync(join(live, f), join(evidence, f));
    // An auditor's copy as it arrives: group/world-readable, which hardkms's own store never is.
    spawnSync('chmod', ['0644', join(evidence, 'wallet.dat')]);
    const before = snapshot(evidence);
    const verify = await runCli(['audit', 'verify', '--path', join(evidence, 'wallet.dat')], { env: {} });
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.json()).toMatchObject({ ok: true, headChecked: true });
    const report = await runCli(['audit', 'report', '--path', join(evidence, 'wallet.dat')], { env: {} });
    expect(report.code, report.stderr).toBe(0);
    expect(snapshot(evidence)).toEqual(before);
  }, 60_000);

  it.skipIf(!canMountReadOnly)(
    'a command on a read-only directory says so, not "not a hardkms wallet store", and changes nothing',
    () => {
      const before = snapshot(live);
      const r = spawnSync(
        'unshare',
        [
          '--mount',
          'sh',
          '-c',
          `mount --bind -o ro "$0" "$0" && exec "${process.execPath}" "${CLI}" getaddress no-such-id 0 --path "$0/wallet.dat"`,
          live,
        ],
        { env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, encoding: 'utf8' },
      );
      expect(r.status).not.toBe(0);
      const line = r.stderr.split('\n').find((l) => l.startsWith('{"error"'));
      expect(line, r.stderr).toBeDefined();
      const err = JSON.parse(line!) as { error: string; code: string; hint: string };
      expect(err.code).toBe('VAULT_READ_ONLY');
      expect(err.error).toContain(live);
      expect(err.error).not.toContain('is not a hardkms wallet store');
      expect(err.hint).toContain('audit verify');
      expect(r.stderr).not.toContain('    at ');
      expect(snapshot(live)).toEqual(before);

      // Read-only commands still work there: the auditor's commands and status.
      const v = spawnSync(
        'unshare',
        [
          '--mount',
          'sh',
          '-c',
          `mount --bind -o ro "$0" "$0" && exec "${process.execPath}" "${CLI}" audit verify --path "$0/wallet.dat"`,
          live,
        ],
        {
          env: { PATH: process.env.PATH, HOME: process.env.HOME },
          encoding: 'utf8',
        },
      );
      expect(v.status, v.stderr).toBe(0);
      expect(JSON.parse(v.stdout)).toMatchObject({ ok: true });
    },
    60_000,
  );
});
