import { createHash } from 'node:crypto';
import {
  copyFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildAuditReport } from '../../src/audit/report.js';
import { verifyAuditLog } from '../../src/audit/verify.js';
import { generatePrivateKeys } from '../../src/vault/entry-secrets.js';
import type { Vault } from '../../src/vault/vault.js';
import { createTestVault, openTestVault, type TestVault } from '../support/vault.js';

/**
 * A writer SIGKILLed (or a host that lost power) in the middle of an audit append can leave
 * audit.log ending in an unfinished line: a write() that crosses a page of the file can be cut
 * between pages. The store never committed that append (its head is set after the write), so
 * the line is no record of anything that happened. It used to make the vault refuse every
 * audited operation (AUDIT_LOG_CORRUPT, "last line is incomplete") until an operator restored
 * audit.log by hand: the full run of session 7 saw it once in test/security/audit-store-kill.
 *
 * Now the next writer, under the writer lock, cuts such a line, keeps its bytes beside the log
 * and records the cut. What must hold: a committed record is never cut, whatever someone who
 * can write wallet.dat's unauthenticated meta and audit.log does.
 */
describe('an unfinished last line of audit.log', () => {
  let tv: TestVault;
  let log: string;
  const FILES = ['wallet.dat', 'audit.log', 'audit.pub.pem'];
  let pristine: string;
  /** The log's bytes a killed writer left: the committed lines, then part of its uncommitted append. */
  let fragment: Buffer;

  const generate = (vault: Vault): void => {
    generatePrivateKeys(vault, { chain: 'ETH', testnet: true, publicData: () => ({ address: '0x00' }) }, 1);
  };
  const records = (): Array<{ seq: number; hash: string; event: string; details: Record<string, unknown> }> =>
    readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { seq: number; hash: string; event: string; details: Record<string, unknown> });
  const tornFiles = (): string[] => readdirSync(tv.dir).filter((f) => f.startsWith('audit.log.torn-'));
  const meta = (key: string): string | undefined => {
    const db = new Database(tv.path, { readonly: true });
    const row = db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
    db.close();
    return row?.value;
  };
  const setMeta = (key: string, value: string): void => {
    const db = new Database(tv.path);
    db.prepare('UPDATE meta SET value = ? WHERE key = ?').run(value, key);
    db.close();
  };
  const refusal = async (): Promise<{ code?: string; message: string }> => {
    try {
      const v = await openTestVault(tv.path);
      generate(v);
      v.seal();
    } catch (e) {
      return e as { code?: string; message: string };
    }
    throw new Error('the vault opened and appended');
  };

  beforeAll(async () => {
    tv = await createTestVault({ testnetOnly: true });
    log = join(tv.dir, 'audit.log');
    generate(tv.vault);
    tv.vault.seal();
    pristine = join(tv.dir, 'pristine');
    rmSync(pristine, { recursive: true, force: true });
    mkdirSync(pristine, { recursive: true });
    for (const f of FILES) copyFileSync(join(tv.dir, f), join(pristine, f));
    // The bytes a real append writes: unseal, generate, seal; then the store is put back as it
    // was before that commit, as a kill before the commit leaves it.
    const size = statSync(log).size;
    const v = await openTestVault(tv.path);
    generate(v);
    v.seal();
    const appended = readFileSync(log).subarray(size);
    fragment = Buffer.from(appended.subarray(0, Math.floor(appended.indexOf(0x0a) / 2)));
    expect(fragment.length).toBeGreaterThan(20);
  });
  beforeEach(() => {
    for (const f of FILES) copyFileSync(join(pristine, f), join(tv.dir, f));
    for (const f of ['wallet.dat-wal', 'wallet.dat-shm', ...tornFiles()]) rmSync(join(tv.dir, f), { force: true });
  });

  it('after every committed record (a writer killed mid-append): cut at the next writer, kept, recorded, the log verifies', async () => {
    const committed = readFileSync(log);
    writeFileSync(log, Buffer.concat([committed, fragment]));

    const v = await openTestVault(tv.path);
    generate(v);
    v.seal();

    const text = readFileSync(log);
    expect(text.subarray(0, committed.length).equals(committed)).toBe(true);
    const cut = records().find((r) => r.event === 'audit.tail_cut');
    const lastCommitted = JSON.parse(committed.toString('utf8').trim().split('\n').at(-1)!) as { seq: number };
    expect(cut).toMatchObject({
      seq: lastCommitted.seq + 1,
      details: {
        after: lastCommitted.seq,
        bytes: fragment.length,
        sha256: createHash('sha256').update(fragment).digest('hex'),
        keptIn: `audit.log.torn-${lastCommitted.seq}`,
      },
    });
    expect(readFileSync(join(tv.dir, `audit.log.torn-${lastCommitted.seq}`)).equals(fragment)).toBe(true);
    expect(tornFiles()).toEqual([`audit.log.torn-${lastCommitted.seq}`]);

    const publicKeyPem = readFileSync(join(tv.dir, 'audit.pub.pem'), 'utf8');
    const head = JSON.parse(meta('audit_head')!) as { seq: number; hash: string };
    expect(verifyAuditLog(log, { publicKeyPem, head })).toMatchObject({ ok: true });
    const report = buildAuditReport({ logPath: log, publicKeyPem, head });
    expect(report.anomalies.filter((a) => a.kind === 'tail-cut')).toEqual([
      expect.objectContaining({
        severity: 'warning',
        seq: cut!.seq,
        message: expect.stringContaining(cut!.details.keptIn as string),
      }),
    ]);
  });

  it('a committed record (the head) without its newline is never cut: refused, nothing changed', async () => {
    truncateSync(log, statSync(log).size - 1);
    const before = readFileSync(log);
    const e = await refusal();
    expect(e.code).toBe('AUDIT_LOG_CORRUPT');
    expect(e.message).toMatch(/incomplete/);
    expect(readFileSync(log).equals(before)).toBe(true);
    expect(tornFiles()).toEqual([]);
  });

  it('attack: the unauthenticated audit_head moved back one record, then the head record torn: still refused', async () => {
    const rs = records();
    const previous = rs.at(-2)!;
    setMeta('audit_head', JSON.stringify({ seq: previous.seq, hash: previous.hash }));
    truncateSync(log, statSync(log).size - 1);
    const before = readFileSync(log);
    const e = await refusal();
    expect(e.code).toBe('AUDIT_LOG_CORRUPT');
    expect(readFileSync(log).equals(before)).toBe(true);
    expect(tornFiles()).toEqual([]);
  });

  it('an unfinished line after a line that is no record (damage): refused, nothing cut', async () => {
    writeFileSync(log, Buffer.concat([readFileSync(log), Buffer.from('not a record\n'), fragment]));
    const before = readFileSync(log);
    const e = await refusal();
    expect(e.code).toBe('AUDIT_LOG_CORRUPT');
    expect(readFileSync(log).equals(before)).toBe(true);
    expect(tornFiles()).toEqual([]);
  });
});
