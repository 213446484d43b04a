import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Vault } from '../../src/vault/vault.js';
import { runCli } from '../support/cli.js';
import { createTestToken, TEST_PIN, type TestToken } from '../support/softhsm.js';
import { passwordProvider } from '../support/vault.js';

/**
 * Attack (issue 9, item 6): `init` without --yubikeys created a MAINNET vault sealed by any
 * password ("a" was accepted), with a warning only. Must hold: a password shorter than 12
 * characters is refused; a password-sealed vault is testnet-only unless the explicit, loud,
 * audited --allow-password-mainnet says otherwise.
 */
describe('attack: a mainnet vault guarded by a weak password only', () => {
  let token: TestToken;
  let dir: string;
  let env: Record<string, string>;
  const vaultPath = (name: string): string => {
    mkdirSync(join(dir, name));
    return join(dir, name, 'wallet.dat');
  };
  beforeAll(() => {
    token = createTestToken('hardkms');
    dir = mkdtempSync(join(tmpdir(), 'hardkms-sec6-'));
    env = { ...token.env, HARDKMS_TOKEN_PIN: TEST_PIN };
  });

  it('refuses the password "a" and creates nothing', async () => {
    const path = vaultPath('a');
    const r = await runCli(['init', '--path', path], { env: { ...env, TATUM_KMS_PASSWORD: 'a' } });
    expect(r.code).not.toBe(0);
    expect(r.error()).toMatchObject({ code: 'PASSWORD_TOO_SHORT' });
    expect(r.error().error).toMatch(/at least 12 are required/);
    expect(existsSync(path)).toBe(false);
  });

  it('without --allow-password-mainnet the vault is testnet-only and refuses mainnet wallets', async () => {
    const path = vaultPath('default');
    const penv = { ...env, TATUM_KMS_PASSWORD: 'a long enough password' };
    const r = await runCli(['init', '--path', path], { env: penv });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ seal: 'password', testnetOnly: true, gatePolicy: { passwordOnMainnet: false } });
    const w = await runCli(['generatemanagedwallet', 'BTC', '--path', path], { env: penv });
    expect(w.code).not.toBe(0);
    expect(w.error().code).toBe('VAULT_TESTNET_ONLY');
    expect(w.stdout).toBe('');
  });

  it('the library refuses a mainnet password vault without the explicit policy, creating nothing', async () => {
    const path = vaultPath('lib');
    await expect(
      Vault.init({
        path,
        token: { label: 'hardkms' },
        tokenPin: Buffer.from(TEST_PIN),
        provider: passwordProvider(),
        testnetOnly: false,
      }),
    ).rejects.toMatchObject({ code: 'VAULT_PASSWORD_MAINNET' });
    expect(existsSync(path)).toBe(false);
  });

  it('--allow-password-mainnet is loud, recorded in the authenticated meta and audited', async () => {
    const path = vaultPath('allowed');
    // A token of its own: init refuses a token that already holds another vault.
    const own = createTestToken('hardkms', { setProcessEnv: false });
    const penv = { ...own.env, HARDKMS_TOKEN_PIN: TEST_PIN, TATUM_KMS_PASSWORD: 'a long enough password' };
    const r = await runCli(['init', '--allow-password-mainnet', '--path', path], { env: penv });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('THIS MAINNET VAULT IS GUARDED BY ONE PASSWORD ONLY');
    expect(r.json()).toMatchObject({ testnetOnly: false, gatePolicy: { passwordOnMainnet: true } });
    const init = readFileSync(join(dir, 'allowed', 'audit.log'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; details?: { gatePolicy?: unknown } })
      .filter((e) => e.event === 'init')
      .pop();
    expect(init?.details?.gatePolicy).toMatchObject({ passwordOnMainnet: true });
    const w = await runCli(['generatemanagedwallet', 'BTC', '--path', path], { env: penv });
    expect(w.code, w.stderr).toBe(0);
  });
});
