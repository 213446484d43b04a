import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const KEYS = Number(process.env.BENCH_KEYS ?? 10_000);
const PREFILL = Number(process.env.BENCH_PREFILL ?? 100_000);
const dir = mkdtempSync(join(tmpdir(), 'hardkms-bench-batch-'));
mkdirSync(join(dir, 'tokens'));
const conf = join(dir, 'softhsm2.conf');
writeFileSync(conf, readFileSync(new URL('../../hsm/softhsm2.conf.template', import.meta.url), 'utf8').replaceAll('@TOKEN_DIR@', join(dir, 'tokens')));
execFileSync('softhsm2-util', ['--init-token', '--free', '--label', 'hardkms', '--pin', '1234', '--so-pin', '5678'], {
  env: { ...process.env, SOFTHSM2_CONF: conf },
  stdio: 'ignore',
});
process.env.SOFTHSM2_CONF = conf;
const { Vault } = await import('../../dist/vault/vault.js');
const { PasswordProvider } = await import('../../dist/vault/password-provider.js');
const { chainKit } = await import('../../dist/chains/kit.js');
const { generatePrivateKeyBatch } = await import('../../dist/vault/managed.js');

const provider = new PasswordProvider(async () => Buffer.from('bench'), { N: 1024, r: 8, p: 1 });
const kit = chainKit('ETH');

async function run(label, prefill) {
  const path = join(dir, `${label}.dat`);
  let vault = await Vault.init({ path, token: {}, tokenPin: Buffer.from('1234'), provider, actor: 'bench' });
  if (prefill > 0) {
    const filler = () => ({
      signatureId: randomUUID(),
      chain: 'ETH',
      testnet: false,
      kind: 'privateKey',
      publicData: { address: `0x${randomBytes(20).toString('hex')}`, publicKey: `02${randomBytes(32).toString('hex')}` },
      wrappedSecret: randomBytes(56),
      mechanism: 'CKM_AES_KEY_WRAP_PAD',
    });
    for (let done = 0; done < prefill; done += 10_000) vault.store.addEntries(Array.from({ length: Math.min(10_000, prefill - done) }, filler));
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
