/**
 * `hardkms audit show` and `audit withdrawals` read audit.log line by line through the record
 * schema (src/audit/record-schema.ts). A line that is not a record (edited, torn, planted) is
 * named with its line number and what is wrong with it, exit 1 (AUDIT_LOG_CORRUPT), and
 * nothing of the line is repeated. Before, `audit show` threw JSON.parse's SyntaxError (an
 * internal error, exit 70, V8's message quoting the line) or printed whatever the line held.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { AuditEventName } from '../../../src/audit/events.js';
import { AuditLog } from '../../../src/audit/log.js';
import { hostAuditKey } from '../../support/audit-key.js';
import { runCli } from '../../support/cli.js';

const { signer } = hostAuditKey();
const PLANTED = 'zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo wrong';

describe('audit show: lines that are not records', () => {
  let dir: string;
  let path: string;
  const lines = (): string[] => readFileSync(path, 'utf8').trim().split('\n');
  const write = (ls: string[]): void => writeFileSync(path, `${ls.join('\n')}\n`);
  const auditLog = () => runCli(['audit', 'show', '--path', join(dir, 'wallet.dat'), '--audit-log', path, '--json']);

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hardkms-audit-lines-'));
    path = join(dir, 'audit.log');
    const log = new AuditLog(path, { signer, actor: 'test' });
    for (let i = 0; i < 4; i++)
      log.append({ event: `event-${i}` as AuditEventName, subject: `s${i}`, result: 'ok', details: { i } });
  });

  it('prints every record of an intact log', async () => {
    const r = await auditLog();
    expect(r.code, r.stderr).toBe(0);
    expect(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).seq),
    ).toEqual([1, 2, 3, 4]);
  });

  for (const [what, edit, reason] of [
    ['a line that is not JSON', (l: string) => `${PLANTED} ${l.slice(0, 20)}`, 'not valid JSON'],
    [
      'a record whose result is a planted text',
      (l: string) => l.replace('"result":"ok"', `"result":"${PLANTED}"`),
      'has an unknown result',
    ],
    [
      'a record whose seq is text',
      (l: string) => l.replace(/"seq":3/, `"seq":"${PLANTED}"`),
      'has no valid sequence number',
    ],
    [
      'a record with a field added',
      (l: string) => l.replace(/^\{/, `{"note":"${PLANTED}",`),
      'does not have exactly the fields',
    ],
  ] as const) {
    it(`${what}: exit 1 naming line 3, nothing of the line repeated`, async () => {
      const ls = lines();
      ls[2] = edit(ls[2]!);
      write(ls);
      const r = await auditLog();
      expect(r.code, r.stderr).toBe(1);
      const e = r.error();
      expect(e.code).toBe('AUDIT_LOG_CORRUPT');
      expect(e.error).toBe(`Line 3 of ${path} is not an audit record: ${e.error.split(': ').slice(1).join(': ')}`);
      expect(e.error).toContain(reason);
      expect(e.hint).toMatch(/audit verify/);
      expect(`${r.stdout}${r.stderr}`).not.toContain('zoo');
      expect(r.stderr).not.toMatch(/at .*\.js:\d+|SyntaxError/);
    });
  }
});

describe('audit export: the head is read through the record schema', () => {
  let dir: string;
  let path: string;
  const exportTo = (out: string) =>
    runCli(['audit', 'export', '--path', join(dir, 'wallet.dat'), '--audit-log', path, '--out', out]);

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hardkms-audit-export-'));
    path = join(dir, 'audit.log');
    const log = new AuditLog(path, { signer, actor: 'test' });
    for (let i = 0; i < 3; i++)
      log.append({ event: `event-${i}` as AuditEventName, subject: `s${i}`, result: 'ok', details: { i } });
  });

  it("an intact log: the copy and the last record's seq:hash", async () => {
    const out = join(dir, 'copy.log');
    const r = await exportTo(out);
    expect(r.code, r.stderr).toBe(0);
    const last = JSON.parse(readFileSync(path, 'utf8').trim().split('\n')[2]!);
    expect(JSON.parse(r.stdout)).toMatchObject({ source: 'file', records: 3, head: `3:${last.hash}` });
    expect(readFileSync(out, 'utf8')).toBe(readFileSync(path, 'utf8'));
  });

  it('a torn or planted last line: exported as it is, no head, the line named and never repeated (was an internal error, exit 70, with a stack)', async () => {
    writeFileSync(path, `${readFileSync(path, 'utf8')}{"seq":4,"time":"${PLANTED}`);
    const out = join(dir, 'copy.log');
    const r = await exportTo(out);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ records: 4, head: null });
    expect(r.stderr).toMatch(
      /The last line \(4\) of .*audit\.log is not an audit record: not valid JSON.*audit verify/,
    );
    expect(`${r.stdout}${r.stderr}`).not.toContain('zoo');
    expect(r.stderr).not.toMatch(/at .*\.js:\d+|SyntaxError/);
    expect(readFileSync(out, 'utf8')).toBe(`${readFileSync(path, 'utf8')}\n`);
  });
});
