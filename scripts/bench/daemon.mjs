// See scripts/bench/daemon. Runs the real daemon cycle in-process (dist/), real SoftHSM2,
// real wallet.dat, real HTTP to a minimal local API that answers like Tatum (§2.2, §2.4, §2.6).
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keccak256 } from 'ethers';
import { benchToken, fillerEntry } from './lib.mjs';

const TX = Number(process.env.BENCH_TX ?? 1000);
const WALLETS = Number(process.env.BENCH_WALLETS ?? 10_000);
const KEY_WALLETS = 200;
const MNEMONIC_WALLETS = 20;

benchToken('hardkms');
const { Vault } = await import('../../dist/vault/vault.js');
const { PasswordProvider } = await import('../../dist/vault/password-provider.js');
const { generatePrivateKeys } = await import('../../dist/vault/wallets.js');
const { storeMnemonicEntry } = await import('../../dist/vault/managed.js');
const { chainKit } = await import('../../dist/chains/kit.js');
const { Journal } = await import('../../dist/signer/journal.js');
const { PendingProcessor } = await import('../../dist/signer/process-pending.js');
const { SignerDaemon } = await import('../../dist/signer/daemon.js');
const { TatumClient } = await import('../../dist/signer/tatum-client.js');
const { TatumBroadcaster } = await import('../../dist/signer/broadcast.js');
const { NodeEvmFiller } = await import('../../dist/signer/evm-fill.js');

// ---------------------------------------------------------------- a minimal Tatum API
const queue = new Map(); // id -> pending tx
const sentAt = new Map(); // id -> hrtime when handed out
const latencies = [];
let errors = 0;
const server = http.createServer(async (req, res) => {
  let body = '';
  for await (const c of req) body += c;
  const json = body ? JSON.parse(body) : undefined;
  const reply = (status, value) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(value === undefined ? '' : JSON.stringify(value));
  };
  if (req.method === 'POST' && req.url.startsWith('/v3/kms/pending/')) {
    const posted = new Set(json.signatureIds);
    const out = [...queue.values()].filter((p) => p.hashes.some((h) => posted.has(h)));
    const now = process.hrtime.bigint();
    for (const p of out) sentAt.set(p.id, now);
    return reply(200, out);
  }
  if (req.method === 'POST' && req.url === '/v3/ethereum/broadcast') {
    const t = sentAt.get(json.signatureId);
    if (t !== undefined) latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
    queue.delete(json.signatureId);
    return reply(200, { txId: keccak256(json.txData) });
  }
  if (req.method === 'POST' && req.url === '/v3/tatum/kms/batch') {
    errors += json.errors.length;
    for (const e of json.errors.slice(0, 3)) console.error('error batch:', e.error);
    return reply(200);
  }
  reply(404, {});
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const apiUrl = `http://127.0.0.1:${server.address().port}`;

// ---------------------------------------------------------------- vault with WALLETS wallets
const path = join(mkdtempSync(join(tmpdir(), 'hardkms-bench-daemon-')), 'wallet.dat');
const provider = new PasswordProvider(async () => Buffer.from('bench password'), { N: 2 ** 10, r: 8, p: 1 });
const vault = await Vault.init({ path, token: {}, tokenPin: Buffer.from('1234'), provider, testnetOnly: true, actor: 'bench' });
let t0 = process.hrtime.bigint();
const keys = generatePrivateKeys(vault, { chain: 'ETH', testnet: true, publicData: () => ({}) }, KEY_WALLETS).map((e) => e.signatureId);
const mnemonics = [];
const kit = chainKit('ETH');
for (let i = 0; i < MNEMONIC_WALLETS; i++) mnemonics.push(storeMnemonicEntry(vault, kit, true, kit.generateMnemonic(randomBytes(32))).signatureId);
const filler = WALLETS - KEY_WALLETS - MNEMONIC_WALLETS;
for (let done = 0; done < filler; done += 5000) {
  vault.store.addEntries(Array.from({ length: Math.min(5000, filler - done) }, () => ({ ...fillerEntry('ETH'), testnet: true })));
}
console.log(
  `store: ${vault.store.countEntries()} ETH testnet wallets (${KEY_WALLETS} token keys, ${MNEMONIC_WALLETS} mnemonics, rest filler) in ${ms(t0).toFixed(0)} ms`,
);

const tatum = new TatumClient({ baseUrl: apiUrl, apiKey: 'bench', clientVersion: 'bench' });
const journal = new Journal(vault.store);
const processor = new PendingProcessor({
  vault,
  journal,
  testnet: true,
  broadcaster: new TatumBroadcaster(tatum),
  evm: new NodeEvmFiller(() => 11155111n, new Map()),
  log: () => {},
});
const daemon = new SignerDaemon(vault, tatum, processor, { chains: ['ETH'], testnet: true, periodMs: 5000 }, () => {});

let seq = 0;
function pending(hashes, extra = {}) {
  const id = (seq++).toString(16).padStart(24, '0');
  const tx = { to: `0x${randomBytes(20).toString('hex')}`, value: '1000', gasPrice: '1000000000', gas: 21000, nonce: seq };
  queue.set(id, { id, chain: 'ETH', serializedTransaction: JSON.stringify(tx), hashes, ...extra });
  return id;
}

async function phase(label, n, make) {
  for (let i = 0; i < n; i++) make(i);
  latencies.length = 0;
  const cpu0 = process.cpuUsage();
  const t = process.hrtime.bigint();
  const r = await daemon.runCycle();
  const wall = ms(t);
  const cpu = process.cpuUsage(cpu0);
  if (r.broadcast !== n) console.error(`  ! ${label}: ${r.broadcast}/${n} broadcast, ${r.failed} failed`);
  console.log(
    `${label.padEnd(34)} ${String(n).padStart(5)} tx: ${((n / wall) * 1000).toFixed(0).padStart(5)} tx/s end to end (${(wall / n).toFixed(2)} ms/tx wall, ${((cpu.user + cpu.system) / 1000 / n).toFixed(2)} ms/tx CPU)`,
  );
}

const half = Math.floor(TX / 2);
await phase('private-key wallets (in-token)', half, (i) => pending([keys[i % keys.length]]));
await phase('mnemonic wallets (host, wiped)', TX - half, (i) => pending([mnemonics[i % mnemonics.length]], { index: i % 50 }));

// Pending-to-broadcast latency of a lone transaction (no queue ahead of it).
const lone = [];
for (let i = 0; i < 30; i++) {
  latencies.length = 0;
  pending([keys[i % keys.length]]);
  await daemon.runCycle();
  lone.push(latencies[0]);
}
lone.sort((a, b) => a - b);
console.log(`pending-to-broadcast latency, one tx at a time: median ${lone[15].toFixed(1)} ms, p90 ${lone[27].toFixed(1)} ms`);

// One poll cycle with 25,000 ids and nothing pending: what the daemon costs while idle.
const more = 25_000 - vault.store.countEntries();
if (more > 0) vault.store.addEntries(Array.from({ length: more }, () => ({ ...fillerEntry('ETH'), testnet: true })));
const samples = [];
for (let i = 0; i < 10; i++) {
  const cpu0 = process.cpuUsage();
  const t = process.hrtime.bigint();
  await daemon.runCycle();
  const cpu = process.cpuUsage(cpu0);
  samples.push({ cpu: (cpu.user + cpu.system) / 1000, wall: ms(t) });
}
samples.sort((a, b) => a.cpu - b.cpu);
console.log(
  `idle poll cycle, ${daemon.walletIds('ETH').length} ids: median ${samples[5].cpu.toFixed(1)} ms CPU (${samples[5].wall.toFixed(1)} ms wall) (target < 50 ms CPU)`,
);
if (errors > 0) console.log(`${errors} errors reported`);

tatum.close();
vault.seal('bench end');
server.close();

function ms(t) {
  return Number(process.hrtime.bigint() - t) / 1e6;
}
