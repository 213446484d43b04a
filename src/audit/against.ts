import { readFileSync } from 'node:fs';

/**
 * The local log against a copy forwarded off-host (rsyslog's file, a SIEM export): the
 * copy is what the host could not rewrite, so the first place they differ is where the
 * local log was changed, cut or rolled back.
 */
interface Divergence {
  seq: number;
  problem: string;
}

interface AgainstResult {
  ok: boolean;
  /** Records present in both and equal. */
  matched: number;
  /** Local records the sink has not got (written while it was down, not yet caught up). */
  notForwarded: number;
  forwardedLast: number;
  firstDivergence?: Divergence;
}

/** A record line inside whatever the sink wrote around it (a syslog prefix, nothing). */
function recordOf(raw: string): { seq: number; line: string } | undefined {
  const at = raw.indexOf('{"seq":');
  if (at < 0) return undefined;
  const line = raw.slice(at).replace(/\s+$/, '');
  const seq = Number(/^\{"seq":(\d+),/.exec(line)?.[1] ?? NaN);
  return Number.isSafeInteger(seq) ? { seq, line } : undefined;
}

function compareWithForwarded(localText: string, forwardedText: string): AgainstResult {
  const forwarded = new Map<number, string>();
  let forwardedLast = 0;
  const result = (d?: Divergence, matched = 0, notForwarded = 0): AgainstResult => ({
    ok: d === undefined,
    matched,
    notForwarded,
    forwardedLast,
    ...(d ? { firstDivergence: d } : {}),
  });
  for (const raw of forwardedText.split('\n')) {
    const r = recordOf(raw);
    if (!r) continue;
    const seen = forwarded.get(r.seq);
    // A record sent twice (a retry after a lost answer) is one record; two different ones are not.
    if (seen !== undefined && seen !== r.line)
      return result({
        seq: r.seq,
        problem: `the forwarded copy holds two different records ${r.seq}: the chain was rewritten and re-sent`,
      });
    forwarded.set(r.seq, r.line);
    forwardedLast = Math.max(forwardedLast, r.seq);
  }
  const local = localText.split('\n').filter((l) => l !== '');
  let matched = 0;
  let notForwarded = 0;
  let localLast = 0;
  for (const line of local) {
    const r = recordOf(line);
    if (!r)
      return result({ seq: localLast + 1, problem: 'the local log has a line that is not a record here' }, matched);
    localLast = r.seq;
    const copy = forwarded.get(r.seq);
    if (copy === undefined) {
      if (r.seq > forwardedLast) {
        notForwarded++;
        continue;
      }
      return result(
        { seq: r.seq, problem: `record ${r.seq} is in the local log but not in the forwarded copy` },
        matched,
      );
    }
    if (notForwarded > 0)
      return result(
        { seq: r.seq, problem: `records before ${r.seq} never reached the sink, but later ones did` },
        matched,
      );
    if (copy !== line)
      return result(
        {
          seq: r.seq,
          problem: `record ${r.seq} differs from the forwarded copy: the local log was edited or rewritten from here`,
        },
        matched,
      );
    matched++;
  }
  for (let s = 1; s <= forwardedLast; s++) {
    if (s > localLast && forwarded.has(s)) {
      return result(
        {
          seq: s,
          problem: `the forwarded copy continues with record ${s} after the local log ends at ${localLast}: the local log was cut or rolled back`,
        },
        matched,
        notForwarded,
      );
    }
  }
  return result(undefined, matched, notForwarded);
}

export function compareFiles(localPath: string, forwardedPath: string): AgainstResult {
  return compareWithForwarded(readFileSync(localPath, 'utf8'), readFileSync(forwardedPath, 'utf8'));
}
