import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Token } from '../../../src/hsm/token.js';
import { createTestToken, TEST_PIN } from '../../support/softhsm.js';
import { tokenObjectWhole } from '../../support/token-kill.js';

const DIST = fileURLToPath(new URL('../../../dist', import.meta.url));
const OPEN_LOGIN = fileURLToPath(new URL('../../support/token-open-login.mjs', import.meta.url));
const LOCK_HOLDER = fileURLToPath(new URL('../../support/token-lock-holder.mjs', import.meta.url));

/** Runs token-open-login.mjs: its failures by error, and its exit code. */
function openAndLogin(env: Record<string, string>, times: number): Promise<{ failures: unknown; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [OPEN_LOGIN, DIST, String(times)], {
      env: { PATH: process.env.PATH, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      try {
        resolve({ failures: JSON.parse(out) as unknown, code });
      } catch {
        reject(new Error(`token-open-login printed ${JSON.stringify(out)}, stderr ${err}`));
      }
    });
    child.stdin.end(`${TEST_PIN}\n`);
  });
}

// SoftHSM2 rewrites token.object on every C_Login and reads every token at C_Initialize; without
// hardkms's host-wide lock (src/hsm/softhsm-lock.ts) processes that start and log in together
// read it half-written: on the code before the lock this test saw CKR_GENERAL_ERROR at C_Login
// and a false HSM_TOKEN_DAMAGED ("token.object: empty (0 bytes)") in two of nine processes.
describe('several processes starting on one SoftHSM2 token', () => {
  it('nine processes that open the token and log in at the same time all succeed; the token stays whole', async () => {
    const token = createTestToken('concurrent', { setProcessEnv: false });
    const runs = await Promise.all([
      ...[1, 2, 3].map(() => openAndLogin(token.env, 40)),
      // Short-lived ones: each C_Initialize reads the token while the others log in.
      ...[1, 2, 3, 4, 5, 6].map(() => openAndLogin(token.env, 2)),
    ]);
    expect(runs).toEqual(runs.map(() => ({ failures: {}, code: 0 })));
    expect(tokenObjectWhole(token.tokenDir)).toBe(true);
  }, 120_000);

  it('the lock goes with its process: after its holder is SIGKILLed the token opens and logs in', async () => {
    const token = createTestToken('lockholder');
    const holder = spawn(process.execPath, [LOCK_HOLDER, DIST, token.tokenDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    await new Promise<void>((resolve, reject) => {
      holder.stdout.once('data', () => resolve());
      holder.once('error', reject);
      holder.once('close', (code) => reject(new Error(`lock holder exited ${code} before taking the lock`)));
    });
    const killed = new Promise((resolve) => holder.once('close', resolve));
    holder.kill('SIGKILL');
    await killed;
    const t = Token.open({ label: 'lockholder' });
    try {
      t.login(Buffer.from(TEST_PIN));
      expect(t.vaultTags()).toEqual([]);
    } finally {
      t.close();
    }
  }, 60_000);
});
