import { describe, it, expect } from 'vitest';
import { createHash } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1';
import { Transaction, crypto as bcrypto, networks, payments, script as bscript } from 'bitcoinjs-lib';
import { hostDigestSigner } from '../../../src/chains/digest-signer.js';
import { decodeBch, signBch } from '../../../src/chains/bch/sign.js';

function privKey(n: number): Uint8Array {
  const k = new Uint8Array(32).fill(0x33);
  k[31] = n;
  return k;
}
const A = privKey(1);
const B = privKey(2);
const C = privKey(3);
const pub = (k: Uint8Array) => secp256k1.getPublicKey(k, true);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const p2pkh = (k: Uint8Array) => payments.p2pkh({ pubkey: pub(k) }).output!;

function unsigned(inputCount: number, outs: { script: Uint8Array; value: number }[]): string {
  const tx = new Transaction();
  tx.version = 2;
  for (let i = 0; i < inputCount; i++) tx.addInput(new Uint8Array(32).fill(0xc0 + i), i);
  outs.forEach((o) => tx.addOutput(o.script, BigInt(o.value)));
  return tx.toHex();
}

const sha256d = (b: Buffer) => createHash('sha256').update(createHash('sha256').update(b).digest()).digest();
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
};
const u64 = (n: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(n);
  return b;
};
const varSlice = (b: Uint8Array) => Buffer.concat([Buffer.from([b.length]), Buffer.from(b)]);

/** BCH replay-protected digest (BIP 143 layout, SIGHASH_ALL|FORKID), written out by hand. */
function forkidDigest(tx: Transaction, i: number, pubkey: Uint8Array, amount: bigint): Uint8Array {
  const prevouts = Buffer.concat(tx.ins.map((x) => Buffer.concat([Buffer.from(x.hash), u32(x.index)])));
  const sequences = Buffer.concat(tx.ins.map((x) => u32(x.sequence)));
  const outputs = Buffer.concat(tx.outs.map((o) => Buffer.concat([u64(o.value), varSlice(o.script)])));
  const scriptCode = payments.p2pkh({ hash: bcrypto.hash160(pubkey) }).output!;
  const input = tx.ins[i]!;
  const preimage = Buffer.concat([
    u32(tx.version),
    sha256d(prevouts),
    sha256d(sequences),
    Buffer.from(input.hash),
    u32(input.index),
    varSlice(scriptCode),
    u64(amount),
    u32(input.sequence),
    sha256d(outputs),
    u32(tx.locktime),
    u32(0x41),
  ]);
  return new Uint8Array(sha256d(preimage));
}

function verifyBch(raw: string, amounts: number[], owners: Uint8Array[]): void {
  const tx = Transaction.fromHex(raw);
  expect(tx.hasWitnesses()).toBe(false);
  owners.forEach((k, i) => {
    const chunks = bscript.decompile(tx.ins[i]!.script)!;
    expect(chunks).toHaveLength(2);
    const sigSh = chunks[0] as Uint8Array;
    expect(hex(chunks[1] as Uint8Array)).toBe(hex(pub(k)));
    expect(sigSh[sigSh.length - 1]).toBe(0x41);
    const der = sigSh.subarray(0, sigSh.length - 1);
    const d = forkidDigest(tx, i, pub(k), BigInt(amounts[i]!));
    expect(
      secp256k1.verify(secp256k1.Signature.fromBytes(der, 'der').toBytes('compact'), d, pub(k), { lowS: true }),
    ).toBe(true);
  });
}

describe('signBch', () => {
  const outs = [
    { script: p2pkh(C), value: 90_000 },
    { script: p2pkh(A), value: 5_000 },
  ];

  it('one key owning two inputs signs both (Tatum leaves the second unsigned, §7.9)', async () => {
    const amounts = [60_000, 40_000];
    const raw = await signBch(`${unsigned(2, outs)}:${JSON.stringify(amounts)}`, [hostDigestSigner(A)]);
    verifyBch(raw, amounts, [A, A]);
    // the same key listed once per input gives the same result
    expect(
      await signBch(`${unsigned(2, outs)}:${JSON.stringify(amounts)}`, [hostDigestSigner(A), hostDigestSigner(A)]),
    ).toBe(raw);
  });

  it('several keys sign positionally, one listed per input', async () => {
    const amounts = [30_000, 40_000, 30_000];
    const raw = await signBch(`${unsigned(3, outs)}:${JSON.stringify(amounts)}`, [
      hostDigestSigner(B),
      hostDigestSigner(A),
      hostDigestSigner(B),
    ]);
    verifyBch(raw, amounts, [B, A, B]);
  });

  it('refuses several keys whose count does not match the inputs', async () => {
    const p = `${unsigned(3, outs)}:[30000,40000,30000]`;
    await expect(signBch(p, [hostDigestSigner(A), hostDigestSigner(B)])).rejects.toMatchObject({
      code: 'TX_PAYLOAD_MISMATCH',
      message: expect.stringContaining('cannot tell which key signs which input'),
    });
  });

  it('maps keys by prevout script when given', async () => {
    const amounts = [30_000, 70_000];
    const raw = await signBch(
      `${unsigned(2, outs)}:${JSON.stringify(amounts)}`,
      [hostDigestSigner(A), hostDigestSigner(B)],
      {
        prevoutScripts: [hex(p2pkh(B)), p2pkh(A)],
      },
    );
    verifyBch(raw, amounts, [B, A]);
    await expect(
      signBch(`${unsigned(2, outs)}:${JSON.stringify(amounts)}`, [hostDigestSigner(A)], {
        prevoutScripts: [p2pkh(A), p2pkh(C)],
      }),
    ).rejects.toThrow(/owns input 1/);
    await expect(
      signBch(`${unsigned(2, outs)}:${JSON.stringify(amounts)}`, [hostDigestSigner(A)], {
        prevoutScripts: [p2pkh(A), payments.p2wpkh({ pubkey: pub(A) }).output!],
      }),
    ).rejects.toThrow(/only P2PKH/);
  });

  describe('malformed payloads', () => {
    const tx = unsigned(2, outs);
    const cases: [string, unknown, RegExp][] = [
      ['not a string', { tx }, /must be a string/],
      ['no colon', tx, /no ":"/],
      ['bad hex', `zz${tx}:[1,2]`, /not valid hex/],
      ['truncated tx', `${tx.slice(0, 40)}:[1,2]`, /does not parse/],
      ['amounts not JSON', `${tx}:[1,`, /not valid JSON/],
      ['amounts not an array', `${tx}:{"a":1}`, /must be a JSON array/],
      ['amount count', `${tx}:[100000]`, /1 input amounts for 2 inputs/],
      ['fractional amount', `${tx}:[50000.5,50000]`, /amounts\[0\]/],
      ['outputs exceed inputs', `${tx}:[1000,1000]`, /exceed inputs/],
    ];
    for (const [name, payload, re] of cases) {
      it(name, async () => {
        await expect(signBch(payload, [hostDigestSigner(A)])).rejects.toThrow(re);
      });
    }
    it('input already signed', async () => {
      const t = Transaction.fromHex(tx);
      t.setInputScript(0, Uint8Array.from([0x51]));
      await expect(signBch(`${t.toHex()}:[60000,40000]`, [hostDigestSigner(A)])).rejects.toThrow(
        /already has a scriptSig/,
      );
    });
  });

  it('decodeBch reports outputs and fee', () => {
    const d = decodeBch(`${unsigned(2, outs)}:[60000,40000]`, networks.bitcoin);
    expect(d.chain).toBe('BCH');
    expect(d.fee).toBe(5_000n);
    expect(d.outputs).toEqual([
      { script: hex(p2pkh(C)), address: payments.p2pkh({ pubkey: pub(C) }).address, amount: 90_000n },
      { script: hex(p2pkh(A)), address: payments.p2pkh({ pubkey: pub(A) }).address, amount: 5_000n },
    ]);
  });
});
