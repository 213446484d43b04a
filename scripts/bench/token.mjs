import { randomBytes } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1';
import pkcs11js from 'pkcs11js';
import { benchToken } from './lib.mjs';

const N = Number(process.env.BENCH_N ?? 2000);
benchToken('bench');
const { Token } = await import('../../dist/hsm/token.js');
const { findRecoveryId } = await import('../../dist/secp256k1-recover.js');
const { verifyEd25519 } = await import('../../dist/ed25519-verify.js');
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
const b = rate('(b) unwrap + sign + destroy per signature', (d) => token.signWithWrapped(wrapped, d));
rate('(b+) same, plus recovery id (EVM, TRON)', (d) => {
  const { r, s } = token.signWithWrapped(wrapped, d);
  return findRecoveryId(Buffer.concat([r, s]), d, wrapped.publicKey);
});
// The recovery search alone, on the token's own signatures (a difference of two rates above
// scatters by more than the figure itself): what signDigestChecked adds to each signature.
const signed = digests.slice(0, 500).map((d) => {
  const { r, s } = token.signWithWrapped(wrapped, d);
  return { compact: Buffer.concat([r, s]), d };
});
const recoveryStart = process.hrtime.bigint();
for (let k = 0; k < 4; k++)
  for (const { compact, d } of signed)
    if (findRecoveryId(compact, d, wrapped.publicKey) === undefined) throw new Error('bench: no recovery id');
const recoveryMicros = Number(process.hrtime.bigint() - recoveryStart) / 1e3 / (4 * signed.length);
console.log(`(r) recovery id search alone${' '.repeat(17)} ${recoveryMicros.toFixed(0).padStart(8)} µs each`);
const internals = Token.internalsForTesting(token);
rate('(u) unwrap + destroy, no signature', () => internals.destroy(internals.unwrapSecp256k1(wrapped)));
const s = sessionWrapKeyRate();
// daemon --key-cache: one unwrap per wallet per cycle; here a cycle of 36 signatures per key.
let inCycle = 0;
const cached = rate('(k) per-cycle key cache, 36 signatures per unwrap', (d) => {
  if (inCycle === 0) token.beginKeyCache();
  token.signWithWrapped(wrapped, d);
  if (++inCycle === 36) {
    token.endKeyCache();
    inCycle = 0;
  }
});
token.endKeyCache();
const hostKey = secp256k1.utils.randomPrivateKey();
rate('(c) host-side noble-curves', (d) => secp256k1.sign(d, hostKey));
console.log(`(b)/(a) = ${(b / a).toFixed(2)}  (target >= 0.5)`);
console.log(`(r)/(b) = ${((recoveryMicros * b) / 1e4).toFixed(1)}%  (recovery id per signature; target <= 5%)`);
if (s !== undefined)
  console.log(`(s)/(a) = ${(s / a).toFixed(2)}  (session wrap key: (s)/(b) = ${(s / b).toFixed(2)})`);
console.log(`(k)/(a) = ${(cached / a).toFixed(2)}  (target >= 0.85)`);

// Ed25519 (XRP, XLM, SOL, ALGO): a 32-byte message stands in for a transaction's bytes.
const edResident = generateResidentEd25519(token);
const ea = rate('(ed-a) ed25519 resident key in the token', (d) => signEd25519Raw(token, edResident.handle, d));
const edWrapped = token.generateEd25519();
const eb = rate('(ed-b) ed25519 unwrap+sign+destroy', (d) => token.signEd25519WithWrapped(edWrapped, d));
// What a transaction pays: the signature and the one check against the wallet's key (the chain's signEd25519Checked).
const ebv = rate('(ed-b+) same, plus the check (verify)', (d) =>
  verifyEd25519(token.signEd25519WithWrapped(edWrapped, d), d, edWrapped.publicKey),
);
console.log(
  `(ed-b)/(ed-a) = ${(eb / ea).toFixed(2)}  (target >= 0.5); with the check (ed-b+)/(ed-a) = ${(ebv / ea).toFixed(2)}`,
);
token.close();

/**
 * Issue 13's lead "a session copy of the wrap key": SoftHSM2 refuses C_CopyObject with
 * CKA_TOKEN false on the wrap key (CKA_MODIFIABLE false makes every copy template read-only),
 * so this measures the same thing another way: a session AES wrap key generated with the wrap
 * key's attributes, wrapping and unwrapping a fresh key. Benchmark only: the vault's keys are
 * swapped for the measurement through the (runtime-visible) private field and put back.
 */
function sessionWrapKeyRate() {
  const { lib, session } = internals;
  try {
    const copy = lib.C_CopyObject(session, token.keys.wrap, [{ type: pkcs11js.CKA_TOKEN, value: false }]);
    lib.C_DestroyObject(session, copy);
    console.log('    C_CopyObject(wrap key, CKA_TOKEN false): accepted');
  } catch (e) {
    console.log(`    C_CopyObject(wrap key, CKA_TOKEN false): refused by the token (${e.message})`);
  }
  const sessionWrap = lib.C_GenerateKey(session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
    { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
    { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
    { type: pkcs11js.CKA_TOKEN, value: false },
    { type: pkcs11js.CKA_PRIVATE, value: true },
    { type: pkcs11js.CKA_SENSITIVE, value: true },
    { type: pkcs11js.CKA_EXTRACTABLE, value: false },
    { type: pkcs11js.CKA_WRAP, value: true },
    { type: pkcs11js.CKA_UNWRAP, value: true },
  ]);
  const tokenWrap = token.keys.wrap;
  token.keys.wrap = sessionWrap;
  try {
    const w = token.generateSecp256k1();
    return rate('(s) unwrap + sign + destroy, session wrap key', (d) => token.signWithWrapped(w, d));
  } finally {
    token.keys.wrap = tokenWrap;
    lib.C_DestroyObject(session, sessionWrap);
  }
}
