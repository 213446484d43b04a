import { randomBytes } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1';
import { benchToken } from './lib.mjs';

const N = Number(process.env.BENCH_N ?? 2000);
benchToken('bench');
const { Token } = await import('../../dist/hsm/token.js');
const { generateResidentEd25519, generateResidentSecp256k1, signEd25519Raw, signRaw } =
  await import('../../dist/hsm/token-testing.js');

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

const resident = generateResidentSecp256k1(token);
const a = rate('(a) resident key in the token', (d) => signRaw(token, resident.handle, d));
const wrapped = token.generateSecp256k1();
const b = rate('(b) unwrap + sign + destroy per signature', (d) =>
  token.signWithWrapped(wrapped, d, { recovery: false }),
);
rate('(b+) same, plus recovery id (EVM, TRON)', (d) => token.signWithWrapped(wrapped, d));
// daemon --key-cache: one unwrap per wallet per cycle; here a cycle of 36 signatures per key.
let inCycle = 0;
const cached = rate('(k) per-cycle key cache, 36 signatures per unwrap', (d) => {
  if (inCycle === 0) token.beginKeyCache();
  token.signWithWrapped(wrapped, d, { recovery: false });
  if (++inCycle === 36) {
    token.endKeyCache();
    inCycle = 0;
  }
});
token.endKeyCache();
const hostKey = secp256k1.utils.randomPrivateKey();
rate('(c) host-side noble-curves', (d) => secp256k1.sign(d, hostKey));
console.log(`(b)/(a) = ${(b / a).toFixed(2)}  (target >= 0.5)`);
console.log(`(k)/(a) = ${(cached / a).toFixed(2)}  (target >= 0.85)`);

// Ed25519 (XRP, XLM, SOL, ALGO): a 32-byte message stands in for a transaction's bytes.
const edResident = generateResidentEd25519(token);
const ea = rate('(ed-a) ed25519 resident key in the token', (d) => signEd25519Raw(token, edResident.handle, d));
const edWrapped = token.generateEd25519();
const eb = rate('(ed-b) ed25519 unwrap+sign+destroy, verified', (d) => token.signEd25519WithWrapped(edWrapped, d));
console.log(`(ed-b)/(ed-a) = ${(eb / ea).toFixed(2)}  (target >= 0.5)`);
token.close();
