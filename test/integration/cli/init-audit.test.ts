import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../support/cli.js';
import { createTestToken, TEST_PIN, type TestToken } from '../../support/softhsm.js';

describe('hardkms init and audit, as a process against SoftHSM2', () => {
  let token: TestToken;
  let dir: string;
  let env: Record<string, string>;
  beforeAll(() => {
    token = createTestToken('hardkms', { setProcessEnv: false });
    dir = mkdtempSync(join(tmpdir(), 'hardkms-cli-'));
    env = { ...token.env, TATUM_KMS_PASSWORD: 'pw-for-tests', HARDKMS_TOKEN_PIN: TEST_PIN };
  });

  it('creates a vault and a verifiable audit log', async () => {
    const path = join(dir, 'wallet.dat');
    const r = await runCli(['init', '--path', path], { env });
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ path, seal: 'password', token: { label: 'hardkms' } });
    expect(r.stderr).toContain('WARNING: sealing the vault with a password only');
    const v = await runCli(['audit', 'verify', '--path', path], { env });
    expect(v.code).toBe(0);
    expect(v.json()).toMatchObject({ ok: true, headChecked: true });
    const show = await runCli(['audit', 'show', '--path', path], { env });
    expect(show.stdout).toMatch(/ok +init /);
  });

  it('refuses to overwrite an existing store, changing nothing', async () => {
    const path = join(dir, 'wallet.dat');
    const before = readFileSync(path);
    const r = await runCli(['init', '--path', path], { env });
    expect(r.code).not.toBe(0);
    expect(r.error()).toMatchObject({
      code: 'VAULT_EXISTS',
      error: `A store already exists at ${path}; hardkms init never overwrites one.`,
    });
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  const failures: Array<[string, Record<string, string>, string, RegExp]> = [
    [
      'a wrong PIN',
      { HARDKMS_TOKEN_PIN: '000000' },
      'HSM_WRONG_PIN',
      /^Wrong PIN for token 'hardkms' \(CKR_PIN_INCORRECT\)\.$/,
    ],
    [
      'a missing module',
      { HARDKMS_PKCS11_MODULE: '/nonexistent/libpkcs11.so' },
      'HSM_MODULE_NOT_FOUND',
      /PKCS#11 module not found at \/nonexistent\/libpkcs11.so/,
    ],
    [
      'a missing token',
      { HARDKMS_TOKEN_LABEL: 'no-such-token' },
      'HSM_TOKEN_NOT_FOUND',
      /No token labelled 'no-such-token'.*Tokens present: 'hardkms'/,
    ],
  ];
  for (const [what, extra, code, text] of failures) {
    it(`fails clearly on ${what} and creates nothing`, async () => {
      const path = join(dir, `w-${code}.dat`);
      const r = await runCli(['init', '--path', path], { env: { ...env, ...extra } });
      expect(r.code).not.toBe(0);
      expect(r.error().code).toBe(code);
      expect(r.error().error).toMatch(text);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace for user errors
      expect(existsSync(path)).toBe(false);
    });
  }

  it('audit verify fails and names the first bad record after an edit', async () => {
    const path = join(dir, 'wallet.dat');
    const log = join(dir, 'audit.log');
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    lines[0] = lines[0]!.replace('"init"', '"inIt"');
    writeFileSync(log, `${lines.join('\n')}\n`);
    const r = await runCli(['audit', 'verify', '--path', path], { env });
    expect(r.code).not.toBe(0);
    expect(r.json()).toMatchObject({ ok: false, firstBadRecord: 1 });
    expect(r.error().error).toMatch(/record 1 \(line 1\): its content does not match its hash/);
  });
});
