import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { p256 } from '@noble/curves/p256';
import { beforeEach, describe, expect, it } from 'vitest';
import type { AuditEventName } from '../../../src/audit/events.js';
import { AuditLog, type AuditHead } from '../../../src/audit/log.js';
import { verifyAuditLog } from '../../../src/audit/verify.js';
import { hostAuditKey } from '../../support/audit-key.js';
import { headStore } from '../../support/audit-store.js';

// A host P-256 key stands in for the token's audit key: the log format is what is tested here.
const { pem, signer } = hostAuditKey();

describe('audit log', () => {
  let path: string;
  let head: AuditHead | undefined;
  const lines = (): string[] => readFileSync(path, 'utf8').trim().split('\n');
  const write = (ls: string[]): void => writeFileSync(path, `${ls.join('\n')}\n`);
  const verify = () => verifyAuditLog(path, { publicKeyPem: pem, head });

  beforeEach(() => {
    path = join(mkdtempSync(join(tmpdir(), 'hardkms-audit-')), 'audit.log');
    head = undefined;
    const log = new AuditLog(path, { signer, store: headStore((h) => (head = h)), actor: 'test' });
    for (let i = 0; i < 6; i++)
      log.append({ event: `event-${i}` as AuditEventName, subject: `s${i}`, result: 'ok', details: { i } });
  });

  it('verifies an intact log: chained, signed, head matches', () => {
    const r = verify();
    expect(r).toMatchObject({ ok: true, records: 6, signed: 6, unsignedTail: 0 });
  });

  it('names an edited record', () => {
    const ls = lines();
    ls[2] = ls[2]!.replace('"event-2"', '"event-X"');
    write(ls);
    expect(verify().firstProblem).toMatchObject({ seq: 3, problem: expect.stringContaining('edited') });
  });

  it('names a re-signed forgery that breaks the signature', () => {
    const ls = lines();
    const rec = JSON.parse(ls[1]!);
    rec.sig = Buffer.from(
      p256.sign(Buffer.alloc(32, 1), p256.utils.randomPrivateKey(), { prehash: false }).toCompactRawBytes(),
    ).toString('base64');
    ls[1] = JSON.stringify(rec);
    write(ls);
    expect(verify().firstProblem).toMatchObject({ seq: 2, problem: expect.stringContaining('signature') });
  });

  it('names the gap of a deleted record', () => {
    const ls = lines();
    ls.splice(3, 1);
    write(ls);
    expect(verify().firstProblem).toMatchObject({ seq: 5, problem: expect.stringContaining('deleted') });
  });

  it('names reordered records', () => {
    const ls = lines();
    [ls[1], ls[2]] = [ls[2]!, ls[1]!];
    write(ls);
    expect(verify().firstProblem).toMatchObject({ seq: 3, problem: expect.stringContaining('jumps') });
  });

  it('names a line that is JSON but not a record', () => {
    const ls = lines();
    ls[1] = 'null';
    write(ls);
    expect(verify().firstProblem).toMatchObject({ line: 2, problem: expect.stringContaining('not an audit record') });
  });

  it('detects truncation against the head kept in wallet.dat', () => {
    write(lines().slice(0, 4));
    const r = verify();
    expect(r.ok).toBe(false);
    expect(r.firstProblem?.problem).toContain('truncated');
  });

  it('chains unsigned records written while sealed: not ok until the next signed record covers them', () => {
    new AuditLog(path, { store: headStore((h) => (head = h)) }).append({ event: 'unseal', result: 'fail' });
    expect(verify()).toMatchObject({ ok: false, unsignedTail: 1, firstProblem: { seq: 7, fault: 'unsigned-tail' } });
    new AuditLog(path, { signer, store: headStore((h) => (head = h)) }).append({ event: 'unseal', result: 'ok' });
    expect(verify()).toMatchObject({ ok: true, unsignedTail: 0, records: 8, signed: 7 });
  });
});
