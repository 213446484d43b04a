import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WalletStore } from '../../dist/vault/store.js';
import { fillerEntry } from './lib.mjs';

const entry = () => fillerEntry();
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
const key = randomBytes(32);
const path = join(mkdtempSync(join(tmpdir(), 'hardkms-bench-store-')), 'wallet.dat');
let store = WalletStore.create(path);
store.unlock(key, 'bench');
let present = 0;
for (const target of [1_000, 10_000, 100_000]) {
  const t0 = process.hrtime.bigint();
  store.addEntries(Array.from({ length: target - present }, entry));
  const fill = ms(t0);
  present = target;
  const samples = [];
  for (let i = 0; i < 20; i++) {
    const t1 = process.hrtime.bigint();
    store.addEntries([entry()]);
    samples.push(ms(t1));
    present++;
  }
  samples.sort((x, y) => x - y);
  console.log(
    `${String(target).padStart(7)} entries: add one (durable commit) median ${samples[10].toFixed(2)} ms, p95 ${samples[18].toFixed(2)} ms; filling took ${fill.toFixed(0)} ms`,
  );
}
store.close();
let t0 = process.hrtime.bigint();
store = WalletStore.open(path);
store.unlock(key, 'bench');
console.log(`open with ${present} entries: ${ms(t0).toFixed(1)} ms`);
t0 = process.hrtime.bigint();
store.addEntries(Array.from({ length: 10_000 }, entry));
console.log(`10k batch in one transaction: ${ms(t0).toFixed(0)} ms`);
t0 = process.hrtime.bigint();
const n = store.listEntries({ chain: 'ETH', testnet: false }).length;
console.log(`list + verify ${n} rows: ${ms(t0).toFixed(0)} ms`);
store.close();
