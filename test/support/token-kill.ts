import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseTokenObject } from '../../src/hsm/softhsm-files.js';

const LOGIN_LOOP = fileURLToPath(new URL('./login-loop.mjs', import.meta.url));
const DIST = fileURLToPath(new URL('../../dist', import.meta.url));

/** The token.object of the only token in a test token directory. */
export function tokenObjectPath(tokenDir: string): string {
  const [name] = readdirSync(tokenDir).filter((n) => !n.startsWith('.'));
  return join(tokenDir, name!, 'token.object');
}

export function tokenObjectWhole(tokenDir: string): boolean {
  return parseTokenObject(readFileSync(tokenObjectPath(tokenDir))).ok;
}

/**
 * Starts a process that logs in and out of the token as fast as it can and SIGKILLs it
 * after `afterMs` (from its first login): the moment SoftHSM2 rewrites token.object on C_Login is then hit
 * about one time in six.
 */
export function killDuringLogins(
  env: Record<string, string>,
  pin: string | { wallet: string },
  afterMs: number,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const args = typeof pin === 'string' ? [LOGIN_LOOP, DIST] : [LOGIN_LOOP, DIST, pin.wallet];
    const child = spawn(process.execPath, args, {
      env: { PATH: process.env.PATH, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.once('data', () => setTimeout(() => child.kill('SIGKILL'), afterMs));
    child.on('error', reject);
    child.on('close', (_code, signal) =>
      signal === 'SIGKILL' ? resolve() : reject(new Error(`login loop ended by itself: ${err}`)),
    );
    child.stdin.end(typeof pin === 'string' ? `${pin}\n` : '');
  });
}
