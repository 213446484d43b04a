import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditLog, auditPublicKeyPath } from '../../../src/audit/log.js';
import type { AuditEvent } from '../../../src/audit/record.js';
import { buildAuditReport } from '../../../src/audit/report.js';
import { AnomalyWatch } from '../../../src/audit/watch.js';
import { keyFingerprint } from '../../../src/audit/verify.js';
import { hostAuditKey } from '../../support/audit-key.js';

const { pem, signer } = hostAuditKey();
const DAEMON = 'daemon@ops';

/**
 * The daemon's anomaly watch (--alert-webhook) raises what the auditor's report raises, for
 * the same records, as they are appended; sessions opened before it started are known.
 */
describe('AnomalyWatch', () => {
  const setup = (): { path: string; signed: (e: AuditEvent) => void; unsigned: (e: AuditEvent) => void } => {
    const path = join(mkdtempSync(join(tmpdir(), 'hardkms-watch-')), 'audit.log');
    writeFileSync(auditPublicKeyPath(path), pem);
    return {
      path,
      signed: (e) => void new AuditLog(path, { signer }).append(e),
      unsigned: (e) => void new AuditLog(path, {}).append(e),
    };
  };
  const login = (signed: (e: AuditEvent) => void, unsigned: (e: AuditEvent) => void, actor: string): void => {
    unsigned({ event: 'gate.unseal', actor, result: 'ok', details: { threshold: 2, credentials: ['c1', 'c2'] } });
    signed({ event: 'token.login', actor, subject: 'hardkms', result: 'ok', details: { serial: 'abc' } });
  };
  const sign = (signed: (e: AuditEvent) => void, actor: string, id: string): void =>
    signed({
      event: 'sign',
      actor,
      subject: id,
      result: 'ok',
      details: { pendingId: id, chain: 'LTC', rawTxHash: `raw-${id}` },
    });

  it('knows the sessions open at its start, and raises the report’s own critical anomalies for new records', () => {
    const { path, signed, unsigned } = setup();
    login(signed, unsigned, DAEMON);
    const watch = new AnomalyWatch(path, keyFingerprint(pem));
    watch.start();
    sign(signed, DAEMON, 'p-1'); // inside the daemon's session, opened before the watch began
    expect(watch.poll()).toEqual([]);

    sign(signed, 'cli:intruder@ops', 'p-2'); // no login by that actor: key use outside a session
    const raised = watch.poll().filter((a) => a.severity === 'critical');
    const report = buildAuditReport({ logPath: path, publicKeyPem: pem }).anomalies.filter(
      (a) => a.severity === 'critical',
    );
    expect(raised.map((a) => [a.kind, a.seq, a.message])).toEqual(report.map((a) => [a.kind, a.seq, a.message]));
    expect(raised[0]).toMatchObject({
      kind: 'outside-session',
      record: { event: 'sign', actor: 'cli:intruder@ops', subject: 'p-2' },
    });
    expect(watch.poll()).toEqual([]); // each anomaly once
  });

  it('an edited line, a cut log and a replaced key beside the log are critical', () => {
    const { path, signed, unsigned } = setup();
    login(signed, unsigned, DAEMON);
    const watch = new AnomalyWatch(path, keyFingerprint(pem));
    watch.start();
    sign(signed, DAEMON, 'p-1');
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    const last = JSON.parse(lines.at(-1)!) as { seq: number };
    writeFileSync(
      path,
      `${readFileSync(path, 'utf8')}${JSON.stringify({ ...last, seq: last.seq + 1, subject: 'forged' })}\n`,
    );
    expect(watch.poll().map((a) => a.severity)).toContain('critical');

    writeFileSync(path, `${lines.slice(0, 1).join('\n')}\n`);
    expect(watch.poll()).toEqual([expect.objectContaining({ kind: 'truncated', severity: 'critical' })]);

    const other = hostAuditKey();
    writeFileSync(auditPublicKeyPath(path), other.pem);
    expect(new AnomalyWatch(path, keyFingerprint(pem)).poll()).toEqual([
      expect.objectContaining({ kind: 'wrong-key', severity: 'critical' }),
    ]);
  });
});
