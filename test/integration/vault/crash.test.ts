import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createTestVault, openTestVault, TEST_PASSWORD } from '../../support/vault.js';

const WRITER = fileURLToPath(new URL('../../support/crash-writer.mjs', import.meta.url));

/** Runs the writer, SIGKILLs it `delayMs` after it starts its 10k batch; returns what it reported. */
function runAndKill(path: string, env: NodeJS.ProcessEnv, delayMs: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRITER, path, TEST_PASSWORD], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      for (const l of d.toString().split('\n').filter(Boolean)) {
        lines.push(l);
        if (l === 'batch-start') setTimeout(() => child.kill('SIGKILL'), delayMs);
        if (l === 'committed 10010') child.kill('SIGKILL');
      }
    });
    child.on('exit', (_code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`writer exited without being killed: ${stderr}`));
      else resolve(lines);
    });
  });
}

describe('crash safety', () => {
  it('after SIGKILL during a 10k-entry batch the store opens and holds exactly what was committed', async () => {
    const t = await createTestVault();
    t.vault.seal();
    let expectedMin = 0;
    // Kill at several moments: before, during and (likely) after the batch's commit.
    for (const delay of [0, 5, 20, 60, 200]) {
      const lines = await runAndKill(t.path, { ...process.env, SOFTHSM2_CONF: t.token.conf }, delay);
      const reported = lines.filter((l) => l.startsWith('committed ')).map((l) => Number(l.split(' ')[1]));
      const vault = await openTestVault(t.path);
      try {
        const count = vault.store.countEntries();
        const listed = vault.store.listEntries(); // every row still authenticates
        expect(listed.length).toBe(count);
        const inThisRun = count - expectedMin;
        const acked = Math.max(0, ...reported);
        // Never less than what was reported stored; never a partial batch.
        expect(inThisRun).toBeGreaterThanOrEqual(acked);
        expect([10, 10_010]).toContain(inThisRun);
        expectedMin = count;
      } finally {
        vault.seal();
      }
    }
  });
});
