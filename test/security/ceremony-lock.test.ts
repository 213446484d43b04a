import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectError, expectOk, GateBench } from '../support/gate-bench.js';

/**
 * Two ceremonies at once: before the lock, a second `rotate` started while the first was
 * running also unsealed, re-sealed and printed "write these recovery shares down"; only the
 * last seal counted, so one set of sheets was dead on arrival. The lock is held in the store.
 */
describe('one ceremony at a time per vault', { timeout: 180_000 }, () => {
  const bench = new GateBench();
  const setLock = (lock: Record<string, unknown> | undefined) => {
    const db = new Database(bench.path);
    try {
      if (lock)
        db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('ceremony_lock', ?)").run(JSON.stringify(lock));
      else db.prepare("DELETE FROM meta WHERE key = 'ceremony_lock'").run();
    } finally {
      db.close();
    }
  };
  const lockRow = () => {
    const db = new Database(bench.path, { readonly: true });
    try {
      return db.prepare("SELECT value FROM meta WHERE key = 'ceremony_lock'").get();
    } finally {
      db.close();
    }
  };

  beforeAll(async () => {
    await bench.init(['ann', 'ben']);
  });

  it('a rotate while another ceremony holds the lock is refused before any key is touched, naming the other one', async () => {
    setLock({ command: 'rotate', pid: process.pid, host: hostname(), started: new Date().toISOString() });
    const seal = bench.sealRecord();
    const events = bench.auditEvents().length;
    const r = await bench.cli(['rotate']);
    expectError(r, 'CEREMONY_IN_PROGRESS', new RegExp(`\`hardkms rotate\` \\(process ${process.pid} on `));
    expect(r.stderr).not.toMatch(/Share \d+ of \d+/);
    expect(bench.sealRecord()).toEqual(seal);
    expect(bench.auditEvents().length).toBe(events); // no unseal attempt, no touch
  });

  it('a lock left by a process that died is not in the way; the ceremony releases its own lock', async () => {
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    setLock({ command: 'enroll', pid: Number(dead.stdout), host: hostname(), started: new Date().toISOString() });
    const r = await bench.cli(['rotate']);
    expectOk(r);
    expect(await bench.recoveryShares(r)).toHaveLength(2);
    expect(lockRow()).toBeUndefined();
    setLock(undefined);
  });

  it('after rotate hardkms says exactly what to back up now: wallet.dat, the audit log and the token directory (its PIN changed)', async () => {
    const r = await bench.cli(['rotate']);
    expectOk(r);
    expect(r.stderr).toContain('Back up now, together');
    expect(r.stderr).toContain(bench.path);
    expect(r.stderr).toMatch(
      new RegExp(`the SoftHSM2 token directory ${bench.token.tokenDir}/[0-9a-f-]+ +\\(its PIN changed just now`),
    );
    expect(r.stderr).toContain('HSM_WRONG_PIN');
  });
});
