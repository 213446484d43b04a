/**
 * One audit trail for signers on several hosts sharing one PostgreSQL store (issue 16 item 2,
 * "each instance's audit records are chained in one authenticated order"), and a database
 * admin's attacks on it.
 *
 * Two hosts keep the audit log at the same bound path on their own disks; the test plays them
 * on one machine by swapping which host's copy sits at that path (asHost), and an auditor's
 * machine by having no copy there at all (asAuditor).
 *
 * The hole (seen on the code before the shared trail): each host appended to its own file after
 * ITS last record while the authenticated head in the store named whichever host wrote last, so
 * the files forked, and `audit verify --store … --audit-log <host A's file>` exited 0 while
 * host B's sign record was in no trail the auditor checked. Now the records are stored in the
 * database in the writer lock's order (one chain), each host's file is a copy of that chain,
 * and `hardkms audit export` gives the auditor all of it.
 */
import { copyFileSync, existsSync, mkdtempSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/audit/record.js';
import { HardkmsError } from '../../src/errors.js';
import type { Vault } from '../../src/vault/vault.js';
import { runCli } from '../support/cli.js';
import { havePostgres, startPostgres, type Postgres } from '../support/postgres.js';
import { createTestVault, openTestVault, TEST_PASSWORD, type TestVault } from '../support/vault.js';

const records = (path: string): AuditRecord[] =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as AuditRecord);

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (e) {
    return e instanceof HardkmsError ? e.code : String(e);
  }
  return undefined;
};

describe.skipIf(!havePostgres)('one audit trail for signers on several hosts (PostgreSQL store)', () => {
  let pg: Postgres;
  let tv: TestVault;
  let log: string;
  const disks: Record<'a' | 'b', string> = { a: '', b: '' };
  let current: 'a' | 'b' = 'a';
  let a: Vault;
  let b: Vault;

  beforeAll(async () => {
    pg = await startPostgres();
    process.env.PGPASSFILE = pg.passFile;
    tv = await createTestVault({ testnetOnly: true, store: pg.createDatabase('trail') });
    a = tv.vault;
    log = join(tv.dir, 'audit.log');
    for (const h of ['a', 'b'] as const) disks[h] = mkdtempSync(join(tmpdir(), `hardkms-host-${h}-`));
    // Host B was set up from host A's log as it was then (what an operator had to do).
    copyFileSync(log, join(disks.b, 'audit.log'));
  }, 120_000);
  afterAll(() => {
    // One process plays both hosts: a seal logs the shared token session out, so only at the end.
    for (const v of [a, b])
      try {
        v?.seal('test end');
      } catch {
        // a trail the last case left refused
      }
    pg?.destroy();
  });

  /** Runs `fn` with host `h`'s copy of the log at the bound path. */
  async function asHost<T>(h: 'a' | 'b', fn: () => T | Promise<T>): Promise<T> {
    if (current !== h) {
      if (existsSync(log)) renameSync(log, join(disks[current], 'audit.log'));
      const mine = join(disks[h], 'audit.log');
      if (existsSync(mine)) renameSync(mine, log);
      current = h;
    }
    return fn();
  }

  /** Runs `fn` on a machine with no copy of the log (an auditor's). */
  async function asAuditor<T>(fn: () => T | Promise<T>): Promise<T> {
    const away = join(disks[current], 'audit.log');
    renameSync(log, away);
    try {
      return await fn();
    } finally {
      renameSync(away, log);
    }
  }

  const env = () => ({ ...tv.token.env, ...pg.env, TATUM_KMS_PASSWORD: TEST_PASSWORD });
  const store = () => ['--store', tv.path];
  const sign = (v: Vault, subject: string) =>
    v.record({ event: 'sign', subject, result: 'ok', details: { pendingId: subject } });
  const exportTrail = async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'hardkms-export-')), 'trail.log');
    const r = await runCli(['audit', 'export', '--out', out, ...store()], { env: env() });
    return { out, r };
  };
  const verifyOffline = (file: string) =>
    runCli(['audit', 'verify', '--audit-log', file, '--path', join(tmpdir(), 'no-such-dir', 'wallet.dat')], {
      env: {},
    });

  it("ATTACK: a record signed on host B is in no trail the auditor verifies on host A's log", async () => {
    b = await asHost('b', () => openTestVault(tv.path, undefined, log));
    await asHost('a', () => sign(a, 'on-host-a-1'));
    await asHost('b', () => sign(b, 'on-host-b'));
    await asHost('a', () => sign(a, 'on-host-a-2'));

    // The auditor, on host A, verifies A's log against the store.
    const verify = await asHost('a', () => runCli(['audit', 'verify', ...store(), '--audit-log', log], { env: env() }));
    expect(verify.code, verify.stderr + verify.stdout).toBe(0);
    const subjects = records(log).map((r) => r.subject);
    expect(subjects).toContain('on-host-b');
    expect(subjects.indexOf('on-host-a-1')).toBeLessThan(subjects.indexOf('on-host-b'));
    expect(subjects.indexOf('on-host-b')).toBeLessThan(subjects.indexOf('on-host-a-2'));

    // The export (from a machine without a copy) is the one chain, and verifies offline.
    const { out, r } = await asAuditor(exportTrail);
    expect(r.code, r.stderr).toBe(0);
    expect(records(out).map((x) => x.subject)).toEqual(subjects);
    const offline = await verifyOffline(out);
    expect(offline.code, offline.stderr + offline.stdout).toBe(0);

    // Host B's copy, once it appends again, holds host A's records too, in the same order.
    await asHost('b', () => sign(b, 'on-host-b-2'));
    const bSubjects = await asHost('b', () => records(log).map((x) => x.subject));
    expect(bSubjects.slice(0, subjects.length)).toEqual(subjects);
    expect(bSubjects.at(-1)).toBe('on-host-b-2');
    const again = await asHost('a', () => runCli(['audit', 'verify', ...store(), '--audit-log', log], { env: env() }));
    expect(again.code, again.stderr + again.stdout).toBe(0);
    expect(records(log).map((x) => x.subject)).toContain('on-host-b-2');
  });

  it('ATTACK: a database admin edits a stored record: refused by the host that copied it and by the export', async () => {
    const seq = pg
      .psql('SELECT seq FROM audit_records WHERE line LIKE \'%"on-host-b"%\' ORDER BY seq LIMIT 1', 'trail')
      .trim();
    expect(seq).toMatch(/^\d+$/);
    pg.psql(`UPDATE audit_records SET line = replace(line, 'on-host-b', 'on-host-c') WHERE seq = ${seq}`, 'trail');
    try {
      const verify = await asHost('a', () =>
        runCli(['audit', 'verify', ...store(), '--audit-log', log], { env: env() }),
      );
      expect(verify.code).not.toBe(0);
      expect(verify.stderr).toMatch(new RegExp(`[Rr]ecord ${seq}\\b.*AUDIT_TRAIL_DIVERGES`));
      const { r } = await asAuditor(exportTrail);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(new RegExp(`Record ${seq} of the audit trail.*edited.*AUDIT_TRAIL_DIVERGES`));
    } finally {
      pg.psql(`UPDATE audit_records SET line = replace(line, 'on-host-c', 'on-host-b') WHERE seq = ${seq}`, 'trail');
    }
    expect((await asAuditor(exportTrail)).r.code).toBe(0);
  });

  it('ATTACK: a database admin deletes or swaps stored records: refused', async () => {
    const seq = Number(pg.psql('SELECT seq FROM audit_records WHERE line LIKE \'%"on-host-b"%\'', 'trail').trim());
    const saved = pg
      .psql(
        `SELECT seq || '|' || encode(convert_to(line, 'UTF8'), 'hex') FROM audit_records WHERE seq IN (${seq}, ${seq + 1}) ORDER BY seq`,
        'trail',
      )
      .trim()
      .split('\n')
      .map((l) => l.split('|') as [string, string]);
    const restore = () => {
      pg.psql(`DELETE FROM audit_records WHERE seq IN (${seq}, ${seq + 1})`, 'trail');
      for (const [s, hex] of saved)
        pg.psql(
          `INSERT INTO audit_records (seq, line) VALUES (${s}, convert_from(decode('${hex}', 'hex'), 'UTF8'))`,
          'trail',
        );
    };
    try {
      pg.psql(`DELETE FROM audit_records WHERE seq = ${seq}`, 'trail');
      const { r: deleted } = await asAuditor(exportTrail);
      expect(deleted.code).not.toBe(0);
      expect(deleted.stderr).toMatch(/missing.*AUDIT_TRAIL_DIVERGES/);
      const onHost = await asHost('a', () =>
        runCli(['audit', 'verify', ...store(), '--audit-log', log], { env: env() }),
      );
      expect(onHost.code).not.toBe(0);
      restore();
      // Two records' lines swapped between their rows.
      pg.psql(
        `UPDATE audit_records SET line = CASE seq WHEN ${seq} THEN (SELECT line FROM audit_records WHERE seq = ${seq + 1}) ELSE (SELECT line FROM audit_records WHERE seq = ${seq}) END WHERE seq IN (${seq}, ${seq + 1})`,
        'trail',
      );
      const { r: swapped } = await asAuditor(exportTrail);
      expect(swapped.code).not.toBe(0);
      expect(swapped.stderr).toMatch(/AUDIT_TRAIL_DIVERGES/);
    } finally {
      restore();
    }
    expect((await asAuditor(exportTrail)).r.code).toBe(0);
  });

  it("ATTACK: a database admin cuts the trail's tail and puts the older head back (both authentic): every host that saw more refuses", async () => {
    const head = pg.psql("SELECT value FROM meta WHERE key = 'audit_head_mac'", 'trail').trim();
    const cutFrom = Number(pg.psql('SELECT max(seq) FROM audit_records', 'trail').trim()) + 1;
    await asHost('a', () => sign(a, 'to-hide'));
    expect(records(log).at(-1)?.subject).toBe('to-hide');
    pg.psql(`DELETE FROM audit_records WHERE seq >= ${cutFrom}`, 'trail');
    pg.psql(`UPDATE meta SET value = '${head.replace(/'/g, "''")}' WHERE key = 'audit_head_mac'`, 'trail');
    // Host A's next append is refused, and nothing is written.
    expect(await asHost('a', () => codeOf(() => sign(a, 'next')))).toBe('AUDIT_HEAD_MISMATCH');
    expect(pg.psql(`SELECT count(*) FROM audit_records WHERE seq >= ${cutFrom}`, 'trail').trim()).toBe('0');
    // A fresh unseal on host A is refused too, and `audit verify` there.
    const unseal = await asHost('a', () => runCli(['export', ...store()], { env: env() }));
    expect(unseal.code).not.toBe(0);
    expect(unseal.stderr).toMatch(/AUDIT_HEAD_MISMATCH/);
    const verify = await asHost('a', () => runCli(['audit', 'verify', ...store(), '--audit-log', log], { env: env() }));
    expect(verify.code).not.toBe(0);
    expect(verify.stderr).toMatch(/AUDIT_HEAD_MISMATCH/);
  });
});
