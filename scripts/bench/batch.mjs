import { join } from 'node:path';
import { benchToken, fillerEntry } from './lib.mjs';

const KEYS = Number(process.env.BENCH_KEYS ?? 10_000);
const PREFILL = Number(process.env.BENCH_PREFILL ?? 100_000);
const { dir } = benchToken();
const { Vault } = await import('../../dist/vault/vault.js');
const { PasswordProvider } = await import('../../dist/vault/password-provider.js');
const { chainKit } = await import('../../dist/chains/kit.js');
const { generatePrivateKeyBatch } = await import('../../dist/vault/tatum-wallets.js');

const provider = new PasswordProvider(async () => Buffer.from('bench'), { N: 1024, r: 8, p: 1 });
const kit = chainKit('ETH');

async function run(label, prefill) {
  const path = join(dir, `${label}.dat`);
  let vault = await Vault.init({ path, token: {}, tokenPin: Buffer.from('1234'), provider, actor: 'bench' });
  if (prefill > 0) {
    for (let done = 0; done < prefill; done += 10_000)
      vault.store.addEntries(Array.from({ length: Math.min(10_000, prefill - done) }, () => fillerEntry()));
  }
  const t0 = process.hrtime.bigint();
  let last = t0;
  const perChunk = [];
  generatePrivateKeyBatch(vault, kit, false, KEYS, (chunk) => {
    const now = process.hrtime.bigint();
    perChunk.push(chunk.length / (Number(now - last) / 1e9));
    last = now;
  });
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(
    `${label.padEnd(26)} ${KEYS} keys in ${secs.toFixed(1)} s = ${(KEYS / secs).toFixed(0)} keys/s (first chunk ${perChunk[0].toFixed(0)}/s, last chunk ${perChunk.at(-1).toFixed(0)}/s); store now ${vault.store.countEntries()} entries`,
  );
  vault.seal();
}

await run('empty store', 0);
await run(`store with ${PREFILL} entries`, PREFILL);
