/**
 * src/audit/record-schema.ts: the one reading of an audit.log line. The reasons are the
 * checker's verdict texts, pinned here, and none of them repeats what the line holds.
 */
import { describe, expect, it } from 'vitest';
import { auditLineTime, auditRecordOf, parseAuditLine } from '../../../src/audit/record-schema.js';
import { syslogFrame } from '../../../src/audit/forward.js';

const SECRET = 'abandon ability able about above absent absorb abstract absurd abuse access accident';
const v3 = {
  seq: 7,
  time: '2026-12-01T22:44:13.123Z',
  event: 'sign',
  actor: 'daemon',
  subject: 'id',
  result: 'ok',
  details: { chain: 'ETH' },
  prev: 'a'.repeat(64),
  signed: true,
  batch: 0,
  hash: 'b'.repeat(64),
  sig: null,
};

describe('audit record schema', () => {
  it('reads formats v1, v2 and v3 as they are written, fields in line order', () => {
    const { signed, batch, ...v1 } = v3;
    const v2Ordered = Object.fromEntries(Object.entries(v3).filter(([k]) => k !== 'batch'));
    expect([signed, batch]).toEqual([true, 0]);
    for (const [input, out] of [
      [v1, v1],
      [{ ...v2Ordered }, v2Ordered],
      [v3, v3],
    ] as const) {
      const line = JSON.stringify(input);
      const r = parseAuditLine(line);
      expect(r.record).toEqual(out);
      expect(JSON.stringify(r.record)).toBe(line);
    }
  });

  it("gives the checker's reasons, and never the value found", () => {
    const cases: [Record<string, unknown> | unknown[], string][] = [
      [[SECRET], 'is not an audit record object'],
      [{ ...v3, note: SECRET }, 'does not have exactly the fields of an audit record, in order'],
      [
        Object.fromEntries([['time', v3.time], ...Object.entries(v3).filter(([k]) => k !== 'time')]),
        'does not have exactly the fields of an audit record, in order',
      ],
      [{ ...v3, seq: SECRET }, 'has no valid sequence number'],
      [{ ...v3, seq: 0 }, 'has no valid sequence number'],
      [{ ...v3, actor: [SECRET] }, "has a non-text 'actor'"],
      [{ ...v3, result: SECRET }, 'has an unknown result'],
      [{ ...v3, details: SECRET }, 'has details that are not an object'],
      [{ ...v3, signed: SECRET }, "has a 'signed' field that is not true or false"],
      [{ ...v3, batch: 100_000 }, "has a 'batch' field that is not a record count"],
      [{ ...v3, sig: { SECRET } }, 'has a signature that is neither text nor null'],
    ];
    for (const [input, reason] of cases) {
      const r = parseAuditLine(JSON.stringify(input));
      expect(r).toEqual({ problem: reason, json: true });
      expect(auditRecordOf(input)).toBe(reason);
    }
    expect(parseAuditLine(`{"seq":1, ${SECRET}`)).toEqual({
      problem: 'not valid JSON (edited or partially written)',
      json: false,
    });
  });

  it('reads only a well-formed UTC time for status lines and syslog headers', () => {
    expect(auditLineTime(JSON.stringify(v3))).toEqual({ event: 'sign', time: v3.time });
    // A newer format's record still has its time; anything else has none.
    expect(auditLineTime(JSON.stringify({ ...v3, host: 'b' }))?.time).toBe(v3.time);
    for (const time of ['2026-12-01 22:44:13Z', `${v3.time} - - ${SECRET}`, '2026-12-01T22:44:13.123Z\n', 5])
      expect(auditLineTime(JSON.stringify({ ...v3, time }))).toBeUndefined();
    expect(auditLineTime('{"time":')).toBeUndefined();
    const frame = syslogFrame(JSON.stringify({ ...v3, time: `x y ${SECRET}` }), 'host', 1);
    expect(frame).toMatch(/^\d+ <110>1 \d{4}-\d{2}-\d{2}T[\d:.]+Z host hardkms 1 audit - \{/);
    expect(syslogFrame(JSON.stringify(v3), 'host', 1)).toContain(`<110>1 ${v3.time} host`);
  });
});
