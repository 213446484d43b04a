import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CLI, collectLog, runCli } from '../support/cli.js';
import { FakeTatumApi } from '../../scripts/lib/tatum-api-server.js';
import { createTestVault, type TestVault } from '../support/vault.js';
import { addPrivateKey, auditRecords, daemonEnv, journalRows, testKey } from '../e2e/support.js';

/**
 * The daemon commits the steps of concurrent pending transactions together (one store
 * transaction and one signed, fsynced audit batch per step: src/signer/pipeline/step-commit.ts). The
 * rule that must survive a SIGKILL at any moment: a signed transaction reaches the API only
 * after the `sign` record naming its bytes is on disk; nothing is signed twice; the log
 * verifies and the vault opens again. 12 pending transactions over 6 wallets per run, killed
 * at 20 moments spread over a run.
 */
const TO = '0x4444444444444444444444444444444444444444';
const WALLETS = 6;
const PER_RUN = 12;

function killAfter(
  tv: TestVault,
  api: FakeTatumApi,
  ms: number,
): Promise<{ killed: boolean; code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, ...daemonEnv(tv, api) };
    const child = spawn(
      process.execPath,
      [CLI, 'daemon', '--runOnce', '--testnet', '--chain', 'ETH', '--path', tv.path],
      {
        env,
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      collectLog(stderr);
      resolve({ killed: signal === 'SIGKILL', code, stderr });
    });
  });
}

describe('batched audit steps, whenever the daemon is killed', () => {
  it(
    'every broadcast has its sign record on disk first; no id signed twice; the log verifies',
    { timeout: 600_000 },
    async () => {
      const tv = await createTestVault({ testnetOnly: true });
      const wallets = Array.from({ length: WALLETS }, (_, i) =>
        addPrivateKey(tv.vault, 'ETH', true, testKey(0x51 + i)),
      );
      tv.vault.seal('test setup');
      const api = await FakeTatumApi.start();
      try {
        let nonce = 0;
        const refill = (): void => {
          while (api.pendingIds().length < PER_RUN) {
            const n = nonce++;
            api.queue({
              chain: 'ETH',
              hashes: [wallets[n % WALLETS]!],
              serializedTransaction: JSON.stringify({
                to: TO,
                value: '1',
                gasPrice: '1000000000',
                gas: 21000,
                nonce: n,
              }),
            });
          }
        };
        refill();
        const t = Date.now();
        const clean = await killAfter(tv, api, 120_000);
        expect(clean.code, clean.stderr.slice(-3000)).toBe(0);
        const typicalMs = Date.now() - t;
        expect(api.broadcasts.length).toBe(PER_RUN);

        let kills = 0;
        for (let i = 0; i < 20; i++) {
          refill();
          const r = await killAfter(tv, api, Math.floor(typicalMs * (0.1 + (0.8 * ((i * 7) % 20)) / 20)));
          if (r.killed) kills++;
          else expect(r.code, r.stderr.slice(-3000)).toBe(0);
          // After every kill: each transaction the API received is named by a sign record already on disk.
          const signed = new Set(
            auditRecords(tv)
              .filter((a) => a.event === 'sign' && a.result === 'ok')
              .map((a) => String(a.details.rawTxHash)),
          );
          const unrecorded = api.broadcasts.filter(
            (b) => !signed.has(createHash('sha256').update(b.txData, 'utf8').digest('hex')),
          );
          expect(unrecorded.map((b) => b.signatureId)).toEqual([]);
        }
        // Runs vary with the machine's load: most, not all, are killed.
        expect(kills).toBeGreaterThan(5);

        // A last clean run opens the vault (head check) and countersigns what a kill left unsigned.
        const last = await killAfter(tv, api, 120_000);
        expect(last.code, last.stderr.slice(-3000)).toBe(0);
        const raws = new Map<string, Set<string>>();
        for (const b of api.broadcasts)
          raws.set(b.signatureId!, (raws.get(b.signatureId!) ?? new Set<string>()).add(b.txData));
        expect([...raws].filter(([, r]) => r.size > 1).map(([id]) => id)).toEqual([]);
        const records = auditRecords(tv);
        for (const [id, row] of journalRows(tv))
          if (row.state === 'broadcast') expect(raws.get(id)?.has(row.rawTx!), id).toBe(true);
        // The batched path ran: records signed as members of a batch, several transactions' steps in one batch.
        expect(records.some((r) => (r.batch ?? 0) > 0)).toBe(true);
        const verify = await runCli(['audit', 'verify', '--path', tv.path], { env: tv.token.env });
        expect(verify.code, verify.stdout + verify.stderr).toBe(0);
      } finally {
        await api.stop();
      }
    },
  );
});
