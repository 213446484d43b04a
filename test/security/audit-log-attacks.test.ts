import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { recordHash } from '../../src/audit/record.js';
import { hostAuditKey } from '../support/audit-key.js';
import { runCli, type CliResult } from '../support/cli.js';
import { createTestToken, TEST_PIN, type TestToken } from '../support/softhsm.js';

/**
 * The attacks of issue 10 ("Audit log"), performed as someone with write access to the
 * files (wallet.dat, audit.log, audit.pub.pem) but without the vault secret would do them.
 * Each one verified `ok: true` before the fix.
 */
describe('audit log attacks by someone who can write the files', () => {
  let token: TestToken;
  let dir: string;
  let path: string;
  let log: string;
  let env: Record<string, string>;
  let fingerprint: string;
  const cli = (args: string[], input?: string): Promise<CliResult> =>
    runCli([...args, '--path', path], { env, ...(input !== undefined ? { input } : {}) });
  const lines = (): string[] => readFileSync(log, 'utf8').trim().split('\n');
  const writeLines = (ls: string[]): void => writeFileSync(log, `${ls.join('\n')}\n`);
  const lastHead = (): string => {
    const last = JSON.parse(lines().at(-1)!) as { seq: number; hash: string };
    return `${last.seq}:${last.hash}`;
  };
  /** What an attacker with a SQLite shell writes into wallet.dat's meta table. */
  const setMeta = (key: string, value: string): void => {
    const db = new Database(path);
    db.prepare('UPDATE meta SET value = ? WHERE key = ?').run(value, key);
    db.close();
  };
  const getMeta = (key: string): string | undefined => {
    const db = new Database(path, { readonly: true });
    const row = db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
    db.close();
    return row?.value;
  };

  const FILES = ['wallet.dat', 'audit.log', 'audit.pub.pem'];
  let pristine: string;
  beforeAll(async () => {
    token = createTestToken('hardkms', { setProcessEnv: false });
    dir = mkdtempSync(join(tmpdir(), 'hardkms-audit-attack-'));
    path = join(dir, 'wallet.dat');
    log = join(dir, 'audit.log');
    env = { ...token.env, TATUM_KMS_PASSWORD: 'attack-test-password' };
    const init = await runCli(['init', '--testnet', '--path', path], { env: { ...env, HARDKMS_TOKEN_PIN: TEST_PIN } });
    expect(init.code).toBe(0);
    fingerprint = (init.json() as { auditKeyFingerprint?: string }).auditKeyFingerprint ?? '';
    for (let i = 0; i < 3; i++) expect((await cli(['generatemanagedwallet', 'ETH', '--testnet'])).code).toBe(0);
    pristine = mkdtempSync(join(tmpdir(), 'hardkms-audit-pristine-'));
    for (const f of FILES) copyFileSync(join(dir, f), join(pristine, f));
  });
  // Every attack starts from the same files (the token's keys do not change).
  beforeEach(() => {
    for (const f of FILES) copyFileSync(join(pristine, f), join(dir, f));
    for (const side of ['wallet.dat-wal', 'wallet.dat-shm']) rmSync(join(dir, side), { force: true });
  });

  it('(a) cutting the last records and rewriting audit_head: the next unseal refuses, and the auditor’s noted head catches it', async () => {
    const noted = lastHead();
    const cut = lines().slice(0, -4);
    writeLines(cut);
    const last = JSON.parse(cut.at(-1)!) as { seq: number; hash: string };
    setMeta('audit_head', JSON.stringify({ seq: last.seq, hash: last.hash }));

    const unseal = await cli(['generatemanagedwallet', 'ETH', '--testnet']);
    expect(unseal.code).not.toBe(0);
    expect(unseal.error().code).toBe('AUDIT_HEAD_MISMATCH');

    const v = await cli(['audit', 'verify', '--head', noted]);
    expect(v.code).not.toBe(0);
    expect(v.json()).toMatchObject({ ok: false });
    expect(v.error().error).toMatch(/truncated|rolled back/);
  });

  it('(b) a forged unsigned record appended to the log makes verify fail (unsigned tail)', async () => {
    const last = JSON.parse(lines().at(-1)!) as { seq: number; hash: string };
    const body = {
      seq: last.seq + 1,
      time: new Date().toISOString(),
      event: 'wallet.remove',
      actor: 'cli:removewallet@ops',
      subject: 'nothing-to-see',
      result: 'ok' as const,
      details: {},
      prev: last.hash,
    };
    writeLines([...lines(), JSON.stringify({ ...body, hash: recordHash(body), sig: null })]);
    setMeta('audit_head', JSON.stringify({ seq: body.seq, hash: recordHash(body) }));
    const v = await cli(['audit', 'verify']);
    expect(v.code).not.toBe(0);
    expect(v.json()).toMatchObject({ ok: false });
  });

  it('(c) getprivatekey --audit-log throwaway.log is refused before anything is shown; the log stays where init put it', async () => {
    const gen = await cli(['generatemanagedwallet', 'ETH', '--testnet']);
    const sigId = (gen.json() as { signatureId: string }).signatureId;
    const headBefore = getMeta('audit_head')!;
    const throwaway = join(dir, 'throwaway.log');
    const r = await cli(['getprivatekey', sigId, '0', '--audit-log', throwaway]);
    setMeta('audit_head', headBefore); // the attacker puts the old head back
    expect(r.code).not.toBe(0);
    expect(r.stdout).not.toContain('privateKey');
    expect(r.error().code).toBe('AUDIT_LOG_PATH_MISMATCH');
    const v = await cli(['audit', 'verify']);
    expect(v.json()).toMatchObject({ ok: true });
  });

  it('(d) deleting middle records, re-chaining and re-signing with a fresh P-256 key and a replaced audit.pub.pem is caught with --fingerprint', async () => {
    expect(fingerprint).toMatch(/^[0-9a-f]{64}$/);
    const original = lines().map((l) => JSON.parse(l) as Record<string, unknown>);
    const fresh = hostAuditKey();
    const kept = [...original.slice(0, 2), ...original.slice(5)];
    let prev = '0'.repeat(64);
    const forged = kept.map((rec, i) => {
      const { hash: _h, sig: _s, ...rest } = rec;
      const body = { ...rest, seq: i + 1, prev } as Parameters<typeof recordHash>[0];
      const hash = recordHash(body);
      prev = hash;
      const signedState = 'signed' in rest ? { signed: true } : {};
      return JSON.stringify({
        ...body,
        ...signedState,
        hash,
        sig: fresh.signer(Buffer.from(hash, 'hex')).toString('base64'),
      });
    });
    writeLines(forged);
    writeFileSync(join(dir, 'audit.pub.pem'), fresh.pem);
    const last = JSON.parse(forged.at(-1)!) as { seq: number; hash: string };
    setMeta('audit_head', JSON.stringify({ seq: last.seq, hash: last.hash }));
    // A careful attacker also rewrites the (offline unauthenticated) fingerprint in the binding.
    const binding = JSON.parse(getMeta('token_binding')!) as Record<string, unknown>;
    if ('auditKeyFingerprint' in binding) {
      const der = (await import('node:crypto')).createPublicKey(fresh.pem).export({ format: 'der', type: 'spki' });
      binding.auditKeyFingerprint = createHash('sha256').update(der).digest('hex');
      setMeta('token_binding', JSON.stringify(binding));
    }

    const trusting = await cli(['audit', 'verify']);
    expect(trusting.stderr).toMatch(/trusted the audit public key beside the log/);

    const v = await cli(['audit', 'verify', '--fingerprint', fingerprint]);
    expect(v.code).not.toBe(0);
    expect(v.json()).toMatchObject({ ok: false });
    expect(v.error().error).toMatch(/fingerprint/);

    const unseal = await cli(['generatemanagedwallet', 'ETH', '--testnet']);
    expect(unseal.code).not.toBe(0);
  });
});
