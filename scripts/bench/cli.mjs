import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchToken } from './lib.mjs';

const WALLETS = Number(process.env.BENCH_WALLETS ?? 2000);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const main = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const { dir, conf, label, pin } = benchToken();
const password = 'bench-password-of-enough-length';
const env = { ...process.env, SOFTHSM2_CONF: conf, HARDKMS_TOKEN_LABEL: label, TATUM_KMS_PASSWORD: password };
const path = join(dir, 'wallet.dat');

function hardkms(args, extraEnv = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [main, ...args], { env: { ...env, ...extraEnv }, encoding: 'utf8', maxBuffer: 1 << 28 });
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`hardkms ${args[0]} failed (${r.status}): ${r.stderr.slice(0, 400)}`);
  return { secs, stdout: r.stdout };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function row(name, secs, target) {
  console.log(`${name.padEnd(44)} ${secs.toFixed(3).padStart(7)} s   (target <= ${target} s)`);
}

row('hardkms --help (median)', median(Array.from({ length: RUNS }, () => hardkms(['--help']).secs)), 0.25);

hardkms(['init', '--path', path, '--testnet'], { HARDKMS_TOKEN_PIN: pin });
const id = JSON.parse(hardkms(['generatemanagedwallet', 'ETH', '--path', path, '--testnet']).stdout).signatureId;
row('getaddress after unseal (median)', median(Array.from({ length: RUNS }, () => hardkms(['getaddress', id, '0', '--path', path]).secs)), 0.4);

// Fill the store through the batch command, as an operator would (token-generated keys).
execFileSync(process.execPath, [main, 'generatemanagedprivatekeybatch', 'ETH', String(WALLETS - 1), '--path', path, '--testnet'], { env, stdio: 'ignore' });
const exp = hardkms(['export', '--path', path]);
row(`export of ${WALLETS} wallets`, exp.secs, 1);
