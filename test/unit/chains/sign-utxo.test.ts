import { describe, it, expect } from 'vitest';
import * as ecc from '@bitcoinerlab/secp256k1';
import { ECPairFactory } from 'ecpair';
import { Transaction, crypto as bcrypto, networks, payments, script as bscript } from 'bitcoinjs-lib';
import { hostDigestSigner } from '../../../src/chains/digest-signer.js';
import {
  decodeUtxo,
  offchainDerivationIndexes,
  offchainWithdrawalInputs,
  signUtxo,
} from '../../../src/chains/utxo/sign.js';

const ECPair = ECPairFactory(ecc);

function privKey(n: number): Uint8Array {
  const k = new Uint8Array(32).fill(0x22);
  k[31] = n;
  return k;
}
const A = privKey(1);
const B = privKey(2);
const C = privKey(3);
const pub = (k: Uint8Array) => ECPair.fromPrivateKey(k).publicKey;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

const p2pkh = (k: Uint8Array) => payments.p2pkh({ pubkey: pub(k) }).output!;
const p2wpkh = (k: Uint8Array) => payments.p2wpkh({ pubkey: pub(k) }).output!;
const p2shP2wpkh = (k: Uint8Array) => payments.p2sh({ redeem: payments.p2wpkh({ pubkey: pub(k) }) }).output!;
const p2pk = (k: Uint8Array) => payments.p2pk({ pubkey: pub(k) }).output!;

interface Prev {
  script: Uint8Array;
  value: number;
}
const txid = (n: number) => n.toString(16).padStart(2, '0').repeat(32);

interface BitcorePayload {
  hash?: string;
  inputs: {
    prevTxId: string;
    outputIndex: number;
    sequenceNumber: number;
    script: string;
    output?: { satoshis: unknown; script: string };
  }[];
  outputs: { satoshis: unknown; script: string }[];
  [k: string]: unknown;
}

/** A payload shaped like bitcore-lib's Transaction.toObject(). */
function bitcorePayload(prevs: Prev[], outs: Prev[], extra: Record<string, unknown> = {}): BitcorePayload {
  const tx = new Transaction();
  tx.version = 2;
  prevs.forEach((_, i) => tx.addInput(Buffer.from(txid(0xa0 + i), 'hex').reverse(), i));
  outs.forEach((o) => tx.addOutput(o.script, BigInt(o.value)));
  return {
    hash: tx.getId(),
    version: 2,
    inputs: prevs.map((p, i) => ({
      prevTxId: txid(0xa0 + i),
      outputIndex: i,
      sequenceNumber: 4294967295,
      script: '',
      scriptString: '',
      output: { satoshis: p.value, script: hex(p.script) },
    })),
    outputs: outs.map((o) => ({ satoshis: o.value, script: hex(o.script) })),
    nLockTime: 0,
    ...extra,
  };
}

/** Independent check: rebuild each input's sighash with bitcoinjs and verify with @bitcoinerlab/secp256k1. */
function verifySigned(rawHex: string, prevs: Prev[], owners: Uint8Array[]): Transaction {
  const tx = Transaction.fromHex(rawHex);
  prevs.forEach((p, i) => {
    const pk = pub(owners[i]!);
    const h160 = bcrypto.hash160(pk);
    const payment = payments.p2pkh({ hash: h160 }).output!;
    let sigSh: Uint8Array;
    let digest: Uint8Array;
    const kind =
      hex(p.script) === hex(p2pkh(owners[i]!))
        ? 'p2pkh'
        : hex(p.script) === hex(p2wpkh(owners[i]!))
          ? 'p2wpkh'
          : hex(p.script) === hex(p2pk(owners[i]!))
            ? 'p2pk'
            : 'p2sh';
    const input = tx.ins[i]!;
    if (kind === 'p2pkh') {
      const chunks = bscript.decompile(input.script)!;
      expect(chunks).toHaveLength(2);
      sigSh = chunks[0] as Uint8Array;
      expect(hex(chunks[1] as Uint8Array)).toBe(hex(pk));
      expect(input.witness).toHaveLength(0);
      digest = tx.hashForSignature(i, p.script, Transaction.SIGHASH_ALL);
    } else if (kind === 'p2pk') {
      const chunks = bscript.decompile(input.script)!;
      expect(chunks).toHaveLength(1);
      sigSh = chunks[0] as Uint8Array;
      digest = tx.hashForSignature(i, p.script, Transaction.SIGHASH_ALL);
    } else {
      expect(input.witness).toHaveLength(2);
      sigSh = input.witness[0]!;
      expect(hex(input.witness[1]!)).toBe(hex(pk));
      if (kind === 'p2wpkh') expect(input.script).toHaveLength(0);
      else {
        const chunks = bscript.decompile(input.script)!;
        expect(chunks).toHaveLength(1);
        expect(hex(chunks[0] as Uint8Array)).toBe(hex(payments.p2wpkh({ pubkey: pk }).output!));
        expect(hex(bcrypto.hash160(chunks[0] as Uint8Array))).toBe(hex(p.script.subarray(2, 22)));
      }
      digest = tx.hashForWitnessV0(i, payment, BigInt(p.value), Transaction.SIGHASH_ALL);
    }
    const decoded = bscript.signature.decode(sigSh); // strict DER + defined hash type
    expect(decoded.hashType).toBe(Transaction.SIGHASH_ALL);
    expect(ecc.verify(digest, pk, decoded.signature, true)).toBe(true);
  });
  return tx;
}

describe('signUtxo: a Tatum wallet stored as uncompressed WIF', () => {
  it('spends the P2PKH output of the uncompressed key with the uncompressed public key, beside a compressed one', async () => {
    const uncompressed = ECPair.fromPrivateKey(A, { compressed: false }).publicKey;
    expect(uncompressed).toHaveLength(65);
    const prevs: Prev[] = [
      { script: payments.p2pkh({ pubkey: uncompressed }).output!, value: 40_000 },
      { script: p2pkh(A), value: 20_000 },
    ];
    const payload = JSON.stringify(bitcorePayload(prevs, [{ script: p2wpkh(C), value: 59_000 }]));
    const tx = Transaction.fromHex(await signUtxo(payload, [hostDigestSigner(A)], { chain: 'BTC' }));
    prevs.forEach((p, i) => {
      const [sigSh, pk] = bscript.decompile(tx.ins[i]!.script) as [Uint8Array, Uint8Array];
      expect(hex(bcrypto.hash160(pk))).toBe(hex(p.script.subarray(3, 23)));
      const decoded = bscript.signature.decode(sigSh);
      expect(ecc.verify(tx.hashForSignature(i, p.script, Transaction.SIGHASH_ALL), pk, decoded.signature, true)).toBe(
        true,
      );
    });
    expect(bscript.decompile(tx.ins[0]!.script)![1]).toHaveLength(65);
    expect(bscript.decompile(tx.ins[1]!.script)![1]).toHaveLength(33);
  });
});

describe('signUtxo (BTC/LTC/DOGE)', () => {
  const prevs: Prev[] = [
    { script: p2pkh(A), value: 50_000 },
    { script: p2wpkh(B), value: 70_000 },
    { script: p2shP2wpkh(A), value: 30_000 },
    { script: p2wpkh(A), value: 10_000 },
  ];
  const outs: Prev[] = [
    { script: p2wpkh(C), value: 100_000 },
    { script: p2wpkh(A), value: 59_000 },
  ];

  it('signs a two-wallet tx: P2PKH + P2WPKH + P2SH-P2WPKH, one key owning three inputs', async () => {
    const payload = JSON.stringify(
      bitcorePayload(prevs, outs, {
        changeIndex: 1,
        changeScript: `OP_0 20 0x${hex(bcrypto.hash160(pub(A)))}`,
        fee: 1000,
      }),
    );
    const raw = await signUtxo(payload, [hostDigestSigner(A), hostDigestSigner(B)], { chain: 'BTC' });
    const tx = verifySigned(raw, prevs, [A, B, A, A]);
    expect(tx.hasWitnesses()).toBe(true);
    // nothing but scriptSigs and witnesses changed: stripping them gives back the payload's txid
    const bare = tx.clone();
    bare.ins.forEach((_, i) => bare.setInputScript(i, new Uint8Array(0)));
    bare.stripWitnesses();
    expect(bare.getId()).toBe(JSON.parse(payload).hash);
    // key order and duplicates do not matter
    const raw2 = await signUtxo(payload, [hostDigestSigner(B), hostDigestSigner(A), hostDigestSigner(B)], {
      chain: 'BTC',
    });
    expect(raw2).toBe(raw);
  });

  it('emits legacy serialization when no input is segwit (LTC, P2PKH + P2PK)', async () => {
    const lp: Prev[] = [
      { script: p2pkh(A), value: 5_000_000 },
      { script: p2pk(B), value: 1_000_000 },
    ];
    const raw = await signUtxo(
      bitcorePayload(lp, [{ script: p2pkh(C), value: 5_990_000 }]),
      [hostDigestSigner(A), hostDigestSigner(B)],
      { chain: 'LTC' },
    );
    const tx = verifySigned(raw, lp, [A, B]);
    expect(tx.hasWitnesses()).toBe(false);
    expect(raw.slice(8, 12)).not.toBe('0001');
  });

  it('refuses a hash that does not match the rebuilt transaction', async () => {
    const p = bitcorePayload(prevs, outs);
    p.hash = txid(0x99);
    await expect(signUtxo(p, [hostDigestSigner(A), hostDigestSigner(B)], { chain: 'BTC' })).rejects.toMatchObject({
      code: 'TX_PAYLOAD_MISMATCH',
      message: expect.stringMatching(/hash .* does not match/),
    });
    const q = bitcorePayload(prevs, outs);
    q.outputs[0]!.satoshis = (q.outputs[0]!.satoshis as number) + 1; // tamper after hashing
    await expect(signUtxo(q, [hostDigestSigner(A), hostDigestSigner(B)], { chain: 'BTC' })).rejects.toThrow(
      /does not match/,
    );
  });

  it('accepts a payload without hash', async () => {
    const p = bitcorePayload(prevs, outs);
    delete p.hash;
    const raw = await signUtxo(p, [hostDigestSigner(A), hostDigestSigner(B)], { chain: 'BTC' });
    verifySigned(raw, prevs, [A, B, A, A]);
  });

  it('refuses when a key is missing for some inputs, naming them', async () => {
    await expect(signUtxo(bitcorePayload(prevs, outs), [hostDigestSigner(A)], { chain: 'BTC' })).rejects.toMatchObject({
      code: 'TX_SIGNER_MISSING',
      message: expect.stringContaining('input 1 (of 4)'),
    });
    await expect(signUtxo(bitcorePayload(prevs, outs), [hostDigestSigner(C)], { chain: 'BTC' })).rejects.toThrow(
      /inputs 0, 1, 2, 3/,
    );
    await expect(signUtxo(bitcorePayload(prevs, outs), [], { chain: 'BTC' })).rejects.toThrow(/no signing key/);
  });

  it('checks changeIndex against changeScript', async () => {
    const good = bitcorePayload(prevs, outs, {
      changeIndex: 1,
      changeScript: `OP_0 20 0x${hex(bcrypto.hash160(pub(A)))}`,
    });
    await expect(signUtxo(good, [hostDigestSigner(A), hostDigestSigner(B)], { chain: 'BTC' })).resolves.toMatch(
      /^02000000/,
    );
    const legacyChange = bitcorePayload(prevs, [outs[0]!, { script: p2pkh(A), value: 59_000 }], {
      changeIndex: 1,
      changeScript: `OP_DUP OP_HASH160 20 0x${hex(bcrypto.hash160(pub(A)))} OP_EQUALVERIFY OP_CHECKSIG`,
    });
    await expect(
      signUtxo(legacyChange, [hostDigestSigner(A), hostDigestSigner(B)], { chain: 'BTC' }),
    ).resolves.toBeTypeOf('string');
    const wrong = bitcorePayload(prevs, outs, {
      changeIndex: 0,
      changeScript: `OP_0 20 0x${hex(bcrypto.hash160(pub(A)))}`,
    });
    await expect(signUtxo(wrong, [hostDigestSigner(A), hostDigestSigner(B)], { chain: 'BTC' })).rejects.toThrow(
      /changeIndex/,
    );
    const garbage = bitcorePayload(prevs, outs, { changeIndex: 1, changeScript: 'OP_0 21 0xabcd' });
    await expect(signUtxo(garbage, [hostDigestSigner(A), hostDigestSigner(B)], { chain: 'BTC' })).rejects.toThrow(
      /changeScript/,
    );
  });

  it('refuses segwit inputs on DOGE and unsupported script types', async () => {
    await expect(
      signUtxo(
        bitcorePayload([{ script: p2wpkh(A), value: 10 ** 9 }], [{ script: p2pkh(C), value: 10 ** 8 }]),
        [hostDigestSigner(A)],
        { chain: 'DOGE' },
      ),
    ).rejects.toThrow(/Dogecoin/);
    const p2wsh = payments.p2wsh({ redeem: { output: p2pk(A) } }).output!;
    await expect(
      signUtxo(
        bitcorePayload([{ script: p2wsh, value: 1000 }], [{ script: p2pkh(C), value: 500 }]),
        [hostDigestSigner(A)],
        { chain: 'BTC' },
      ),
    ).rejects.toMatchObject({
      code: 'TX_PAYLOAD_UNSUPPORTED',
      message: expect.stringContaining('P2WSH'),
    });
    // a P2SH that is not P2SH-P2WPKH of any key is simply not owned
    const p2shMulti = payments.p2sh({ redeem: payments.p2ms({ m: 1, pubkeys: [pub(A)] }) }).output!;
    await expect(
      signUtxo(
        bitcorePayload([{ script: p2shMulti, value: 1000 }], [{ script: p2pkh(C), value: 500 }]),
        [hostDigestSigner(A)],
        { chain: 'BTC' },
      ),
    ).rejects.toThrow(/input 0/);
  });

  describe('malformed payloads are refused with the field named', () => {
    const signers = [hostDigestSigner(A), hostDigestSigner(B)];
    const cases: [string, (p: BitcorePayload) => unknown, RegExp][] = [
      ['not JSON', () => '{"inputs": [', /not valid JSON/],
      ['an array', () => '[]', /must be a JSON object/],
      ['no inputs', (p) => ({ ...p, inputs: [] }), /inputs must be a non-empty array/],
      ['no outputs', (p) => ({ ...p, outputs: [] }), /outputs must be a non-empty array/],
      [
        'missing input.output',
        (p) => {
          delete p.inputs[0].output;
          return p;
        },
        /inputs\[0\]\.output is missing/,
      ],
      [
        'bad prevTxId',
        (p) => {
          p.inputs[1].prevTxId = 'xyz';
          return p;
        },
        /inputs\[1\]\.prevTxId is not valid hex/,
      ],
      [
        'short prevTxId',
        (p) => {
          p.inputs[1].prevTxId = 'abcd';
          return p;
        },
        /inputs\[1\]\.prevTxId must be 32 bytes/,
      ],
      [
        'fractional satoshis',
        (p) => {
          p.outputs[0].satoshis = 1.5;
          return p;
        },
        /outputs\[0\]\.satoshis must be a non-negative integer/,
      ],
      [
        'negative satoshis',
        (p) => {
          p.inputs[0]!.output!.satoshis = -1;
          return p;
        },
        /inputs\[0\]\.output\.satoshis/,
      ],
      [
        'satoshis as float string',
        (p) => {
          p.outputs[1].satoshis = '1e5';
          return p;
        },
        /outputs\[1\]\.satoshis/,
      ],
      [
        'bad output script',
        (p) => {
          p.outputs[0].script = '0g';
          return p;
        },
        /outputs\[0\]\.script is not valid hex/,
      ],
      [
        'signed input',
        (p) => {
          p.inputs[0].script = '00';
          return p;
        },
        /already has a scriptSig/,
      ],
      [
        'outputIndex negative',
        (p) => {
          p.inputs[0].outputIndex = -1;
          return p;
        },
        /inputs\[0\]\.outputIndex/,
      ],
      [
        'sequence too big',
        (p) => {
          p.inputs[0].sequenceNumber = 2 ** 32;
          return p;
        },
        /sequenceNumber/,
      ],
      ['changeIndex out of range', (p) => ({ ...p, changeIndex: 5 }), /changeIndex must be an integer between 0 and 1/],
      [
        'outputs exceed inputs',
        (p) => {
          p.outputs[0]!.satoshis = 10 ** 9;
          delete p.hash;
          return p;
        },
        /exceed inputs/,
      ],
      ['bad hash', (p) => ({ ...p, hash: 'zz' }), /hash is not valid hex/],
    ];
    for (const [name, mutate, re] of cases) {
      it(name, async () => {
        const p = mutate(bitcorePayload(prevs, outs));
        await expect(
          signUtxo(typeof p === 'string' ? p : JSON.stringify(p), signers, { chain: 'BTC' }),
        ).rejects.toThrow(re);
      });
    }
  });

  it('decodeUtxo reports outputs (with addresses when given a network) and the exact fee', () => {
    const p = bitcorePayload(prevs, [
      ...outs,
      { script: bscript.compile([bscript.OPS.OP_RETURN, Buffer.from('hi')]), value: 0 },
    ]);
    const d = decodeUtxo(p, 'BTC', networks.testnet);
    expect(d.chain).toBe('BTC');
    expect(d.fee).toBe(1000n);
    expect(d.outputs[0]).toEqual({
      script: hex(outs[0]!.script),
      address: payments.p2wpkh({ pubkey: pub(C), network: networks.testnet }).address,
      amount: 100_000n,
    });
    expect(d.outputs[2]!.address).toBeUndefined();
    expect(decodeUtxo(p, 'BTC').outputs[0]!.address).toBeUndefined();
  });
});

describe('off-chain withdrawals', () => {
  const responses = [
    { address: { address: 'x', derivationKey: 3 }, amount: 0.001, vIn: txid(0xa0), vInIndex: 0 },
    { address: { address: 'y' }, amount: 0.002, vIn: txid(0xa1), vInIndex: 1 },
    { address: { address: 'z', derivationKey: 3 }, amount: 0.003, vIn: txid(0xa2), vInIndex: 2 },
    { address: null, amount: 0.0005, vIn: '-1', vInIndex: 0 },
  ];

  it('lists the derivation indexes needed, skipping "-1" and defaulting to 0', () => {
    expect(offchainDerivationIndexes('BTC', responses)).toEqual([3, 0]);
    expect(offchainWithdrawalInputs('BTC', responses).map((w) => w.derivationIndex)).toEqual([3, 0, 3]);
    expect(() => offchainDerivationIndexes('BTC', [{ vIn: '-1' }])).toThrow(/no input/);
    expect(() => offchainDerivationIndexes('BTC', [{ vIn: 'abc', vInIndex: 0 }])).toThrow(/vIn must be/);
    expect(() =>
      offchainDerivationIndexes('BTC', [{ vIn: txid(1), vInIndex: 0, address: { derivationKey: -2 } }]),
    ).toThrow(/derivationKey/);
  });

  it('signs with the derived keys and checks the inputs against withdrawalResponses', async () => {
    const prevs: Prev[] = [
      { script: p2wpkh(B), value: 100_000 },
      { script: p2wpkh(A), value: 200_000 },
      { script: p2wpkh(B), value: 300_000 },
    ];
    const p = bitcorePayload(prevs, [
      { script: p2wpkh(C), value: 550_000 },
      { script: p2wpkh(A), value: 49_000 },
    ]);
    const raw = await signUtxo(p, [hostDigestSigner(B), hostDigestSigner(A)], {
      chain: 'BTC',
      withdrawalResponses: responses,
    });
    verifySigned(raw, prevs, [B, A, B]);
    await expect(
      signUtxo(p, [hostDigestSigner(B), hostDigestSigner(A)], {
        chain: 'BTC',
        withdrawalResponses: responses.slice(1),
      }),
    ).rejects.toThrow(/differ from withdrawalResponses/);
  });
});
