import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../support/cli.js';
import { createTestToken, TEST_PIN } from '../../support/softhsm.js';

describe('two writers at once', () => {
  it('never interleave: two concurrent batches both land completely', async () => {
    const token = createTestToken('hardkms', { setProcessEnv: false });
    const path = join(mkdtempSync(join(tmpdir(), 'hardkms-conc-')), 'wallet.dat');
    const env = { ...token.env, TATUM_KMS_PASSWORD: 'concurrency-pass' };
    expect(
      (
        await runCli(['init', '--path', path, '--allow-password-mainnet'], {
          env: { ...env, HARDKMS_TOKEN_PIN: TEST_PIN },
        })
      ).code,
    ).toBe(0);
    const [a, b] = await Promise.all([
      runCli(['generatemanagedprivatekeybatch', 'ETH', '1200', '--path', path], { env }),
      runCli(['generatemanagedprivatekeybatch', 'BSC', '1200', '--path', path], { env }),
    ]);
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    const exported = (await runCli(['export', '--path', path], { env })).json() as Record<string, { chain: string }>;
    const chains = Object.values(exported).map((e) => e.chain);
    expect(chains.filter((c) => c === 'ETH')).toHaveLength(1200);
    expect(chains.filter((c) => c === 'BSC')).toHaveLength(1200);
    const verify = await runCli(['audit', 'verify', '--path', path], { env });
    expect(verify.json()).toMatchObject({ ok: true });
  });
});
