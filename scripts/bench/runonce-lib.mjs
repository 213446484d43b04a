// Shared by scripts/bench/daemon and scripts/bench/runonce: the Tatum-compatible API in its own
// process, the chain mix of pending transactions (6 each of BTC, LTC, DOGE, ETH, BSC,
// MATIC), the password vault they sign from, and `hardkms daemon --runOnce` as the process an
// operator's cron runs, measured by cpu-at-exit.mjs (CPU seconds, peak memory).
import { fork, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const MIX_CHAINS = ['BTC', 'LTC', 'DOGE', 'ETH', 'BSC', 'MATIC'];
export const BENCH_PASSWORD = 'bench password of enough length';
const EVM = new Set(['ETH', 'BSC', 'MATIC']);

/** tatum-stub.mjs in a process of its own (its CPU is not the daemon's): its URL, a JSON client, stop(). */
export async function startTatumStub() {
  const stub = fork(fileURLToPath(new URL('./tatum-stub.mjs', import.meta.url)), [], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const port = await new Promise((resolve) => stub.stdout.once('data', (d) => resolve(Number(String(d).trim()))));
  const apiUrl = `http://127.0.0.1:${port}`;
  /** GET without a body, POST of JSON with one; the answer's JSON. */
  async function api(path, body) {
    const r = await fetch(
      apiUrl + path,
      body === undefined
        ? {}
        : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
    );
    return r.json();
  }
  return { apiUrl, api, stop: () => stub.disconnect() };
}

/** A password vault (cheap scrypt parameters, so the KDF does not dominate) on the token of benchToken(). */
export async function benchPasswordVault(path) {
  const { Vault } = await import('../../dist/vault/vault.js');
  const { PasswordProvider } = await import('../../dist/vault/password-provider.js');
  const provider = new PasswordProvider(async () => Buffer.from(BENCH_PASSWORD), { N: 2 ** 10, r: 8, p: 1 });
  const vault = await Vault.init({
    path,
    token: {},
    tokenPin: Buffer.from('1234'),
    provider,
    testnetOnly: true,
    actor: 'bench',
  });
  return { vault, provider, Vault };
}

/** Six token-generated private-key wallets of `chain` in `vault`: their ids and public keys. */
export async function mixWallets(vault, chain) {
  const { generatePrivateKeys } = await import('../../dist/vault/entry-secrets.js');
  return generatePrivateKeys(
    vault,
    { chain, testnet: true, publicData: (pk) => ({ publicKey: Buffer.from(pk).toString('hex') }) },
    6,
  ).map((e) => ({ id: e.signatureId, pub: Buffer.from(e.publicData.publicKey, 'hex') }));
}

/**
 * A builder of the mix's pending transactions: an EVM chain's complete legacy payload, or for
 * BTC/LTC/DOGE one P2PKH input of the wallet's own key in Tatum's bitcore JSON.
 */
export async function mixPendingBuilder() {
  const bitcoin = await import('bitcoinjs-lib');
  return function pending(chain, wallet, nonce, id) {
    if (EVM.has(chain)) {
      const tx = {
        to: `0x${randomBytes(20).toString('hex')}`,
        value: '1000',
        gasPrice: '1000000000',
        gas: 21000,
        nonce,
      };
      return { id, chain, serializedTransaction: JSON.stringify(tx), hashes: [wallet.id] };
    }
    const script = bitcoin.payments.p2pkh({ pubkey: wallet.pub }).output;
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
    return { id, chain, serializedTransaction: JSON.stringify(body), hashes: [wallet.id] };
  };
}

const cpuHook = fileURLToPath(new URL('./cpu-at-exit.mjs', import.meta.url));
export const THIS_MAIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

/**
 * A runner of `hardkms daemon --runOnce --chain <MIX_CHAINS>` over `path` against the stub at
 * `apiUrl` (4-eye approval at its /approve): run(main, { profDir, wrap, label }) returns wall and
 * CPU seconds and the peak resident memory in MB. profDir: a CPU profile there; wrap: a command
 * line to run node under (strace ...).
 */
export function runOnceRunner({ path, conf, apiUrl }) {
  const cpuFile = join(mkdtempSync(join(os.tmpdir(), 'hardkms-bench-cpu-')), 'cpu.txt');
  return function run(main = THIS_MAIN, { profDir, wrap = [], label = 'daemon' } = {}) {
    writeFileSync(cpuFile, '');
    if (profDir) mkdirSync(profDir, { recursive: true });
    const prof = profDir ? ['--cpu-prof', '--cpu-prof-dir', profDir] : [];
    const t = process.hrtime.bigint();
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
          TATUM_KMS_PASSWORD: BENCH_PASSWORD,
          TATUM_API_URL: apiUrl,
          TATUM_API_KEY: 'bench',
          BENCH_CPU_FILE: cpuFile,
        },
        encoding: 'utf8',
      },
    );
    const wall = Number(process.hrtime.bigint() - t) / 1e9;
    if (r.status !== 0) console.error(`  ! ${label} --runOnce exit ${r.status}: ${r.stderr.slice(-600)}`);
    const [cpu, rss] = readFileSync(cpuFile, 'utf8').trim().split(' ').map(Number);
    return { wall, cpu, rss };
  };
}
