import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { createTestVault, TEST_PASSWORD } from '../../support/vault.js';

const WRITER = fileURLToPath(new URL('../../support/rekey-writer.mjs', import.meta.url));
const ROWS = 3000;

/** Runs the writer; SIGKILLs it when it reports `at` (or `delayMs` after 'start'); returns what it reported. */
function runAndKill(
  path: string,
  env: NodeJS.ProcessEnv,
  mode: 'steps' | 'applySeal',
  at: { step?: string; delayMs?: number },
): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRITER, path, TEST_PASSWORD, mode], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      for (const l of d.toString().split('\n').filter(Boolean)) {
        lines.push(l);
        if (l === at.step || l === 'done') child.kill('SIGKILL');
        if (l === 'start' && at.delayMs !== undefined) setTimeout(() => child.kill('SIGKILL'), at.delayMs);
      }
    });
    child.on('exit', (_code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`writer exited without being killed: ${stderr}`));
      else resolve(lines);
    });
  });
}

/** Opens the vault in a fresh process and reports what it holds (every row verified). */
function check(path: string, env: NodeJS.ProcessEnv): Promise<{ rows: number; counter: number; seal: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRITER, path, TEST_PASSWORD, 'check'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) =>
      code === 0
        ? resolve(JSON.parse(out.trim()) as { rows: number; counter: number; seal: string })
        : reject(new Error(err)),
    );
  });
}

function metaValue(path: string, key: string): string | undefined {
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined)?.value;
  } finally {
    db.close();
  }
}

function fakeEntries(n: number, offset: number) {
  return Array.from({ length: n }, (_, i) => ({
    signatureId: `w-${offset + i}`,
    chain: 'ETH',
    testnet: true,
    kind: 'privateKey' as const,
    publicData: { address: `0x${(offset + i).toString(16).padStart(40, '0')}` },
    wrappedSecret: Buffer.alloc(40, i % 256),
    mechanism: 'CKM_AES_KEY_WRAP_PAD',
  }));
}

describe('re-keying is crash-safe (kill -9 leaves the old or the new state, never a mix)', () => {
  it('killed at each step of the protocol and at random moments, the vault opens with every row authentic', async () => {
    const t = await createTestVault();
    t.vault.store.addEntries(fakeEntries(ROWS, 0));
    t.vault.seal();
    const env = { ...process.env, SOFTHSM2_CONF: t.token.conf };
    const runs: Array<['steps' | 'applySeal', { step?: string; delayMs?: number }]> = [
      ['steps', { step: 'rekeyed' }], // new seal and rows committed, token still on the old PIN
      ['steps', { step: 'pin' }], // token on the new PIN, previous seal not yet dropped
      ['applySeal', { delayMs: 0 }],
      ['applySeal', { delayMs: 15 }],
      ['applySeal', { delayMs: 40 }],
      ['applySeal', { delayMs: 120 }],
    ];
    const outcomes: string[] = [];
    for (const [mode, at] of runs) {
      const sealBefore = metaValue(t.path, 'seal');
      const lines = await runAndKill(t.path, env, mode, at);
      // Every row and the meta verify under ONE key, the one the seal now releases.
      const seen = await check(t.path, env);
      expect(seen.rows).toBe(ROWS);
      expect(seen.counter).toBe(0);
      const rotated = seen.seal !== sealBefore;
      // Once the token has the new PIN, only the new state can open.
      if (lines.includes('pin') || lines.includes('done'))
        expect(rotated, `${mode} ${JSON.stringify(at)} ${lines.join(',')}`).toBe(true);
      outcomes.push(rotated ? 'new' : 'old');
      expect(metaValue(t.path, 'previous_seal')).toBeUndefined();
    }
    // The step runs are deterministic: killed after the re-key commit -> old; after the PIN change -> new.
    expect(outcomes.slice(0, 2)).toEqual(['old', 'new']);
  });
});
