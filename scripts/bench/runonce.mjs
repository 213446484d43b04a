// See scripts/bench/runonce. `hardkms daemon --runOnce` as the process an operator's cron runs,
// alone (the last rows of scripts/bench/daemon, without its in-process bursts): a 25,000-wallet
// store, a Tatum-compatible API in its own process (tatum-stub.mjs), then BENCH_RUNS runs with
// nothing pending and BENCH_RUNS runs over 36 pending (6 each of BTC, LTC, DOGE, ETH, BSC, MATIC;
// 4-eye approval on). BENCH_BEFORE_DIST=/path/to/other/dist runs that build's CLI on the same
// store, alternating with this one (side by side, same minute). BENCH_PROF_DIR=dir writes a CPU
// profile of each run there. BENCH_WRAP='strace -f -o /tmp/x-%' runs each under that command
// (% is the build and run's name): which files a run opens, how many fsyncs it does.
import { fork, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchToken, fillerEntry } from './lib.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const WALLETS = 25_000;
const PASSWORD = 'bench password of enough length';
const MIX_CHAINS = ['BTC', 'LTC', 'DOGE', 'ETH', 'BSC', 'MATIC'];

const { conf } = benchToken('hardkms');
const { Vault } = await import('../../dist/vault/vault.js');
const { PasswordProvider } = await import('../../dist/vault/password-provider.js');
const { generatePrivateKeys } = await import('../../dist/vault/entry-secrets.js');
const bitcoin = await import('bitcoinjs-lib');

console.log(`machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? '?'}, load average ${os.loadavg()[0].toFixed(1)}`);

const stub = fork(fileURLToPath(new URL('./tatum-stub.mjs', import.meta.url)), [], {
  stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
});
const port = await new Promise((resolve) => stub.stdout.once('data', (d) => resolve(Number(String(d).trim()))));
const apiUrl = `http://127.0.0.1:${port}`;
async function api(path, body) {
  const r = await fetch(apiUrl + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return r.json();
}

const path = join(mkdtempSync(join(os.tmpdir(), 'hardkms-bench-runonce-')), 'wallet.dat');
const provider = new PasswordProvider(async () => Buffer.from(PASSWORD), { N: 2 ** 10, r: 8, p: 1 });
const vault = await Vault.init({
  path,
  token: {},
  tokenPin: Buffer.from('1234'),
  provider,
  testnetOnly: true,
  actor: 'bench',
});
const wallets = new Map();
for (const chain of MIX_CHAINS)
  wallets.set(
    chain,
    generatePrivateKeys(
      vault,
      { chain, testnet: true, publicData: (pk) => ({ publicKey: Buffer.from(pk).toString('hex') }) },
      6,
    ).map((e) => ({ id: e.signatureId, pub: Buffer.from(e.publicData.publicKey, 'hex') })),
  );
for (let done = vault.store.countEntries(); done < WALLETS; done += 5000)
  vault.store.addEntries(
    Array.from({ length: Math.min(5000, WALLETS - done) }, () => ({ ...fillerEntry('ETH'), testnet: true })),
  );
console.log(`store: ${vault.store.countEntries()} wallets`);
vault.seal('bench setup');

let seq = 0;
function pending(chain, i) {
  const w = wallets.get(chain)[i % 6];
  const id = `${process.pid.toString(16)}${(seq++).toString(16)}`.padStart(24, '0');
  if (['ETH', 'BSC', 'MATIC'].includes(chain)) {
    const tx = {
      to: `0x${randomBytes(20).toString('hex')}`,
      value: '1000',
      gasPrice: '1000000000',
      gas: 21000,
      nonce: i,
    };
    return { id, chain, serializedTransaction: JSON.stringify(tx), hashes: [w.id] };
  }
  const script = bitcoin.payments.p2pkh({ pubkey: w.pub }).output;
  const to = bitcoin.payments.p2pkh({ hash: randomBytes(20) }).output;
  const prev = randomBytes(32).toString('hex');
  const t = new bitcoin.Transaction();
  t.version = 2;
  t.addInput(Buffer.from(prev, 'hex').reverse(), 0, 0xffffffff);
  t.addOutput(to, 90_000n);
  const body = {
    hash: t.getId(),
    version: 2,
    inputs: [
      {
        prevTxId: prev,
        outputIndex: 0,
        sequenceNumber: 0xffffffff,
        script: '',
        scriptString: '',
        output: { satoshis: 100_000, script: Buffer.from(script).toString('hex') },
      },
    ],
    outputs: [{ satoshis: 90_000, script: Buffer.from(to).toString('hex') }],
    nLockTime: 0,
  };
  return { id, chain, serializedTransaction: JSON.stringify(body), hashes: [w.id] };
}

const cpuHook = fileURLToPath(new URL('./cpu-at-exit.mjs', import.meta.url));
const cpuFile = join(mkdtempSync(join(os.tmpdir(), 'hardkms-bench-cpu-')), 'cpu.txt');
const builds = [['this', fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url))]];
if (process.env.BENCH_BEFORE_DIST) builds.push(['before', join(process.env.BENCH_BEFORE_DIST, 'cli/main.js')]);
const profDir = process.env.BENCH_PROF_DIR;

function runOnce(name, main, tag) {
  writeFileSync(cpuFile, '');
  const prof = profDir ? ['--cpu-prof', '--cpu-prof-dir', join(profDir, `${name}-${tag}`)] : [];
  if (profDir) mkdirSync(join(profDir, `${name}-${tag}`), { recursive: true });
  const t = process.hrtime.bigint();
  const wrap = process.env.BENCH_WRAP ? process.env.BENCH_WRAP.replaceAll('%', `${name}-${tag}`).split(' ') : [];
  const r = spawnSync(
    wrap[0] ?? process.execPath,
    [
      ...wrap.slice(1),
      ...(wrap.length ? [process.execPath] : []),
      ...prof,
      '--import',
      cpuHook,
      main,
      'daemon',
      '--runOnce',
      '--testnet',
      '--chain',
      MIX_CHAINS.join(','),
      '--path',
      path,
      '--externalUrl',
      `${apiUrl}/approve`,
    ],
    {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        SOFTHSM2_CONF: conf,
        TATUM_KMS_PASSWORD: PASSWORD,
        TATUM_API_URL: apiUrl,
        TATUM_API_KEY: 'bench',
        BENCH_CPU_FILE: cpuFile,
      },
      encoding: 'utf8',
    },
  );
  const wall = Number(process.hrtime.bigint() - t) / 1e9;
  if (r.status !== 0) console.error(`  ! ${name} daemon --runOnce exit ${r.status}: ${r.stderr.slice(-600)}`);
  const [cpu, rss] = readFileSync(cpuFile, 'utf8').trim().split(' ').map(Number);
  return { wall, cpu, rss };
}

const results = new Map(builds.map(([name]) => [name, { empty: [], full: [] }]));
for (let run = 0; run < RUNS; run++) {
  for (const [name, main] of builds) {
    results.get(name).empty.push(runOnce(name, main, `empty${run}`));
    await api('/bench/queue', { items: Array.from({ length: 36 }, (_, i) => pending(MIX_CHAINS[i % 6], i)) });
    results.get(name).full.push(runOnce(name, main, `full${run}`));
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
stub.disconnect();
