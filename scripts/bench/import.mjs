// See scripts/bench/import. A Tatum KMS wallet.dat (spec §5.1 cipher) of BENCH_WALLETS wallets
// (default 25,000: private keys of ETH/BSC/MATIC, and one in 25 a mnemonic wallet with its
// xpub), imported by `hardkms import-legacy` into a password vault (cheap scrypt: the import
// is measured, not the KDF). Wall and CPU seconds beside the 10 s target.
import { spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchToken } from './lib.mjs';

const WALLETS = Number(process.env.BENCH_WALLETS ?? 25_000);
const main = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const { dir, conf, label, pin } = benchToken();
const { encryptLegacy } = await import('../../dist/vault/legacy-cipher-testing.js');
const { getChainAdapter } = await import('../../dist/chains/registry.js');
const { mnemonicToSeed } = await import('../../dist/chains/mnemonic.js');
const { entropyToMnemonic } = await import('bip39');
const cpuHook = fileURLToPath(new URL('./cpu-at-exit.mjs', import.meta.url));
const cpuFile = join(dir, 'cpu.txt');
const path = join(dir, 'wallet.dat');
const legacy = join(dir, 'tatum-wallet.dat');
const env = {
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  SOFTHSM2_CONF: conf,
  HARDKMS_TOKEN_LABEL: label,
  TATUM_KMS_PASSWORD: 'bench-password-of-enough-length',
  HARDKMS_LEGACY_PASSWORD: 'tatum legacy password',
};

console.log(`machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? '?'}, load average ${os.loadavg()[0].toFixed(1)}`);
const store = {};
const chains = ['ETH', 'BSC', 'MATIC'];
for (let i = 0; i < WALLETS; i++) {
  const chain = chains[i % chains.length];
  if (i % 25 === 0) {
    const mnemonic = entropyToMnemonic(randomBytes(32));
    store[randomUUID()] = {
      mnemonic,
      xpub: getChainAdapter(chain).xpubFromSeed(mnemonicToSeed(Buffer.from(mnemonic)), true),
      chain,
      testnet: true,
    };
  } else {
    store[randomUUID()] = { privateKey: `0x${randomBytes(32).toString('hex')}`, chain, testnet: true };
  }
}
writeFileSync(legacy, encryptLegacy(Buffer.from(JSON.stringify(store)), Buffer.from(env.HARDKMS_LEGACY_PASSWORD)));

function hardkms(args, extra = {}) {
  writeFileSync(cpuFile, '');
  const t = process.hrtime.bigint();
  const prof =
    process.env.BENCH_PROF_DIR && args[0] === 'import-legacy'
      ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_PROF_DIR]
      : [];
  const r = spawnSync(process.execPath, [...prof, '--import', cpuHook, main, ...args, '--path', path], {
    env: { ...env, ...extra, BENCH_CPU_FILE: cpuFile },
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  const wall = Number(process.hrtime.bigint() - t) / 1e9;
  if (r.status !== 0) throw new Error(`hardkms ${args[0]} failed (${r.status}): ${r.stderr.slice(-600)}`);
  const [cpu, rss] = readFileSync(cpuFile, 'utf8').trim().split(' ').map(Number);
  return { wall, cpu, rss, stdout: r.stdout };
}

hardkms(['init', '--testnet'], { HARDKMS_TOKEN_PIN: pin });
const r = hardkms(['import-legacy', legacy]);
const summary = JSON.parse(r.stdout);
const imported = Object.values(summary.imported ?? {}).reduce(
  (n, kinds) => n + Object.values(kinds).reduce((a, b) => a + b, 0),
  0,
);
if (imported !== WALLETS) console.error(`  ! ${imported}/${WALLETS} imported`);
const row = (label, value, unit, target) =>
  console.log(`${label.padEnd(52)} ${value.padStart(8)} ${unit.padEnd(8)} (target ${target})`);
row(`import-legacy of ${WALLETS} wallets (${imported} imported)`, r.wall.toFixed(2), 's wall', '<= 10 s');
row('  CPU', r.cpu.toFixed(2), 's', 'none');
row('  peak memory', r.rss.toFixed(0), 'MB', 'none');
