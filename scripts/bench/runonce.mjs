// See scripts/bench/runonce. `hardkms daemon --runOnce` as the process an operator's cron runs,
// alone (the last rows of scripts/bench/daemon, without its in-process bursts): a 25,000-wallet
// store, a Tatum-compatible API in its own process (tatum-stub.mjs), then BENCH_RUNS runs with
// nothing pending and BENCH_RUNS runs over 36 pending (6 each of BTC, LTC, DOGE, ETH, BSC, MATIC;
// 4-eye approval on). BENCH_BEFORE_DIST=/path/to/other/dist runs that build's CLI on the same
// store, alternating with this one (side by side, same minute). BENCH_PROF_DIR=dir writes a CPU
// profile of each run there. BENCH_WRAP='strace -f -o /tmp/x-%' runs each under that command
// (% is the build and run's name): which files a run opens, how many fsyncs it does.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { benchToken, fillerEntry } from './lib.mjs';
import {
  MIX_CHAINS,
  THIS_MAIN,
  benchPasswordVault,
  mixPendingBuilder,
  mixWallets,
  runOnceRunner,
  startTatumStub,
} from './runonce-lib.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const WALLETS = 25_000;

const { conf } = benchToken('hardkms');
const pendingTx = await mixPendingBuilder();

console.log(`machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? '?'}, load average ${os.loadavg()[0].toFixed(1)}`);

const { apiUrl, api, stop } = await startTatumStub();

const path = join(mkdtempSync(join(os.tmpdir(), 'hardkms-bench-runonce-')), 'wallet.dat');
const { vault } = await benchPasswordVault(path);
const wallets = new Map();
for (const chain of MIX_CHAINS) wallets.set(chain, await mixWallets(vault, chain));
for (let done = vault.store.countEntries(); done < WALLETS; done += 5000)
  vault.store.addEntries(
    Array.from({ length: Math.min(5000, WALLETS - done) }, () => ({ ...fillerEntry('ETH'), testnet: true })),
  );
console.log(`store: ${vault.store.countEntries()} wallets`);
vault.seal('bench setup');

let seq = 0;
function pending(chain, i) {
  const id = `${process.pid.toString(16)}${(seq++).toString(16)}`.padStart(24, '0');
  return pendingTx(chain, wallets.get(chain)[i % 6], i, id);
}

const builds = [['this', THIS_MAIN]];
if (process.env.BENCH_BEFORE_DIST) builds.push(['before', join(process.env.BENCH_BEFORE_DIST, 'cli/main.js')]);
const profDir = process.env.BENCH_PROF_DIR;
const runDaemon = runOnceRunner({ path, conf, apiUrl });

function runOnce(name, main, tag) {
  const wrap = process.env.BENCH_WRAP ? process.env.BENCH_WRAP.replaceAll('%', `${name}-${tag}`).split(' ') : [];
  return runDaemon(main, { profDir: profDir && join(profDir, `${name}-${tag}`), wrap, label: `${name} daemon` });
}

const results = new Map(builds.map(([name]) => [name, { empty: [], full: [] }]));
for (let run = 0; run < RUNS; run++) {
  for (const [name, main] of builds) {
    results.get(name).empty.push(runOnce(name, main, `empty${run}`));
    await api('/bench/reset', {});
    await api('/bench/queue', { items: Array.from({ length: 36 }, (_, i) => pending(MIX_CHAINS[i % 6], i)) });
    results.get(name).full.push(runOnce(name, main, `full${run}`));
    // A figure over a run that signed less than all 36 would be a false one.
    const stats = await api('/bench/stats');
    if (stats.broadcasts !== 36 || stats.errors !== 0 || stats.pending !== 0) {
      console.error(
        `  ! ${name} run ${run}: ${stats.broadcasts} of 36 broadcast, ${stats.errors} errors, ${stats.pending} left`,
      );
      process.exitCode = 1;
    }
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
function row(label, value, unit, target) {
  console.log(`${label.padEnd(64)} ${value.padStart(9)} ${unit.padEnd(8)} (target ${target})`);
}
for (const [name, r] of results) {
  const e = (k) => median(r.empty.map((x) => x[k]));
  const f = (k) => median(r.full.map((x) => x[k]));
  console.log(`${name} build, median of ${RUNS} (load average now ${os.loadavg()[0].toFixed(1)}):`);
  row(`  --runOnce, 36 pending, ${WALLETS} wallets: CPU`, f('cpu').toFixed(2), 's', '<= 0.9 s (wall)');
  row(`    wall`, f('wall').toFixed(2), 's', '<= 0.9 s');
  row(`    peak memory`, f('rss').toFixed(0), 'MB', '<= 120 MB');
  row(`  nothing pending: CPU`, e('cpu').toFixed(2), 's', 'none');
  row(`    wall`, e('wall').toFixed(2), 's', 'none');
  row(`  per transaction beyond start-up, CPU`, (((f('cpu') - e('cpu')) / 36) * 1000).toFixed(1), 'ms', '<= 10 ms');
}
stop();
