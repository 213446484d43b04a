import { generateX25519Identity, identityToRecipient } from 'age-encryption';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateOtp } from '../../../src/gate/otp-testing.js';
import { runCli, type CliResult } from '../../support/cli.js';
import { freePort } from '../../../scripts/lib/ports.js';
import { FakeTatumApi } from '../../../scripts/lib/tatum-api-server.js';
import { createTestToken, TEST_PIN } from '../../support/softhsm.js';

const BAD_CHECKSUM = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon';

/**
 * Operators touch their YubiKeys only for a command that can succeed: everything checkable
 * without the vault secret (input, testnet-only refusals, the OTP requirement, the daemon's
 * Tatum API) is checked before the first touch, and secrets are asked for before the touches.
 */
describe('checks before any YubiKey touch', () => {
  let env: Record<string, string>;
  let path: string;
  let log: string;
  const cli = (args: string[], input?: string, extraEnv: Record<string, string> = {}): Promise<CliResult> =>
    runCli([...args, '--path', path], { env: { ...env, ...extraEnv }, ...(input !== undefined ? { input } : {}) });
  /** gate.unseal* records: one per touch attempt, written even while sealed. */
  const touches = (): number =>
    readFileSync(log, 'utf8')
      .split('\n')
      .filter((l) => l.includes('"event":"gate.unseal')).length;

  beforeAll(async () => {
    const token = createTestToken('hardkms', { setProcessEnv: false });
    const dir = mkdtempSync(join(tmpdir(), 'hardkms-before-touch-'));
    path = join(dir, 'wallet.dat');
    log = join(dir, 'audit.log');
    env = { ...token.env, HARDKMS_YUBIKEY_EMULATOR_DIR: join(dir, 'yubikeys') };
    const to = await Promise.all([1, 2].map(async () => identityToRecipient(await generateX25519Identity())));
    const recovery = ['--recovery-out', join(dir, 'recovery'), '--recovery-to', to.join(',')];
    const init = await runCli(
      ['init', '--yubikeys', '2', '--threshold', '2', '--driver', 'emulator', '--testnet', ...recovery, '--path', path],
      {
        env: { ...env, HARDKMS_TOKEN_PIN: TEST_PIN },
      },
    );
    expect(init.code, init.stderr).toBe(0);
    // The emulated keys answer: a real command touches both.
    const ok = await cli(['generatemanagedwallet', 'LTC', '--testnet']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toContain('Touch the YubiKey');
  }, 120_000);

  it('a mnemonic with a bad checksum is refused before any touch: it is read and checked first', async () => {
    const before = touches();
    const r = await cli(['storemanagedwallet', 'LTC', '--testnet'], `${BAD_CHECKSUM}\n`);
    expect(r.code).not.toBe(0);
    expect(r.error().code).toMatch(/MNEMONIC|INVALID/);
    expect(r.stderr).not.toContain('Touch the YubiKey');
    expect(touches()).toBe(before);

    const good = await cli(
      ['storemanagedwallet', 'LTC', '--testnet'],
      `${BAD_CHECKSUM.replace(/abandon$/, 'about')}\n`,
    );
    expect(good.code, good.stderr).toBe(0);
    // Without a terminal the mnemonic is a stdin line (no prompt is shown): read before the touches, or the bad one above would have been touched for.
    expect(good.stderr).toContain('Touch the YubiKey');
  }, 60_000);

  it('a private key in no known format is refused before any touch', async () => {
    const before = touches();
    const r = await cli(['storemanagedprivatekey', 'ETH', '--testnet'], 'not-a-key\n');
    expect(r.code).not.toBe(0);
    expect(r.stderr).not.toContain('Touch the YubiKey');
    expect(touches()).toBe(before);
  }, 60_000);

  it('a mainnet wallet on a testnet-only vault is refused before any touch', async () => {
    const before = touches();
    for (const args of [
      ['generatemanagedwallet', 'LTC'],
      ['generatemanagedprivatekeybatch', 'ETH', '2'],
      ['storemanagedwallet', 'BTC'],
    ]) {
      const r = await cli(args, `${BAD_CHECKSUM.replace(/abandon$/, 'about')}\n`);
      expect(r.error().code, args.join(' ')).toBe('VAULT_TESTNET_ONLY');
      expect(r.stderr).not.toContain('Touch the YubiKey');
    }
    expect(touches()).toBe(before);
  }, 60_000);

  it('bad input to the gate ceremonies (threshold, revoke target) is refused before any touch', async () => {
    const before = touches();
    const revoke = await cli(['revoke', 'no-such-key']);
    expect(revoke.code).not.toBe(0);
    expect(revoke.stderr).not.toContain('Touch the YubiKey');
    const threshold = await cli(['revoke', 'yubikey-1', '--threshold', '7']);
    expect(threshold.code).not.toBe(0);
    expect(threshold.stderr).not.toContain('Touch the YubiKey');
    expect(touches()).toBe(before);
  }, 60_000);

  describe('the OTP and the daemon', () => {
    const PUBLIC_ID = 'ccccccbcgujh';
    const AT_UNSEAL_ID = 'cccccchhhhhh';
    const aesKey = randomBytes(16);
    const privateId = randomBytes(6);
    let session = 0;
    const otp = (publicId = PUBLIC_ID): string =>
      generateOtp(aesKey, { publicId, privateId, useCounter: 1, sessionCounter: session++ });
    const otpAdd = (publicId: string, key: Buffer, extra: string[] = []): Promise<CliResult> =>
      cli(
        [
          'otp',
          'add',
          '--public-id',
          publicId,
          '--private-id',
          privateId.toString('hex'),
          '--verify',
          otp(publicId),
          ...extra,
        ],
        `${key.toString('hex')}\n`,
      );

    it('otp add reads and checks the AES key before any touch: a wrong key costs no touch', async () => {
      const before = touches();
      const wrong = await otpAdd(PUBLIC_ID, randomBytes(16));
      expect(wrong.error().code).toBe('OTP_CRC');
      expect(wrong.stderr).not.toContain('Touch the YubiKey');
      expect(touches()).toBe(before);
      const added = await otpAdd(PUBLIC_ID, aesKey);
      expect(added.code, added.stderr).toBe(0);
      expect(touches()).toBeGreaterThan(before);
    }, 60_000);

    it('a command that needs an OTP is refused before any touch when none is given', async () => {
      const before = touches();
      const r = await cli(['export']);
      expect(r.error().code).toBe('OTP_REQUIRED');
      expect(r.stderr).not.toContain('Touch the YubiKey');
      expect(touches()).toBe(before);
      const ok = await cli(['export', '--otp', otp()]);
      expect(ok.code, ok.stderr).toBe(0);
    }, 60_000);

    it('a daemon whose Tatum API does not answer is refused before any touch', async () => {
      const before = touches();
      const port = await freePort();
      const r = await cli(['daemon', '--testnet', '--runOnce', '--chain', 'LTC'], undefined, {
        TATUM_API_KEY: 'k',
        TATUM_API_URL: `http://127.0.0.1:${port}`,
      });
      expect(r.error().code).toBe('DAEMON_API_UNREACHABLE');
      expect(r.error().error).toContain(`http://127.0.0.1:${port}`);
      expect(r.stderr).not.toContain('Touch the YubiKey');
      expect(touches()).toBe(before);
    }, 60_000);

    it('a daemon on a vault that needs an OTP at every unseal is refused before any touch without --otp', async () => {
      const added = await otpAdd(AT_UNSEAL_ID, aesKey, ['--at-unseal', '--otp', otp()]);
      expect(added.code, added.stderr).toBe(0);
      const api = await FakeTatumApi.start();
      try {
        const apiEnv = { TATUM_API_KEY: api.apiKey, TATUM_API_URL: api.url };
        const before = touches();
        const r = await cli(['daemon', '--testnet', '--runOnce', '--chain', 'LTC'], undefined, apiEnv);
        expect(r.error().code).toBe('OTP_REQUIRED');
        expect(r.stderr).not.toContain('Touch the YubiKey');
        expect(touches()).toBe(before);
        const ok = await cli(
          ['daemon', '--testnet', '--runOnce', '--chain', 'LTC', '--otp', otp(AT_UNSEAL_ID)],
          undefined,
          apiEnv,
        );
        expect(ok.code, ok.stderr).toBe(0);
        expect(touches()).toBeGreaterThan(before);
      } finally {
        await api.stop();
      }
    }, 90_000);
  });
});
