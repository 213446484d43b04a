// See scripts/bench/ha. Each run: a fresh database, N daemons started and polling, then
// BENCH_HA_TX pending transactions queued at once; the clock runs from the queueing to the
// last broadcast the server accepted. Latency per transaction: queued -> accepted (the
// server stamps both). Claim overhead: claims taken per transaction summed over the daemons'
// /metrics, and skips (an id another daemon held) per transaction.
import os from 'node:os';
import { FakeTatumApi } from '../lib/tatum-api-server.js';
import { startPostgres } from '../../test/support/postgres.js';
import { createTestVault } from '../../test/support/vault.js';
import { addPrivateKey, testKey } from '../../test/e2e/support.js';
import { HaCluster, metricValue, waitUntil } from '../../test/e2e/ha-support.js';

const TX = Number(process.env.BENCH_HA_TX ?? 300);
const WALLETS = 30;
console.log(
  `machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? '?'}, load average ${os.loadavg()[0]!.toFixed(1)}`,
);
const pg = await startPostgres();
process.env.PGPASSFILE = pg.passFile;
const quantile = (xs: number[], q: number) =>
  xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? NaN;
const rows: string[] = [];
try {
  // One vault and token for the three runs (SoftHSM2 reads its configuration once per process).
  const tv = await createTestVault({ testnetOnly: true, store: pg.createDatabase('bench') });
  const wallets = Array.from({ length: WALLETS }, (_, i) => addPrivateKey(tv.vault, 'ETH', true, testKey(i + 1)));
  tv.vault.seal('bench setup');
  let nonceBase = 0;
  for (const n of [1, 2, 3]) {
    const api = await FakeTatumApi.start();
    const cluster = new HaCluster({ pg, tv, api, chains: 'ETH', period: 0.2 });
    try {
      await cluster.start(n);
      for (let i = 0; i < n; i++) {
        await waitUntil(
          () => cluster.daemons[i]!.started() || cluster.daemons[i]!.child.exitCode !== null,
          180_000,
          `daemon ${i}`,
        );
        if (!cluster.daemons[i]!.started())
          throw new Error(`daemon ${i} ended: ${cluster.daemons[i]!.lines.slice(-5).join('\n')}`);
      }
      const queued = new Map<string, number>();
      const t0 = performance.now();
      for (let i = 0; i < TX; i++) {
        const w = wallets[i % WALLETS]!;
        const id = api.queue({
          chain: 'ETH',
          hashes: [w],
          serializedTransaction: JSON.stringify({
            to: '0x1111111111111111111111111111111111111111',
            value: '1',
            gasPrice: '1000000000',
            gas: 21000,
            nonce: nonceBase + Math.floor(i / WALLETS),
          }),
        });
        queued.set(id, performance.now());
      }
      const done = new Map<string, number>();
      await waitUntil(
        () => {
          for (const b of api.broadcasts)
            if (b.txId !== undefined && b.signatureId !== undefined && !done.has(b.signatureId))
              done.set(b.signatureId, performance.now());
          return done.size >= TX;
        },
        900_000,
        'every broadcast',
      );
      const seconds = (performance.now() - t0) / 1000;
      nonceBase += Math.ceil(TX / WALLETS);
      const lat = [...done].map(([id, t]) => (t - queued.get(id)!) / 1000);
      let taken = 0;
      let skipped = 0;
      for (let i = 0; i < n; i++) {
        const m = await cluster.metrics(i);
        taken += metricValue(m, 'hardkms_claims_taken_total');
        skipped += metricValue(m, 'hardkms_pending_seen_total');
      }
      rows.push(
        `| ${n} | ${(TX / seconds).toFixed(1)} | ${quantile(lat, 0.5).toFixed(2)} s | ${quantile(lat, 0.99).toFixed(2)} s | ${(taken / TX).toFixed(2)} | ${(skipped / TX).toFixed(2)} |`,
      );
      console.log(rows[rows.length - 1]);
    } finally {
      await cluster.stop();
      await api.stop();
    }
  }
} finally {
  pg.destroy();
}
console.log(
  `\n${TX} pending ETH transactions (${WALLETS} private-key wallets in one SoftHSM2 token), all queued at once; daemons polling every 0.2 s`,
);
console.log(
  '| daemons | signed/s (no target in issue 16: more daemons are for availability) | p50 pending->broadcast | p99 | claims taken per tx (target 1.00) | times each tx was seen by a daemon |',
);
console.log('|---|---|---|---|---|---|');
for (const r of rows) console.log(r);
