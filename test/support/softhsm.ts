import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const TEST_PIN = 'test-user-pin-4711';
export const TEST_SO_PIN = 'test-so-pin-0815';

export interface TestToken {
  dir: string;
  conf: string;
  tokenDir: string;
  label: string;
  pin: string;
  /** Environment for child processes (the built CLI) that must use this token. */
  env: Record<string, string>;
}

/**
 * Creates a fresh SoftHSM2 token in a temp dir. SoftHSM2 reads SOFTHSM2_CONF once, at
 * C_Initialize, so a test file that uses the token in-process must call this before it
 * opens any Token (each vitest file runs in its own forked process).
 */
export function createTestToken(label = 'hardkms', options: { setProcessEnv?: boolean } = {}): TestToken {
  const dir = mkdtempSync(join(tmpdir(), 'hardkms-token-'));
  const tokenDir = join(dir, 'tokens');
  mkdirSync(tokenDir, { mode: 0o700 });
  const conf = join(dir, 'softhsm2.conf');
  const template = readFileSync(new URL('../../hsm/softhsm2.conf.template', import.meta.url), 'utf8');
  writeFileSync(conf, template.replaceAll('@TOKEN_DIR@', tokenDir), { mode: 0o600 });
  execFileSync(
    'softhsm2-util',
    ['--init-token', '--free', '--label', label, '--pin', TEST_PIN, '--so-pin', TEST_SO_PIN],
    {
      env: { ...process.env, SOFTHSM2_CONF: conf },
      stdio: 'pipe',
    },
  );
  if (options.setProcessEnv !== false) process.env.SOFTHSM2_CONF = conf;
  return { dir, conf, tokenDir, label, pin: TEST_PIN, env: { SOFTHSM2_CONF: conf, HARDKMS_TOKEN_LABEL: label } };
}
