import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI, runCli } from '../support/cli.js';
import { createTestToken, TEST_PIN, type TestToken } from '../support/softhsm.js';
import { tokenObjectWhole } from '../support/token-kill.js';

const PASSWORD = 'Pw9fK3Zq7xLm2vQ8';
const INTERRUPTS = 12;

/**
 * Ctrl-C and SIGTERM used to kill a command at once, also inside SoftHSM2's C_Login (which
 * rewrites token.object): now every command finishes the token call in flight and exits
 * 130 with CANCELLED, and the token stays whole.
 */
describe('SIGINT/SIGTERM at random moments: exit 130 CANCELLED, token whole', () => {
  let token: TestToken;
  let path: string;
  let env: Record<string, string>;
  let id: string;

  beforeAll(async () => {
    token = createTestToken('hardkms', { setProcessEnv: false });
    path = join(mkdtempSync(join(tmpdir(), 'hardkms-sigint-')), 'wallet.dat');
    env = { ...token.env, TATUM_KMS_PASSWORD: PASSWORD };
    expect(
      (await runCli(['init', '--testnet', '--path', path], { env: { ...env, HARDKMS_TOKEN_PIN: TEST_PIN } })).code,
    ).toBe(0);
    id = (
      (await runCli(['generatemanagedwallet', 'LTC', '--testnet', '--path', path], { env })).json() as {
        signatureId: string;
      }
    ).signatureId;
  }, 120_000);

  it('a signal while a command waits at a prompt exits 130 with the CANCELLED error shape', async () => {
    const child = spawn(process.execPath, [CLI, 'getaddress', id, '0', '--path', path], {
      env: { PATH: process.env.PATH, ...token.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes('password')) child.kill('SIGINT');
    });
    const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
    expect(code).toBe(130);
    const line = stderr.split('\n').find((l) => l.startsWith('{"error"'))!;
    expect(JSON.parse(line)).toMatchObject({
      code: 'CANCELLED',
      error: expect.stringMatching(/^Interrupted by SIGINT/),
    });
  }, 60_000);

  it(`${INTERRUPTS} signals at random moments of getaddress: each run ends 0 or 130, never by the signal, and the token is whole`, async () => {
    const outcomes: Array<number | null> = [];
    for (let i = 0; i < INTERRUPTS; i++) {
      const child = spawn(process.execPath, [CLI, 'getaddress', id, '0', '--path', path], {
        env: { PATH: process.env.PATH, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      // From hardkms's first word on stderr (its modules are loaded, the handler is in place;
      // before that nothing is open and Node's default action is harmless).
      let timer: NodeJS.Timeout | undefined;
      child.stderr.once('data', () => {
        timer = setTimeout(() => child.kill(i % 2 ? 'SIGINT' : 'SIGTERM'), Math.floor(Math.random() * 150));
      });
      const { code, signal } = await new Promise<{ code: number | null; signal: string | null }>((r) =>
        child.on('close', (c, s) => r({ code: c, signal: s })),
      );
      clearTimeout(timer);
      expect(signal).toBeNull();
      outcomes.push(code);
      expect(tokenObjectWhole(token.tokenDir)).toBe(true);
    }
    expect(outcomes.every((c) => c === 0 || c === 130)).toBe(true);
    console.log(
      `interrupts: ${outcomes.filter((c) => c === 130).length} cancelled (130), ${outcomes.filter((c) => c === 0).length} finished first`,
    );
  }, 240_000);
});
