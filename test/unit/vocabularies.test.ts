import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../../src/error-codes.js';
import { errorCodeTable } from '../../src/error-codes-testing.js';
import { HardkmsError, InputError } from '../../src/errors.js';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('the closed list of error codes', () => {
  it('an error exits with its class: usage 2, refused 3, not found 4, token or gate 5, failed 1', () => {
    expect(new InputError('bad').exitCode).toBe(2);
    expect(new HardkmsError('POLICY_VIOLATION', 'no').exitCode).toBe(3);
    expect(new HardkmsError('WALLET_NOT_FOUND', 'no').exitCode).toBe(4);
    expect(new HardkmsError('HSM_WRONG_PIN', 'no').exitCode).toBe(5);
    expect(new HardkmsError('VAULT_ROW_TAMPERED', 'no').exitCode).toBe(1);
    expect(new HardkmsError('VAULT_ROW_TAMPERED', 'no', { exitCode: 9 }).exitCode).toBe(9);
  });

  it('every listed code is raised somewhere (no dead entries)', () => {
    const text = sources('src')
      .filter((f) => !f.endsWith('error-codes.ts'))
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
    const dead = errorCodeTable()
      .map((r) => r.code)
      .filter((code) => !text.includes(`'${code}'`));
    expect(dead).toEqual([]);
  });

  it('a usage error is an InputError, never a HardkmsError spelled with INVALID_INPUT by hand', () => {
    const handMade = sources('src')
      .filter((f) => /new HardkmsError\(\s*'INVALID_INPUT'/.test(readFileSync(f, 'utf8')))
      .map((f) => f.replace(/\\/g, '/'));
    expect(handMade).toEqual([]);
  });

  it("the runbook's table gives every class its exit code", () => {
    const runbook = readFileSync('docs/runbook.md', 'utf8');
    const section = runbook.slice(runbook.indexOf('## 15. Exit codes'), runbook.indexOf('## Upgrade notes'));
    const names: Record<keyof typeof EXIT_CODES, string> = {
      failed: 'failed',
      usage: 'usage',
      refused: 'refused',
      notFound: 'not found',
      tokenOrGate: 'token or gate',
      internal: 'internal',
      cancelled: 'cancelled',
    };
    for (const [cls, n] of Object.entries(EXIT_CODES)) {
      expect(section).toContain(`| ${n} | ${names[cls as keyof typeof EXIT_CODES]} |`);
    }
  });
});

describe('the closed list of audit event names', () => {
  it("every name is raised somewhere and explained in the auditor's procedure", async () => {
    const { AUDIT_EVENTS } = await import('../../src/audit/events.js');
    const text = sources('src')
      .filter((f) => !f.endsWith('events.ts'))
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
    expect(AUDIT_EVENTS.filter((e) => !text.includes(`'${e}'`))).toEqual([]);
    const runbook = readFileSync('docs/runbook.md', 'utf8');
    const section = runbook.slice(runbook.indexOf('## 13. The auditor'), runbook.indexOf('## 14. Signing policy'));
    expect(AUDIT_EVENTS.filter((e) => !section.includes(`| \`${e}\` |`))).toEqual([]);
  });
});
