import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { HardkmsError, InputError } from '../errors.js';
import { auditPublicKeyPath } from '../audit/log.js';
import { parseAuditLine } from '../audit/record-schema.js';
import { syncStoredTrail } from './audit-binding.js';
import type { VaultLocation } from './facts.js';

export interface AuditExport {
  out: string;
  /** 'store': a PostgreSQL store's one trail (every instance's records); 'file': audit.log beside wallet.dat. */
  source: 'store' | 'file';
  records: number;
  head: string | null;
  pubkey: string | null;
  /** The last line is no record (torn, edited): exported as it is, with no head; what is wrong, never the line. */
  lastLineProblem?: { line: number; problem: string; where: string };
}

/**
 * Writes the vault's one audit trail to a new file (and the audit public key beside it) for
 * `audit verify` offline. The copy is written whatever its last line holds: verify judges it.
 */
export function exportAuditTrail(location: VaultLocation & { auditLogPath: string }, out: string): AuditExport {
  const stored = syncStoredTrail(location);
  let lines = stored;
  if (lines === undefined) {
    if (!existsSync(location.auditLogPath)) {
      throw new HardkmsError('AUDIT_LOG_MISSING', `No audit log at ${location.auditLogPath}.`, {
        hint: 'Pass --audit-log, or --path of the wallet store it belongs to.',
      });
    }
    lines = readFileSync(location.auditLogPath, 'utf8')
      .split('\n')
      .filter((l) => l !== '');
  }
  const pemOut = auditPublicKeyPath(out);
  for (const f of [out, pemOut]) {
    if (existsSync(f))
      throw new InputError(`${f} exists; audit export never overwrites a file.`, 'Name a new file in --out.');
  }
  const last = lines.length === 0 ? undefined : parseAuditLine(lines[lines.length - 1]!);
  const pem = auditPublicKeyPath(location.auditLogPath);
  writeFileSync(out, lines.length === 0 ? '' : `${lines.join('\n')}\n`, { mode: 0o600, flag: 'wx' });
  if (existsSync(pem)) writeFileSync(pemOut, readFileSync(pem), { mode: 0o644, flag: 'wx' });
  return {
    out,
    source: stored !== undefined ? 'store' : 'file',
    records: lines.length,
    head: last?.record === undefined ? null : `${last.record.seq}:${last.record.hash}`,
    pubkey: existsSync(pem) ? pemOut : null,
    ...(last?.problem !== undefined
      ? {
          lastLineProblem: {
            line: lines.length,
            problem: last.problem,
            where: stored !== undefined ? 'the stored trail' : location.auditLogPath,
          },
        }
      : {}),
  };
}
