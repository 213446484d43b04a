import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { p256 } from '@noble/curves/p256';
import { beforeEach, describe, expect, it } from 'vitest';
import { AuditLog, type AuditHead } from '../../src/audit/log.js';
import { recordHash, recordLine, type AuditRecord } from '../../src/audit/record.js';
import { analyseAuditLog } from '../../src/audit/report.js';
import { verifyAuditText } from '../../src/audit/verify.js';
import { hostAuditKey } from '../support/audit-key.js';
import { headStore } from '../support/audit-store.js';

/**
 * Batched signatures (record format v3): a batch's members carry no signature of their own;
 * the batch's last record signs them through the hash chain. What an attacker who can write
 * the log file (but has no audit key) tries against a batch, each of which must fail verify:
 * strip the signer's signature, mark a member unsigned, give a member a signature, cut the
 * log inside a batch, drop the signer and re-chain, re-count a batch, re-sign with a key of
 * their own, or append a "batch in progress" that nothing signs.
 */
const { pem, signer } = hostAuditKey();

describe('audit log: attacks on a signed batch', () => {
  let path: string;
  let head: AuditHead | undefined;
  let text: string;
  const verify = (t: string, noHead?: 'no head') =>
    verifyAuditText(t, { publicKeyPem: pem, head: noHead ? undefined : head });
  const lines = (): string[] => text.slice(0, -1).split('\n');
  const join_ = (ls: string[]): string => `${ls.join('\n')}\n`;
  /** Rewrites record i (0-based line) with `change`, re-hashing it and re-chaining every later record, unsigned as the attacker must. */
  const forge = (i: number, change: (r: AuditRecord) => AuditRecord): string => {
    const ls = lines();
    let prev = i > 0 ? (JSON.parse(ls[i - 1]!) as AuditRecord).hash : undefined;
    for (let j = i; j < ls.length; j++) {
      let r = JSON.parse(ls[j]!) as AuditRecord;
      if (j === i) r = change(r);
      if (prev !== undefined) r.prev = prev;
      const { hash: _h, sig: _s, ...body } = r;
      r.hash = recordHash(body);
      ls[j] = recordLine(r);
      prev = r.hash;
    }
    return join_(ls);
  };

  beforeEach(() => {
    path = join(mkdtempSync(join(tmpdir(), 'hardkms-batch-')), 'audit.log');
    head = undefined;
    const log = new AuditLog(path, { signer, store: headStore((h) => (head = h)), actor: 'test' });
    log.append({ event: 'token.login', result: 'ok' });
    log.appendBatch(
      (['policy', 'unwrap', 'sign'] as const).map((event) => ({
        event,
        subject: 'p-1',
        result: 'ok' as const,
        details: { pendingId: 'p-1' },
      })),
    );
    log.append({ event: 'broadcast', subject: 'p-1', result: 'ok' });
    text = readFileSync(path, 'utf8');
  });

  it('an intact batch verifies: one signature for three records, members marked, head at the end', () => {
    const recs = lines().map((l) => JSON.parse(l) as AuditRecord);
    expect(recs.map((r) => [r.batch, r.sig === null])).toEqual([
      [0, false],
      [2, true],
      [1, true],
      [0, false],
      [0, false],
    ]);
    expect(recs.every((r) => r.signed === true)).toBe(true);
    expect(verify(text)).toMatchObject({ ok: true, records: 5, signed: 3, unsignedTail: 0 });
    const report = analyseAuditLog({ logText: text, verify: verify(text), publicKeyPem: pem });
    expect(report.records.map((r) => r.status)).toEqual(['signed', 'signed', 'signed', 'signed', 'signed']);
    expect(report.anomalies.filter((a) => a.kind === 'unsigned-record')).toEqual([]);
  });

  it("the signer's signature stripped", () => {
    const ls = lines();
    ls[3] = recordLine({ ...(JSON.parse(ls[3]!) as AuditRecord), sig: null });
    expect(verify(join_(ls))).toMatchObject({ ok: false, firstProblem: { seq: 4, fault: 'signature-stripped' } });
  });

  it('a member rewritten as written unsigned (signed: false), re-chained', () => {
    expect(verify(forge(1, (r) => ({ ...r, signed: false })))).toMatchObject({
      ok: false,
      firstProblem: { seq: 2, fault: 'broken-batch' },
    });
  });

  it('a member given a signature of its own (a valid one from another record)', () => {
    const ls = lines();
    const sig = (JSON.parse(ls[0]!) as AuditRecord).sig;
    ls[1] = recordLine({ ...(JSON.parse(ls[1]!) as AuditRecord), sig });
    expect(verify(join_(ls))).toMatchObject({ ok: false, firstProblem: { seq: 2, fault: 'bad-signature' } });
  });

  it('the log cut inside the batch, with no head to compare: the members left are an unsigned tail', () => {
    const cut = join_(lines().slice(0, 3));
    expect(verify(cut, 'no head')).toMatchObject({ ok: false, firstProblem: { seq: 2, fault: 'unsigned-tail' } });
  });

  it('the signing record removed and the rest re-chained: the next record cannot stand in as the signer', () => {
    const ls = lines();
    ls.splice(3, 1);
    text = join_(ls);
    const forged = forge(3, (r) => ({ ...r, seq: 4 }));
    expect(verify(forged)).toMatchObject({ ok: false, firstProblem: { seq: 4, fault: 'bad-signature' } });
  });

  it('a batch re-counted so that a member looks like the signer (batch 1 → 0), re-chained', () => {
    expect(verify(forge(2, (r) => ({ ...r, batch: 0 })))).toMatchObject({ ok: false, firstProblem: { seq: 3 } });
  });

  it('the batch re-signed with a key of the attacker', () => {
    const priv = p256.utils.randomPrivateKey();
    const ls = lines();
    const r = JSON.parse(ls[3]!) as AuditRecord;
    r.details = { pendingId: 'p-2' };
    const { hash: _h, sig: _s, ...body } = r;
    r.hash = recordHash(body);
    r.sig = Buffer.from(p256.sign(Buffer.from(r.hash, 'hex'), priv, { prehash: false }).toCompactRawBytes()).toString(
      'base64',
    );
    ls[3] = recordLine(r);
    expect(verify(join_(ls.slice(0, 4)), 'no head')).toMatchObject({
      ok: false,
      firstProblem: { seq: 4, fault: 'bad-signature' },
    });
  });

  it('a forged "batch in progress" appended (members, no signer): an unsigned tail, reported', () => {
    const last = JSON.parse(lines().at(-1)!) as AuditRecord;
    const body = {
      seq: last.seq + 1,
      time: last.time,
      event: 'wallet.remove',
      actor: 'x',
      subject: 'y',
      result: 'ok' as const,
      details: {},
      prev: last.hash,
      signed: true,
      batch: 1,
    };
    const forged = `${text}${recordLine({ ...body, hash: recordHash(body), sig: null })}\n`;
    expect(verify(forged, 'no head')).toMatchObject({ ok: false, firstProblem: { seq: 6, fault: 'unsigned-tail' } });
    expect(
      analyseAuditLog({ logText: forged, verify: verify(forged, 'no head'), publicKeyPem: pem }).records.at(-1)?.status,
    ).toBe('unsigned-tail');
  });
});
