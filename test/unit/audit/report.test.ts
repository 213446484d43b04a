import { createHash, createPublicKey } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { p256 } from '@noble/curves/p256';
import { beforeEach, describe, expect, it } from 'vitest';
import type { AuditEventName } from '../../../src/audit/events.js';
import { AuditLog, type AuditHead } from '../../../src/audit/log.js';
import type { AuditEvent } from '../../../src/audit/record.js';
import { analyseAuditLog, buildAuditReport } from '../../../src/audit/report.js';
import type { AuditReport } from '../../../src/audit/report-model.js';
import { esc, renderAuditReport } from '../../../src/audit/report-html.js';
import { renderAuditReportHtml } from '../../../src/audit/report-html-testing.js';
import { verifyAuditLog } from '../../../src/audit/verify.js';
import { hostAuditKey } from '../../support/audit-key.js';
import { headStore } from '../../support/audit-store.js';

// A host P-256 key stands in for the token's audit key, as in log.test.ts.
const { pem, signer } = hostAuditKey();

const DAEMON = 'daemon@ops';

describe('audit report', () => {
  let path: string;
  let head: AuditHead | undefined;
  const signedLog = (): AuditLog => new AuditLog(path, { signer, store: headStore((h) => (head = h)) });
  const sealedLog = (): AuditLog => new AuditLog(path, { store: headStore((h) => (head = h)) });
  const signed = (e: AuditEvent): void => void signedLog().append(e);
  const unsigned = (e: AuditEvent): void => void sealedLog().append(e);
  const report = (): AuditReport =>
    buildAuditReport({ logPath: path, publicKeyPem: pem, head, generatedAt: '2025-01-01T00:00:00.000Z' });
  const lines = (): string[] => readFileSync(path, 'utf8').trim().split('\n');
  const write = (ls: string[]): void => writeFileSync(path, `${ls.join('\n')}\n`);

  /** Two emulated YubiKeys answer, the secret is joined (unsigned: still sealed), then the token login. */
  const unsealCeremony = (actor = DAEMON): void => {
    unsigned({
      event: 'gate.unseal.credential',
      actor,
      result: 'ok',
      details: { credential: 'c1', label: 'alice', serial: 1001, driver: 'emulator' },
    });
    unsigned({
      event: 'gate.unseal.credential',
      actor,
      result: 'ok',
      details: { credential: 'c2', label: 'bob', serial: 1002, driver: 'emulator' },
    });
    unsigned({
      event: 'gate.unseal',
      actor,
      result: 'ok',
      details: { threshold: 2, credentials: ['c1', 'c2'], drivers: ['emulator', 'emulator'] },
    });
    signed({ event: 'token.login', actor, subject: 'hardkms', result: 'ok', details: { serial: 'abc123' } });
  };
  const signCycle = (id: string, actor = DAEMON): void => {
    signed({ event: 'approval', actor, subject: id, result: 'ok', details: { pendingId: id, approvalRequired: true } });
    signed({ event: 'unwrap', actor, subject: 'sig-1', result: 'ok', details: { pendingId: id, chain: 'LTC' } });
    signed({
      event: 'sign',
      actor,
      subject: id,
      result: 'ok',
      details: { pendingId: id, chain: 'LTC', rawTxHash: `raw-${id}`, approvalRequired: true, approved: true },
    });
    signed({
      event: 'broadcast',
      actor,
      subject: id,
      result: 'ok',
      details: { pendingId: id, chain: 'LTC', txId: `tx-${id}` },
    });
  };

  beforeEach(() => {
    path = join(mkdtempSync(join(tmpdir(), 'hardkms-report-')), 'audit.log');
    head = undefined;
  });

  it('reports a clean session: verified, one ceremony with its YubiKeys and driver, operations inside it, no anomaly', () => {
    unsealCeremony();
    signCycle('p-1');
    signed({ event: 'seal', actor: DAEMON, result: 'ok', details: { reason: 'SIGTERM' } });
    const r = report();
    expect(r.verification).toMatchObject({ ok: true, lines: 9, verified: 9, headChecked: true });
    expect(r.anomalies).toEqual([]);
    expect(r.records.map((x) => x.status)).toEqual([
      'chained',
      'chained',
      'chained',
      'signed',
      'signed',
      'signed',
      'signed',
      'signed',
      'signed',
    ]);
    expect(r.ceremonies).toHaveLength(1);
    expect(r.ceremonies[0]).toMatchObject({
      kind: 'unseal',
      result: 'unsealed',
      provider: 'yubikey',
      threshold: 2,
      drivers: ['emulator'],
      token: 'hardkms, serial abc123',
      firstSeq: 1,
      loginSeq: 4,
      sealSeq: 9,
      sealReason: 'SIGTERM',
    });
    expect(r.ceremonies[0]!.credentials.map((c) => [c.label, c.serial, c.driver, c.result])).toEqual([
      ['alice', '1001', 'emulator', 'ok'],
      ['bob', '1002', 'emulator', 'ok'],
    ]);
    expect(r.operations.map((o) => [o.kind, o.pendingId, o.inSession])).toEqual([
      ['approval', 'p-1', true],
      ['unwrap', 'p-1', true],
      ['sign', 'p-1', true],
      ['broadcast', 'p-1', true],
    ]);
    expect(r.operations[2]).toMatchObject({
      rawTxHash: 'raw-p-1',
      chain: 'LTC',
      approvalRequired: true,
      approved: true,
    });
    expect(r.operations[3]).toMatchObject({ txId: 'tx-p-1' });
    expect(r.counts).toMatchObject({
      records: 9,
      signed: 6,
      chained: 3,
      signatures: 1,
      unwraps: 1,
      broadcasts: 1,
      unseals: 1,
      critical: 0,
    });
  });

  it('flags a signature and an unwrap after the session was sealed', () => {
    unsealCeremony();
    signed({ event: 'seal', actor: DAEMON, result: 'ok' });
    signed({ event: 'unwrap', actor: DAEMON, result: 'ok', details: { pendingId: 'p-9' } });
    signed({ event: 'sign', actor: DAEMON, result: 'ok', details: { pendingId: 'p-9', rawTxHash: 'x' } });
    const r = report();
    expect(r.verification.ok).toBe(true);
    const outside = r.anomalies.filter((a) => a.kind === 'outside-session');
    expect(outside.map((a) => [a.seq, a.severity])).toEqual([
      [6, 'critical'],
      [7, 'critical'],
    ]);
  });

  it("counts sessions per actor: another process's session does not cover the daemon", () => {
    unsealCeremony('cli:getprivatekey@ops');
    signed({ event: 'sign', actor: DAEMON, result: 'ok', details: { pendingId: 'p-1' } });
    signed({
      event: 'secret.show',
      actor: 'cli:getprivatekey@ops',
      subject: 'sig-1',
      result: 'ok',
      details: { command: 'getprivatekey' },
    });
    const r = report();
    expect(r.anomalies.filter((a) => a.kind === 'outside-session').map((a) => a.seq)).toEqual([5]);
    expect(r.anomalies.find((a) => a.kind === 'session-not-sealed')).toMatchObject({ severity: 'info', seq: 4 });
  });

  it('flags a signature where approval was required but denied or never recorded', () => {
    unsealCeremony();
    signed({
      event: 'approval',
      actor: DAEMON,
      result: 'denied',
      details: { pendingId: 'p-1', approvalRequired: true },
    });
    signed({ event: 'sign', actor: DAEMON, result: 'ok', details: { pendingId: 'p-1', approved: true } });
    signed({ event: 'sign', actor: DAEMON, result: 'ok', details: { pendingId: 'p-2', approvalRequired: true } });
    signed({ event: 'sign', actor: DAEMON, result: 'ok', details: { pendingId: 'p-3', approvalRequired: false } });
    const missing = report().anomalies.filter((a) => a.kind === 'missing-approval');
    expect(missing.map((a) => a.seq)).toEqual([6, 7]);
    expect(missing[0]!.message).toContain("'denied'");
    expect(missing[1]!.message).toContain('nothing records an approval');
  });

  it("reads the daemon's records: a denial, then an approval, then the signature is clean; a rebroadcast follows its signature", () => {
    unsealCeremony();
    signed({ event: 'daemon.start', actor: DAEMON, result: 'ok', details: { chains: ['LTC'], testnet: true } });
    signed({
      event: 'approval',
      actor: DAEMON,
      subject: 'p-1',
      result: 'denied',
      details: { pendingId: 'p-1', chain: 'LTC', reason: 'HTTP 403' },
    });
    signed({
      event: 'approval',
      actor: DAEMON,
      subject: 'p-1',
      result: 'ok',
      details: { pendingId: 'p-1', chain: 'LTC', status: 200 },
    });
    signed({
      event: 'sign',
      actor: DAEMON,
      subject: 'p-1',
      result: 'ok',
      details: { pendingId: 'p-1', chain: 'LTC', rawTxHash: 'r1', approvalRequired: true, approved: true },
    });
    signed({
      event: 'broadcast',
      actor: DAEMON,
      subject: 'p-1',
      result: 'fail',
      details: { pendingId: 'p-1', error: 'timeout', rebroadcast: false },
    });
    signed({
      event: 'broadcast',
      actor: DAEMON,
      subject: 'p-1',
      result: 'ok',
      details: { pendingId: 'p-1', txId: 't1', via: 'tatum', rebroadcast: true },
    });
    signed({
      event: 'sign',
      actor: DAEMON,
      subject: 'p-2',
      result: 'fail',
      details: { pendingId: 'p-2', error: 'bad payload' },
    });
    const r = report();
    expect(r.anomalies.filter((a) => a.severity !== 'info')).toEqual([]);
    expect(r.admin.map((a) => a.event)).toEqual(['daemon.start']);
    expect(r.counts).toMatchObject({ signatures: 1, broadcasts: 1 });
  });

  it('raises the loud mainnet flags of invariant 7 as warnings', () => {
    signed({ event: 'init', actor: 'cli:init@ops', result: 'ok', details: { provider: 'yubikey' } });
    signed({
      event: 'gate.seal',
      actor: 'cli:init@ops',
      result: 'ok',
      details: { threshold: 1, allowEmulated: true, allowSingleOperator: true },
    });
    signed({
      event: 'daemon.mainnet-override',
      actor: 'cli:init@ops',
      result: 'info',
      details: { reasons: ['no approver'] },
    });
    signed({
      event: 'daemon.approver-override',
      actor: 'daemon@ops',
      result: 'info',
      details: {
        flag: '--allow-unauthenticated-approver',
        reason: 'the approver proves nothing (no --externalUrlSecret)',
      },
    });
    const flags = report().anomalies.filter((a) => a.kind === 'safety-override');
    expect(flags.map((a) => [a.seq, a.severity])).toEqual([
      [2, 'warning'],
      [3, 'warning'],
      [4, 'warning'],
    ]);
    expect(flags[2]!.message).toContain('--allow-unauthenticated-approver');
    expect(flags[0]!.message).toContain('emulated YubiKeys accepted for mainnet and a single operator');
    expect(flags[1]!.message).toContain('no approver');
  });

  it('flags a broadcast with no signature record before it', () => {
    unsealCeremony();
    signed({ event: 'broadcast', actor: DAEMON, result: 'ok', details: { pendingId: 'p-7', txId: 't' } });
    expect(report().anomalies.map((a) => [a.kind, a.seq])).toContainEqual(['broadcast-without-signature', 5]);
  });

  it('flags unsigned records that are not unseal attempts, and unsigned records inside a signing session', () => {
    unsealCeremony();
    // Someone with write access to the file appends a plausible record; the daemon then signs on top of it.
    unsigned({ event: 'approval', actor: DAEMON, result: 'ok', details: { pendingId: 'p-1', approvalRequired: true } });
    signed({ event: 'sign', actor: DAEMON, result: 'ok', details: { pendingId: 'p-1', approvalRequired: true } });
    unsigned({
      event: 'gate.unseal.credential',
      actor: DAEMON,
      result: 'ok',
      details: { credential: 'c1', driver: 'emulator' },
    });
    signed({ event: 'seal', actor: DAEMON, result: 'ok' });
    const r = report();
    expect(r.verification.ok).toBe(true);
    expect(r.records[4]!.status).toBe('chained');
    const unsignedFlags = r.anomalies.filter((a) => a.kind === 'unsigned-record');
    expect(unsignedFlags.map((a) => [a.seq, a.severity])).toEqual([
      [5, 'warning'],
      [7, 'warning'],
    ]);
  });

  it('groups a failed unseal (provider record + vault record) into one failed ceremony', () => {
    unsigned({
      event: 'gate.unseal.credential',
      actor: 'cli:status@ops',
      result: 'ok',
      details: { credential: 'c1', label: 'alice', serial: 1001, driver: 'ykman' },
    });
    unsigned({
      event: 'gate.unseal.credential',
      actor: 'cli:status@ops',
      result: 'fail',
      details: { credential: 'c2', label: 'bob', serial: 1002, driver: 'ykman', error: 'GATE_WRONG_RESPONSE' },
    });
    unsigned({
      event: 'gate.unseal',
      actor: 'cli:status@ops',
      result: 'fail',
      details: { threshold: 2, error: 'GATE_QUORUM_NOT_MET', credentials: ['c1'] },
    });
    unsigned({ event: 'unseal', actor: 'cli:status', result: 'fail', details: { code: 'GATE_QUORUM_NOT_MET' } });
    const r = report();
    // Nothing signs a failed unseal until the next one succeeds: not ok yet, a warning, not an alarm.
    expect(r.verification).toMatchObject({ ok: false, unsignedTail: 4, firstProblem: { kind: 'unsigned-tail' } });
    expect(r.anomalies.find((a) => a.kind === 'unsigned-tail')).toMatchObject({ severity: 'warning', seq: 1 });
    expect(r.records.every((x) => x.status === 'unsigned-tail')).toBe(true);
    expect(r.ceremonies).toHaveLength(1);
    expect(r.ceremonies[0]).toMatchObject({
      result: 'failed',
      provider: 'yubikey',
      errors: ['GATE_QUORUM_NOT_MET'],
      drivers: ['ykman'],
    });
    expect(r.ceremonies[0]!.credentials.map((c) => [c.label, c.result, c.error])).toEqual([
      ['alice', 'ok', undefined],
      ['bob', 'fail', 'GATE_WRONG_RESPONSE'],
    ]);
    expect(r.counts).toMatchObject({ failedUnseals: 1, unseals: 0 });
    expect(r.anomalies.map((a) => a.kind)).toEqual(['unsigned-tail']);
  });

  it('does not call a plain generatewallet an anomaly, but flags a policy denial and a burst of failed unseals', () => {
    unsealCeremony();
    signed({ event: 'seal', actor: DAEMON, result: 'ok', details: { reason: 'done' } });
    unsigned({ event: 'secret.show', actor: 'cli:generatewallet@ops', subject: 'generatewallet ETH', result: 'ok' });
    unsealCeremony();
    expect(report().anomalies.map((a) => a.kind)).toEqual(['session-not-sealed']); // (still running)
    signed({
      event: 'policy',
      actor: DAEMON,
      subject: 'p-9',
      result: 'denied',
      details: { pendingId: 'p-9', reason: 'maxAmount' },
    });
    for (let i = 0; i < 3; i++)
      unsigned({ event: 'unseal', actor: 'cli:status', result: 'fail', details: { code: 'VAULT_SECRET_INVALID' } });
    signed({ event: 'seal', actor: DAEMON, result: 'ok', details: { reason: 'done' } });
    const r = report();
    expect(r.anomalies.map((a) => [a.kind, a.severity])).toEqual([
      ['failed-unseal-burst', 'critical'],
      ['policy-denial', 'warning'],
    ]);
  });

  it('marks an edited record bad, every later record unverified, and names what the re-check finds after it', () => {
    unsealCeremony();
    signCycle('p-1');
    signed({ event: 'seal', actor: DAEMON, result: 'ok' });
    const ls = lines();
    ls[6] = ls[6]!.replace('raw-p-1', 'raw-p-EVIL');
    write(ls);
    const r = report();
    expect(r.verification.ok).toBe(false);
    expect(r.verification.firstProblem).toMatchObject({ seq: 7, line: 7, kind: 'edited-record' });
    expect(r.records.map((x) => x.status)).toEqual([
      'chained',
      'chained',
      'chained',
      'signed',
      'signed',
      'signed',
      'bad',
      'unverified',
      'unverified',
    ]);
    expect(r.records[6]!.problem).toContain('edited');
    expect(r.anomalies[0]).toMatchObject({ kind: 'edited-record', severity: 'critical', seq: 7, status: 'bad' });
    // Only the edited record is damaged: its successors still link to its (unchanged) hash.
    expect(r.anomalies.filter((a) => a.afterFailure)).toEqual([]);
    expect(r.counts).toMatchObject({ bad: 1, unverified: 2 });
  });

  it('names a deleted record as a sequence gap', () => {
    unsealCeremony();
    signCycle('p-1');
    const ls = lines();
    ls.splice(5, 1);
    write(ls);
    const r = report();
    expect(r.verification.firstProblem).toMatchObject({ seq: 7, kind: 'sequence-gap' });
    expect(r.records[5]).toMatchObject({ seq: 7, status: 'bad' });
  });

  it('names a re-signed forgery as a bad signature', () => {
    unsealCeremony();
    signCycle('p-1');
    const ls = lines();
    const rec = JSON.parse(ls[4]!);
    rec.sig = Buffer.from(
      p256.sign(Buffer.alloc(32, 1), p256.utils.randomPrivateKey(), { prehash: false }).toCompactRawBytes(),
    ).toString('base64');
    ls[4] = JSON.stringify(rec);
    write(ls);
    expect(report().verification.firstProblem).toMatchObject({ seq: 5, kind: 'bad-signature' });
  });

  it('reports truncation against the head without blaming any record', () => {
    unsealCeremony();
    signCycle('p-1');
    write(lines().slice(0, 6));
    const r = report();
    expect(r.verification).toMatchObject({ ok: false, verified: 6, firstProblem: { kind: 'truncated' } });
    expect(r.records.some((x) => x.status === 'bad')).toBe(false);
    expect(r.anomalies[0]).toMatchObject({ kind: 'truncated', severity: 'critical' });
  });

  it('survives lines that are not records (JSON null, garbage) and fails verification there', () => {
    unsealCeremony();
    write([...lines(), 'null', '{"not":"a record"', '42']);
    const r = report();
    expect(r.verification.ok).toBe(false);
    expect(r.verification.firstProblem).toMatchObject({ line: 5, kind: 'malformed-record' });
    expect(r.records[4]).toMatchObject({ status: 'bad', raw: 'null' });
    expect(r.records[6]).toMatchObject({ status: 'unverified', raw: '42' });
  });

  it('is a pure function of the verified text', () => {
    unsealCeremony();
    signCycle('p-1');
    const text = readFileSync(path, 'utf8');
    const input = {
      logText: text,
      verify: verifyAuditLog(path, { publicKeyPem: pem, head }),
      publicKeyPem: pem,
      head,
      logPath: path,
      generatedAt: 'x',
    };
    expect(analyseAuditLog(input)).toEqual(analyseAuditLog(input));
    const fp = createHash('sha256')
      .update(createPublicKey(pem).export({ format: 'der', type: 'spki' }))
      .digest('hex');
    expect(analyseAuditLog(input).publicKeyFingerprint).toBe(fp);
  });

  it('pages a long log: the index links every page, anomaly links land on the page holding the record, pages stay script-free', () => {
    unsealCeremony();
    for (let i = 1; i <= 8; i++) signCycle(`p-${i}`);
    signed({
      event: 'secret.show',
      actor: DAEMON,
      subject: 'wallet-7f3a',
      result: 'ok',
      details: { command: 'getprivatekey', chain: 'ETH' },
    });
    signed({ event: 'seal', actor: DAEMON, result: 'ok', details: { reason: 'SIGTERM' } });
    // Outside any session now: an anomaly near the end of the log, whose row is on the last records page.
    signed({
      event: 'secret.show',
      actor: DAEMON,
      subject: 'wallet-9c01',
      result: 'ok',
      details: { command: 'getprivatekey', chain: 'ETH' },
    });
    const r = report();
    expect(r.records).toHaveLength(39);
    const out = renderAuditReport(r, { indexName: '/evidence/report.html', pageSize: 10 });
    const names = out.pages.map((p) => p.name);
    expect(names.filter((n) => n.startsWith('report.records-'))).toEqual([
      'report.records-1.html',
      'report.records-2.html',
      'report.records-3.html',
      'report.records-4.html',
    ]);
    expect(names.filter((n) => n.startsWith('report.operations-'))).toHaveLength(4); // 34 operations
    // The index carries no record rows (no row ids), only links to the pages.
    expect(out.index).not.toMatch(/id="line-/);
    expect(out.index.match(/data-testid="page-link"/g)).toHaveLength(8);
    const outside = r.anomalies.find((a) => a.kind === 'outside-session')!;
    expect(outside.message).toContain('wallet-9c01');
    const href = new RegExp(`href="(report\\.records-(\\d)\\.html)#line-${outside.line}"`).exec(out.index);
    expect(href?.[1]).toBe('report.records-4.html');
    expect(out.pages.find((p) => p.name === href![1])!.html).toContain(`id="line-${outside.line}"`);
    for (const p of out.pages) {
      expect(p.html).toContain('Content-Security-Policy');
      expect(p.html).not.toMatch(/<script/i);
      expect(p.html).toContain('href="report.html"');
    }
    // Rows that show a secret name the wallet.
    const ops = out.pages
      .filter((p) => p.name.startsWith('report.operations-'))
      .map((p) => p.html)
      .join('');
    expect(ops).toMatch(/secret\.show<\/td><td>ok<\/td><td class="mono">wallet-7f3a</);
    // A short log is still one page, everything inline.
    expect(renderAuditReport(r, { indexName: 'report.html', pageSize: 100 }).pages).toEqual([]);
    expect(renderAuditReportHtml(r)).toMatch(/id="line-39"/);
  });
});

describe('audit report HTML', () => {
  let path: string;
  beforeEach(() => {
    path = join(mkdtempSync(join(tmpdir(), 'hardkms-report-html-')), 'audit.log');
  });

  it('escapes every attacker-controlled value and shows invisible characters as code points', () => {
    const log = new AuditLog(path, { signer });
    log.append({ event: 'token.login', actor: '<b>x</b>', subject: 'hardkms', result: 'ok' });
    log.append({
      event: 'sign',
      actor: '<b>x</b>',
      subject: '"><script>alert(1)</script>',
      result: 'ok',
      details: { pendingId: "p' onmouseover='x", rawTxHash: '<img src=x onerror=alert(2)>', note: 'abc\u202Edef' },
    });
    const html = renderAuditReportHtml(buildAuditReport({ logPath: path, publicKeyPem: pem }));
    expect(html).not.toContain('<script>alert(1)');
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<b>x</b>');
    expect(html).not.toContain("p' onmouseover");
    expect(html).not.toContain('\u202E');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('<span class="ctl">U+202E</span>');
    expect(html).not.toMatch(/<script/i);
    expect(esc('a&b<c>"d\'')).toBe('a&amp;b&lt;c&gt;&quot;d&#39;');
  });

  it('allows only its own stylesheet by a hash in the Content-Security-Policy', () => {
    new AuditLog(path, { signer }).append({ event: 'init', result: 'ok' });
    const html = renderAuditReportHtml(buildAuditReport({ logPath: path, publicKeyPem: pem }));
    const css = /<style>([\s\S]*?)<\/style>/.exec(html)![1]!;
    const hash = createHash('sha256').update(css).digest('base64');
    expect(html.replaceAll('&#39;', "'")).toContain(`default-src 'none'; style-src 'sha256-${hash}'`);
    expect(html).not.toMatch(/\b(src|href)="(https?:|\/\/)/);
  });

  it('says FAILED at the bad record and marks it', () => {
    const log = new AuditLog(path, { signer });
    for (let i = 0; i < 4; i++) log.append({ event: `e${i}` as AuditEventName, result: 'ok' });
    const ls = readFileSync(path, 'utf8').trim().split('\n');
    ls[1] = ls[1]!.replace('"e1"', '"e9"');
    writeFileSync(path, `${ls.join('\n')}\n`);
    const html = renderAuditReportHtml(buildAuditReport({ logPath: path, publicKeyPem: pem }));
    expect(html).toContain('data-testid="verdict" data-ok="false" data-failed-seq="2"');
    expect(html).toContain('FAILED at record 2');
    expect(html).toMatch(/data-testid="record-row" data-line="2" data-seq="2" data-status="bad"/);
  });
});
