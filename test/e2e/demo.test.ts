/**
 * The README's demo as a newcomer runs it (setup skipped: the suite has already done it):
 * `bash scripts/demo.sh` must end with every pending transaction mined and `hardkms audit
 * verify` passing, print no secret, and leave nothing behind.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { wordlists } from 'bip39';
import { describe, expect, it } from 'vitest';
import { LITECOIND_PATH } from '../../scripts/lib/litecoind.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIP39 = new Set(wordlists.english!);

interface Summary {
  demo: string;
  ok: boolean;
  workDir: string;
  pending: number;
  broadcast: number;
  mined: number;
  transactions: { id: string; chain: string; txId: string | null; confirmations: number; mined: boolean }[];
  unseal: {
    threshold: number;
    enrolled: number;
    used: string[];
    refusedWithOneKey: boolean;
    resealedUnderNewChallenges: number;
  };
  rotateRecover: {
    rotateTouches: number;
    shareFilesReplaced: number;
    recoveredWith: string[];
    enrolled: string[];
    sameAddressAfter: boolean;
  };
  auditVerify: { ok: boolean; records: number; signed: number; headChecked: boolean };
  auditReport: { ok: boolean; signatures: number; broadcasts: number; anomalies: { critical: number } };
  secretScan: { checked: number; found: number };
}

function runDemo(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, HARDKMS_DEMO_SKIP_SETUP: '1' };
    delete env.HARDKMS_DEMO_KEEP;
    const child = spawn('bash', ['scripts/demo.sh'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGTERM'), 200_000);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Longest run of consecutive BIP39 words: a mnemonic or a recovery share would be 12 or more. */
function longestWordRun(text: string): number {
  let best = 0;
  let run = 0;
  for (const token of text.split(/[^a-z]+/)) {
    if (token === '') continue;
    run = BIP39.has(token) ? run + 1 : 0;
    best = Math.max(best, run);
  }
  return best;
}

describe.skipIf(!existsSync(LITECOIND_PATH))('scripts/demo.sh (the README demo)', () => {
  it('signs, broadcasts and mines every pending transaction, audit verify passes, no secret shown, nothing left behind', async () => {
    const r = await runDemo();
    expect(r.code, `${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`).toBe(0);

    const summary = JSON.parse(r.stdout.trimEnd().split('\n').at(-1)!) as Summary;
    expect(summary).toMatchObject({ demo: 'hardkms', ok: true, pending: 4, broadcast: 4, mined: 4 });
    expect(summary.transactions).toHaveLength(4);
    expect(summary.transactions.map((t) => t.chain).sort()).toEqual(['ETH', 'ETH', 'LTC', 'LTC']);
    for (const t of summary.transactions) {
      expect(t.txId, t.id).toMatch(/^(0x)?[0-9a-f]{64}$/);
      expect(t.mined, t.id).toBe(true);
      expect(t.confirmations, t.id).toBeGreaterThanOrEqual(1);
    }
    expect(summary.unseal).toEqual({
      threshold: 2,
      enrolled: 3,
      used: ['alice', 'bob'],
      refusedWithOneKey: true,
      resealedUnderNewChallenges: 2,
    });
    // Rotate (each of the 3 keys touched for the unseal or the new challenges) and recover from two share files.
    expect(summary.rotateRecover).toMatchObject({
      shareFilesReplaced: 3,
      recoveredWith: ['alice', 'bob'],
      enrolled: ['dave', 'erin', 'frank'],
      sameAddressAfter: true,
    });
    expect(summary.rotateRecover.rotateTouches).toBeGreaterThanOrEqual(3);
    expect(r.stdout).toMatch(/^7\. Rotate, then recover/m);
    expect(summary.auditVerify).toMatchObject({ ok: true, headChecked: true });
    expect(summary.auditVerify.signed).toBeGreaterThan(0);
    expect(summary.auditReport).toMatchObject({ ok: true, signatures: 4, broadcasts: 4, anomalies: { critical: 0 } });

    // The story a reader sees says the same.
    expect(r.stdout).toMatch(/^Result: 4\/4 pending transactions signed, broadcast and mined; audit verify passed;/m);
    for (const t of summary.transactions) expect(r.stdout).toContain(`${t.chain} ${t.txId}  mined`);

    // Secrets: the demo's own scan (PINs, recovery share lines) and an independent one here.
    expect(summary.secretScan.found).toBe(0);
    expect(summary.secretScan.checked).toBeGreaterThan(2);
    expect(r.stdout + r.stderr).not.toContain('RECOVERY SHARES');
    expect(longestWordRun(r.stdout + r.stderr)).toBeLessThan(12);

    expect(existsSync(summary.workDir)).toBe(false);
  }, 240_000);
});
