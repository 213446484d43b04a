import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConfig, loadEnvFiles } from '../../src/config/config.js';
import { Vault } from '../../src/vault/vault.js';
import { auditRecords } from '../e2e/support.js';
import { runCli } from '../support/cli.js';
import { createTestToken, TEST_PIN } from '../support/softhsm.js';
import { FakeTatumApi } from '../../scripts/lib/tatum-api-server.js';
import { createTestVault, passwordProvider, type TestVault } from '../support/vault.js';

/**
 * Issue 9, item 4: configuration lying around (./.env in whatever directory hardkms starts
 * in, ~/.hardkms/.env, --envFile) must not steer the signer.
 */
const SOFTHSM = '/usr/lib/softhsm/libsofthsm2.so';

describe('attack 4a/4b: env files set no security setting (in-process)', () => {
  let tv: TestVault;
  let dir: string;
  let shim: string;
  const cwd = process.cwd();

  beforeAll(async () => {
    tv = await createTestVault();
    tv.vault.seal('test');
    dir = mkdtempSync(join(tmpdir(), 'hardkms-ambient-'));
    // The attacker's "logging shim": here simply another copy of a PKCS#11 library.
    shim = join(dir, 'shim-pkcs11.so');
    copyFileSync(SOFTHSM, shim);
  });
  afterAll(() => {
    process.chdir(cwd);
    delete process.env.HARDKMS_PKCS11_MODULE;
  });

  it('4a: ./.env with HARDKMS_PKCS11_MODULE pointing at another library is not honoured', async () => {
    writeFileSync(join(dir, '.env'), `HARDKMS_PKCS11_MODULE=${shim}\n`);
    process.chdir(dir);
    try {
      const config = buildConfig({ path: tv.path });
      const vault = await Vault.open({
        path: tv.path,
        provider: passwordProvider(),
        token: config.token,
        actor: 'test',
      });
      try {
        expect(vault.token.info.modulePath).toBe(SOFTHSM);
      } finally {
        vault.seal('test');
      }
    } finally {
      process.chdir(cwd);
      delete process.env.HARDKMS_PKCS11_MODULE;
    }
  });

  it('4a: a module path that differs from the authenticated binding is refused, with a hint to rebind', async () => {
    const opened = Vault.open({
      path: tv.path,
      provider: passwordProvider(),
      token: { modulePath: shim },
      actor: 'test',
    });
    await expect(opened).rejects.toMatchObject({
      code: 'HSM_BINDING_MISMATCH',
      hint: expect.stringMatching(/hardkms rebind/),
    });
  });

  it('4b: NODE_TLS_REJECT_UNAUTHORIZED=0 (and any NODE_*) in an env file never reaches process.env', () => {
    const file = join(dir, 'hardkms.env');
    writeFileSync(
      file,
      'NODE_TLS_REJECT_UNAUTHORIZED=0\nNODE_OPTIONS=--require /tmp/evil.js\nHARDKMS_CHAIN_ID_ETH=31337\nTATUM_API_URL=https://api.example\n',
    );
    delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    const before = process.env.NODE_OPTIONS;
    delete process.env.TATUM_API_URL;
    try {
      loadEnvFiles(file);
      expect(process.env.NODE_TLS_REJECT_UNAUTHORIZED).toBeUndefined();
      expect(process.env.NODE_OPTIONS).toBe(before);
      expect(process.env.HARDKMS_CHAIN_ID_ETH).toBeUndefined();
      expect(process.env.TATUM_API_URL).toBe('https://api.example');
    } finally {
      delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
      delete process.env.HARDKMS_CHAIN_ID_ETH;
      delete process.env.TATUM_API_URL;
    }
  });
});

describe('attack 4c: an env file repoints a mainnet daemon (CLI)', () => {
  it('TATUM_API_URL to plain http on mainnet is refused without --allow-insecure-http; HARDKMS_CHAIN_ID_ETH is never taken on mainnet', async () => {
    const token = createTestToken('hardkms', { setProcessEnv: false });
    const dir = mkdtempSync(join(tmpdir(), 'hardkms-ambient-cli-'));
    const path = join(dir, 'wallet.dat');
    const api = await FakeTatumApi.start();
    const env = { ...token.env, TATUM_KMS_PASSWORD: 'Pw9fK3Zq7xLm2vQ8', TATUM_API_KEY: api.apiKey };
    try {
      const init = await runCli(['init', '--path', path, '--allow-password-mainnet'], {
        env: { ...env, HARDKMS_TOKEN_PIN: TEST_PIN },
      });
      expect(init.code, init.stderr).toBe(0);
      const envFile = join(dir, 'daemon.env');
      writeFileSync(envFile, `TATUM_API_URL=${api.url}\nHARDKMS_CHAIN_ID_ETH=31337\n`);
      const policy = join(dir, 'policy.json');
      writeFileSync(policy, JSON.stringify({ chains: { ETH: { maxAmount: '0' } } }));
      const args = [
        'daemon',
        '--runOnce',
        '--chain',
        'ETH',
        '--path',
        path,
        '--envFile',
        envFile,
        '--policy',
        policy,
        '--i-understand-mainnet-without-approval',
      ];
      const refused = await runCli(args, { env });
      expect(refused.code).not.toBe(0);
      expect(refused.error()).toMatchObject({ code: 'DAEMON_INSECURE_TRANSPORT' });
      expect(api.requests).toEqual([]);

      const allowed = await runCli([...args, '--allow-insecure-http'], { env });
      expect(allowed.code, allowed.stderr).toBe(0);
      expect(allowed.stderr).toMatch(/ignored HARDKMS_CHAIN_ID_ETH/);
      const records = auditRecords({ path } as TestVault);
      const start = records.filter((r) => r.event === 'daemon.start').at(-1)!;
      expect((start.details as { chainIds: Record<string, string> }).chainIds.ETH).toBe('1');
      expect(records.find((r) => r.event === 'daemon.insecure-http')).toBeDefined();
      // every record of that run names the flag
      const run = records.slice(records.findIndex((r) => r.event === 'daemon.insecure-http') - 1);
      for (const r of run.filter((x) => x.actor.startsWith('daemon'))) expect(r.actor).toMatch(/allow-insecure-http/);

      const chainId = await runCli(
        [
          'daemon',
          '--runOnce',
          '--chain',
          'ETH',
          '--path',
          path,
          '--i-understand-mainnet-without-approval',
          '--allow-insecure-http',
        ],
        {
          env: { ...env, TATUM_API_URL: api.url, HARDKMS_CHAIN_ID_ETH: '31337' },
        },
      );
      expect(chainId.code).not.toBe(0);
      expect(chainId.error().error).toMatch(/chain id overrides are refused on mainnet/);
    } finally {
      await api.stop();
    }
  });
});
