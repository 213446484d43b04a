import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { AuditLog, type AuditHead } from '../../src/audit/log.js';
import { recordHash, recordLine } from '../../src/audit/record.js';
import { verifyAuditText } from '../../src/audit/verify.js';
import { hostAuditKey } from '../support/audit-key.js';
import { headStore } from '../support/audit-store.js';

/**
 * Every single edit of a log an attacker could make must be detected: each byte replaced
 * (by several characters, base64 look-alikes included) or removed, each line deleted,
 * swapped with the next, duplicated, each truncation (at every byte), the final newline
 * dropped, a signature or the committed signed state removed, an unsigned record appended.
 * Before the fix, deleting a `sig`, a non-canonical base64 character in a `sig`, an
 * appended unsigned record and a dropped final newline verified ok. The log includes a
 * signed batch (record format v3), so every edit of a batch member or its signer counts too.
 */
const { pem, signer } = hostAuditKey();

describe('audit log: 100% of single edits detected', () => {
  let text: string;
  let head: AuditHead;
  const verify = (t: string): boolean => verifyAuditText(t, { publicKeyPem: pem, head }).ok;

  beforeAll(() => {
    const path = join(mkdtempSync(join(tmpdir(), 'hardkms-fuzz-')), 'audit.log');
    const store = headStore((h) => (head = h));
    const signedLog = new AuditLog(path, { signer, store, actor: 'fuzz' });
    const sealedLog = new AuditLog(path, { store, actor: 'fuzz' });
    for (let i = 0; i < 5; i++) {
      if (i % 3 === 1)
        sealedLog.append({
          event: 'gate.unseal.credential',
          subject: `c${i}`,
          result: 'fail',
          details: { i, label: 'ö ü "q" \\ \u2028' },
        });
      else
        signedLog.append({
          event: i % 2 ? 'sign' : 'unwrap',
          subject: `p-${i}`,
          result: 'ok',
          details: { pendingId: `p-${i}`, n: i * 1.5, list: [1, null, true] },
        });
    }
    // A signed batch (format v3): two members without a signature of their own, then the record that signs them.
    signedLog.appendBatch([
      { event: 'policy', subject: 'p-9', result: 'ok', details: { pendingId: 'p-9' } },
      { event: 'unwrap', subject: 'p-9', result: 'ok', details: { pendingId: 'p-9' } },
      { event: 'sign', subject: 'p-9', result: 'ok', details: { pendingId: 'p-9' } },
    ]);
    signedLog.append({ event: 'seal', result: 'ok', details: { reason: 'end' } });
    text = readFileSync(path, 'utf8');
    expect(verify(text)).toBe(true);
  });

  it('every byte replaced by each of several characters, and every byte removed', { timeout: 300_000 }, () => {
    const bytes = Buffer.from(text, 'utf8');
    const replacements = [...'0aA+/= "{}:,\\nx9'].map((c) => c.charCodeAt(0));
    let edits = 0;
    const missed: string[] = [];
    for (let i = 0; i < bytes.length; i++) {
      const variants: Buffer[] = [Buffer.concat([bytes.subarray(0, i), bytes.subarray(i + 1)])];
      // Three replacements per byte (cycling through the set) keep this quick on a 2-core machine.
      for (const r of [
        replacements[i % replacements.length]!,
        replacements[(i * 7 + 3) % replacements.length]!,
        bytes[i]! ^ 0x01,
      ]) {
        if (r === bytes[i]) continue;
        const v = Buffer.from(bytes);
        v[i] = r;
        variants.push(v);
      }
      for (const v of variants) {
        edits++;
        if (verify(v.toString('utf8')))
          missed.push(`byte ${i}: ${JSON.stringify(v.toString('utf8').slice(Math.max(0, i - 20), i + 20))}`);
      }
    }
    expect(missed.slice(0, 5)).toEqual([]);
    expect(edits).toBeGreaterThan(3 * bytes.length);
  });

  it(
    'line deletions, swaps, duplications, truncations at every byte, the final newline dropped',
    { timeout: 300_000 },
    () => {
      const lines = text.slice(0, -1).split('\n');
      const variants: string[] = [];
      for (let i = 0; i < lines.length; i++) {
        variants.push(`${lines.filter((_, j) => j !== i).join('\n')}\n`);
        variants.push(`${[...lines.slice(0, i + 1), lines[i]!, ...lines.slice(i + 1)].join('\n')}\n`);
        if (i + 1 < lines.length) {
          const s = [...lines];
          [s[i], s[i + 1]] = [s[i + 1]!, s[i]!];
          variants.push(`${s.join('\n')}\n`);
        }
      }
      for (let n = 0; n < text.length; n++) variants.push(text.slice(0, n));
      const missed = variants.filter((v) => verify(v));
      expect(variants.length).toBeGreaterThan(text.length);
      expect(missed).toEqual([]);
    },
  );

  it('the attacks named in the issue: sig removed, signed state removed, sig re-encoded, unsigned record appended', () => {
    const lines = text.slice(0, -1).split('\n');
    const signedIdx = lines.findIndex((l, i) => i > 2 && JSON.parse(l).sig !== null);
    const rec = JSON.parse(lines[signedIdx]!) as Record<string, unknown>;
    const variants: string[] = [];
    const withLine = (l: string): string => `${lines.map((x, i) => (i === signedIdx ? l : x)).join('\n')}\n`;
    variants.push(withLine(JSON.stringify({ ...rec, sig: null })));
    const { sig: _s, ...noSig } = rec;
    variants.push(withLine(JSON.stringify(noSig)));
    const { signed: _g, ...noSigned } = rec;
    variants.push(withLine(JSON.stringify({ ...noSigned, sig: null })));
    variants.push(withLine(JSON.stringify({ ...rec, signed: false, sig: null })));
    // Non-canonical base64: the same bytes with the unused low bits of the last character set.
    const sig = rec.sig as string;
    const last = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.indexOf(sig[85]!);
    const tweaked = `${sig.slice(0, 85)}${'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'[last | 1]}==`;
    if (tweaked !== sig) variants.push(withLine(JSON.stringify({ ...rec, sig: tweaked })));
    variants.push(withLine(JSON.stringify({ ...rec, sig: sig.replace(/==$/, '') })));
    variants.push(withLine(JSON.stringify({ ...rec, sig: `${sig.slice(0, 40)}\n${sig.slice(40)}` })));
    const tail = JSON.parse(lines.at(-1)!) as { seq: number; hash: string };
    const body = {
      seq: tail.seq + 1,
      time: new Date().toISOString(),
      event: 'wallet.remove',
      actor: 'x',
      subject: 'y',
      result: 'ok' as const,
      details: {},
      prev: tail.hash,
      signed: false,
    };
    variants.push(`${text}${recordLine({ ...body, hash: recordHash(body), sig: null })}\n`);
    expect(variants.filter((v) => verify(v))).toEqual([]);
  });
});
