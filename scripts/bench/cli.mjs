import { execFileSync, spawnSync } from 'node:child_process';
import { generateX25519Identity, identityToRecipient } from 'age-encryption';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
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

const cpuHook = fileURLToPath(new URL('./cpu-at-exit.mjs', import.meta.url));
const cpuFile = join(dir, 'cpu.txt');

/** Runs hardkms; wall seconds and the child's own CPU seconds (user + system). */
function hardkms(args, extraEnv = {}, input = undefined) {
  const t0 = process.hrtime.bigint();
  const e = { ...env, ...extraEnv };
  for (const k of Object.keys(e)) if (e[k] === undefined) delete e[k];
  writeFileSync(cpuFile, '');
  const r = spawnSync(
    process.execPath,
    [
      ...(process.env.BENCH_PROF_DIR && args[0] === (process.env.BENCH_PROF_CMD ?? 'getaddress')
        ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_PROF_DIR]
        : []),
      '--import',
      cpuHook,
      main,
      ...args,
    ],
    {
      env: { ...e, BENCH_CPU_FILE: cpuFile },
      encoding: 'utf8',
      maxBuffer: 1 << 28,
      ...(input === undefined ? {} : { input }),
    },
  );
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = Number(readFileSync(cpuFile, 'utf8').trim().split(' ')[0] || NaN);
  if (r.status !== 0) throw new Error(`hardkms ${args[0]} failed (${r.status}): ${r.stderr.slice(0, 400)}`);
  return { secs, cpu, stdout: r.stdout };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Median wall and CPU seconds of `runs` runs. */
function measure(args, extraEnv = {}, runs = RUNS, input = undefined) {
  const rs = Array.from({ length: runs }, () => hardkms(args, extraEnv, input));
  return { secs: median(rs.map((r) => r.secs)), cpu: median(rs.map((r) => r.cpu)) };
}

function row(name, { secs, cpu }, target) {
  const goal = target === undefined ? 'no target' : `target <= ${target} s`;
  console.log(
    `${name.padEnd(44)} ${secs.toFixed(3).padStart(7)} s wall ${cpu.toFixed(3).padStart(7)} s CPU   (${goal})`,
  );
}

console.log(
  `machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? '?'}, load average ${os.loadavg()[0].toFixed(1)}; medians of ${RUNS} runs`,
);

row('hardkms --help', measure(['--help']), 0.25);

// getaddress on a YubiKey-gated vault (the emulator driver, 2 of 3: what production runs, minus
// the touches), then on a password vault, whose scrypt KDF (a security parameter) costs about 1 s alone.
{
  const gated = join(dir, 'gated');
  const emu = { HARDKMS_YUBIKEY_EMULATOR_DIR: join(dir, 'emulator'), TATUM_KMS_PASSWORD: undefined };
  mkdirSync(emu.HARDKMS_YUBIKEY_EMULATOR_DIR);
  mkdirSync(gated);
  const gpath = join(gated, 'wallet.dat');
  // No terminal here: the operators' recovery shares go to files encrypted to throwaway age keys.
  const to = await Promise.all([1, 2, 3].map(async () => identityToRecipient(await generateX25519Identity())));
  const recovery = ['--recovery-out', join(gated, 'shares'), '--recovery-to', to.join(',')];
  hardkms(
    ['init', '--path', gpath, '--testnet', '--yubikeys', '3', '--threshold', '2', '--driver', 'emulator', ...recovery],
    {
      ...emu,
      HARDKMS_TOKEN_PIN: pin,
    },
  );
  const gid = JSON.parse(
    hardkms(['generatemanagedwallet', 'ETH', '--path', gpath, '--testnet'], emu).stdout,
  ).signatureId;
  row('getaddress, YubiKey gate 2 of 3', measure(['getaddress', gid, '0', '--path', gpath], emu), 0.4);
  // export on the gated vault: what an operator runs (each unsealing operator confirms the reveal).
  execFileSync(
    process.execPath,
    [main, 'generatemanagedprivatekeybatch', 'ETH', String(WALLETS - 1), '--path', gpath, '--testnet'],
    {
      env: { ...Object.fromEntries(Object.entries({ ...env, ...emu }).filter(([, v]) => v !== undefined)) },
      stdio: 'ignore',
    },
  );
  row(
    `export of ${WALLETS} wallets, YubiKey gate 2 of 3`,
    measure(['export', '--path', gpath], emu, 3, 'yes\nyes\nyes\n'),
    1,
  );
}
// A second token for the password vault (one vault per token).
execFileSync('softhsm2-util', ['--init-token', '--free', '--label', `${label}-pw`, '--pin', pin, '--so-pin', '5678'], {
  env,
  stdio: 'ignore',
});
env.HARDKMS_TOKEN_LABEL = `${label}-pw`;
hardkms(['init', '--path', path, '--testnet'], { HARDKMS_TOKEN_PIN: pin });
const id = JSON.parse(hardkms(['generatemanagedwallet', 'ETH', '--path', path, '--testnet']).stdout).signatureId;
row('getaddress, password vault (scrypt KDF)', measure(['getaddress', id, '0', '--path', path]));

// Fill the store through the batch command, as an operator would (token-generated keys).
execFileSync(
  process.execPath,
  [main, 'generatemanagedprivatekeybatch', 'ETH', String(WALLETS - 1), '--path', path, '--testnet'],
  { env, stdio: 'ignore' },
);
row(`export of ${WALLETS} wallets, password vault (scrypt KDF)`, measure(['export', '--path', path], {}, 1));
