import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../support/cli.js';
import { createTestToken, TEST_PIN, type TestToken } from '../support/softhsm.js';
import { killDuringLogins, tokenObjectPath, tokenObjectWhole } from '../support/token-kill.js';

const PASSWORD = 'Pw9fK3Zq7xLm2vQ8';
const MNEMONIC = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';
const MAX_KILLS = 80;

/**
 * The attack (or accident): a process killed while SoftHSM2 rewrites token.object in
 * C_Login. Before hardkms kept a copy, the token was gone: the library showed an
 * uninitialised slot, and the error said "no token labelled 'hardkms'", hinting to create one.
 */
describe('a kill during C_Login truncates token.object; hardkms reports it and repairs it', () => {
  let token: TestToken;
  let path: string;
  let env: Record<string, string>;
  const cli = (args: string[], input?: string): Promise<CliResult> =>
    runCli([...args, '--path', path], { env, ...(input !== undefined ? { input } : {}) });

  beforeAll(async () => {
    token = createTestToken('hardkms', { setProcessEnv: false });
    path = join(mkdtempSync(join(tmpdir(), 'hardkms-trunc-')), 'wallet.dat');
    env = { ...token.env, TATUM_KMS_PASSWORD: PASSWORD };
    expect(
      (await runCli(['init', '--testnet', '--path', path], { env: { ...env, HARDKMS_TOKEN_PIN: TEST_PIN } })).code,
    ).toBe(0);
  });

  it('reproduces the truncation, refuses to log in on the damaged token, and `token repair` brings every key back (audited)', async () => {
    const stored = await cli(['storemanagedwallet', 'LTC', '--testnet'], `${MNEMONIC}\n`);
    expect(stored.code).toBe(0);
    const { signatureId } = stored.json() as { signatureId: string };

    let kills = 0;
    while (tokenObjectWhole(token.tokenDir) && kills < MAX_KILLS) {
      await killDuringLogins(token.env, TEST_PIN, 5 + Math.floor(Math.random() * 60));
      kills++;
    }
    console.log(
      `token.object truncated after ${kills} kill(s) during logins (${readFileSync(tokenObjectPath(token.tokenDir)).length} bytes left)`,
    );
    expect(tokenObjectWhole(token.tokenDir)).toBe(false);

    const refused = await cli(['getmanagedwallet', signatureId]);
    expect(refused.code).not.toBe(0);
    expect(refused.error().code).toBe('HSM_TOKEN_DAMAGED');
    expect(refused.error().hint).toContain('hardkms token repair');

    const check = await cli(['token', 'check']);
    expect(check.code).toBe(5);
    expect((check.json() as { state: string; repairable: boolean }).state).toBe('damaged');
    expect((check.json() as { repairable: boolean }).repairable).toBe(true);

    const repair = await cli(['token', 'repair']);
    expect(repair.code).toBe(0);
    expect(repair.json()).toMatchObject({ repaired: true, restored: ['token.object'], state: 'ok' });
    expect(tokenObjectWhole(token.tokenDir)).toBe(true);

    const back = await cli(['getmanagedwallet', signatureId]);
    expect(back.code).toBe(0);
    expect((back.json() as { mnemonic: string }).mnemonic).toBe(MNEMONIC);
    const shown = await cli(['audit', 'show']);
    expect(shown.stdout).toMatch(/token\.repair/);
    expect((await cli(['audit', 'verify'])).code).toBe(0);
  }, 240_000);

  it('`token check` changes nothing and exits 0 on a whole token', async () => {
    const before = readFileSync(tokenObjectPath(token.tokenDir));
    const check = await cli(['token', 'check']);
    expect(check.code).toBe(0);
    expect(check.json()).toMatchObject({ state: 'ok', backupCurrent: true });
    expect(readFileSync(tokenObjectPath(token.tokenDir)).equals(before)).toBe(true);
  });
});
