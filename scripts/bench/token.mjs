import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1';

const N = Number(process.env.BENCH_N ?? 2000);
const dir = mkdtempSync(join(tmpdir(), 'hardkms-bench-'));
mkdirSync(join(dir, 'tokens'));
const conf = join(dir, 'softhsm2.conf');
writeFileSync(conf, readFileSync(new URL('../../hsm/softhsm2.conf.template', import.meta.url), 'utf8').replaceAll('@TOKEN_DIR@', join(dir, 'tokens')));
execFileSync('softhsm2-util', ['--init-token', '--free', '--label', 'bench', '--pin', '1234', '--so-pin', '5678'], {
  env: { ...process.env, SOFTHSM2_CONF: conf },
  stdio: 'ignore',
});
process.env.SOFTHSM2_CONF = conf;
const { Token } = await import('../../dist/hsm/token.js');

const token = Token.open({ label: 'bench' });
token.login(Buffer.from('1234'));
token.bindVaultKeys(token.generateVaultKeys('bench-vault'));
const digests = Array.from({ length: N }, () => randomBytes(32));

function rate(label, fn) {
  fn(digests[0]);
  const t0 = process.hrtime.bigint();
  for (const d of digests) fn(d);
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const perSec = N / secs;
  console.log(`${label.padEnd(44)} ${perSec.toFixed(0).padStart(8)} sig/s  (${((secs / N) * 1e6).toFixed(0)} µs each)`);
  return perSec;
}

const resident = token.generateResidentSecp256k1();
const a = rate('(a) resident key in the token', (d) => token.signRaw(resident.handle, d));
const wrapped = token.generateSecp256k1();
const b = rate('(b) unwrap + sign + destroy per signature', (d) => token.signWithWrapped(wrapped, d, { recovery: false }));
rate('(b+) same, plus recovery id (EVM, TRON)', (d) => token.signWithWrapped(wrapped, d));
const hostKey = secp256k1.utils.randomPrivateKey();
rate('(c) host-side noble-curves', (d) => secp256k1.sign(d, hostKey));
console.log(`(b)/(a) = ${(b / a).toFixed(2)}  (target >= 0.5)`);
token.close();
