import { describe, it, expect } from 'vitest';
import { createHash } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1';
import { keccak_256 } from '@noble/hashes/sha3';
import { hostDigestSigner } from '../../../src/chains/signer.js';
import { decodeTron, signTron, tronBase58 } from '../../../src/chains/tron/sign.js';
import { fBytes, fVarint } from '../../support/protobuf-writer.js';

function privKey(n: number): Uint8Array {
  const k = new Uint8Array(32).fill(0x55);
  k[31] = n;
  return k;
}
const K = privKey(1);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
/** TRON address computed here from the private key, independently of the code under test. */
function tronAddr(k: Uint8Array): Uint8Array {
  const uncompressed = secp256k1.getPublicKey(k, false);
  return Uint8Array.from([0x41, ...keccak_256(uncompressed.subarray(1)).subarray(12)]);
}
const OWNER = tronAddr(K);
const TO = tronAddr(privKey(2));
const USDT = Uint8Array.from(Buffer.from('41a614f803b6fd780986a42c78ec9c7f77e6ded13c', 'hex'));

const str = (s: string) => [...Buffer.from(s, 'utf8')];

interface RawOpts {
  type?: number;
  typeName?: string;
  value: number[];
}
const REF_BYTES = [0x4f, 0x2a];
const REF_HASH = [1, 2, 3, 4, 5, 6, 7, 8];
const EXPIRATION = 1_700_000_060_000;
const TIMESTAMP = 1_700_000_000_000;

function rawHex(o: RawOpts, feeLimit?: number): string {
  const typeName = o.typeName ?? 'TransferContract';
  const any = [...fBytes(1, str(`type.googleapis.com/protocol.${typeName}`)), ...fBytes(2, o.value)];
  const contract = [...fVarint(1, o.type ?? 1), ...fBytes(2, any)];
  const raw = [
    ...fBytes(1, REF_BYTES),
    ...fBytes(4, REF_HASH),
    ...fVarint(8, EXPIRATION),
    ...fBytes(11, contract),
    ...fVarint(14, TIMESTAMP),
    ...(feeLimit !== undefined ? fVarint(18, feeLimit) : []),
  ];
  return hex(Uint8Array.from(raw));
}

function transferPayload(amount = 1_500_000, owner = OWNER, visible = false): Record<string, unknown> {
  const raw = rawHex({ value: [...fBytes(1, owner), ...fBytes(2, TO), ...fVarint(3, amount)] });
  const addr = (a: Uint8Array) => (visible ? tronBase58(a) : hex(a));
  return {
    visible,
    txID: createHash('sha256').update(Buffer.from(raw, 'hex')).digest('hex'),
    raw_data: {
      contract: [
        {
          parameter: { value: { amount, owner_address: addr(owner), to_address: addr(TO) }, type_url: 'type.googleapis.com/protocol.TransferContract' },
          type: 'TransferContract',
        },
      ],
      ref_block_bytes: hex(Uint8Array.from(REF_BYTES)),
      ref_block_hash: hex(Uint8Array.from(REF_HASH)),
      expiration: EXPIRATION,
      timestamp: TIMESTAMP,
    },
    raw_data_hex: raw,
  };
}

function trc20Payload(data: string, callValue = 0): Record<string, unknown> {
  const value = [...fBytes(1, OWNER), ...fBytes(2, USDT), ...(callValue > 0 ? fVarint(3, callValue) : []), ...fBytes(4, [...Buffer.from(data, 'hex')])];
  const raw = rawHex({ type: 31, typeName: 'TriggerSmartContract', value }, 100_000_000);
  const v: Record<string, unknown> = { data, owner_address: hex(OWNER), contract_address: hex(USDT) };
  if (callValue > 0) v.call_value = callValue;
  return {
    visible: false,
    txID: createHash('sha256').update(Buffer.from(raw, 'hex')).digest('hex'),
    raw_data: {
      contract: [{ parameter: { value: v, type_url: 'type.googleapis.com/protocol.TriggerSmartContract' }, type: 'TriggerSmartContract' }],
      ref_block_bytes: hex(Uint8Array.from(REF_BYTES)),
      ref_block_hash: hex(Uint8Array.from(REF_HASH)),
      expiration: EXPIRATION,
      fee_limit: 100_000_000,
      timestamp: TIMESTAMP,
    },
    raw_data_hex: raw,
  };
}

interface RawDataJson {
  contract: { parameter: { value: Record<string, unknown> } }[];
  expiration: number;
}

function verifyTronSignature(signedJson: string): void {
  const o = JSON.parse(signedJson) as { txID: string; signature: string[] };
  expect(o.signature).toHaveLength(1);
  const sig = o.signature[0]!;
  expect(sig).toMatch(/^[0-9a-f]{130}$/);
  const v = parseInt(sig.slice(128), 16);
  expect([27, 28]).toContain(v);
  const recovered = secp256k1.Signature.fromBytes(Buffer.from(sig.slice(0, 128), 'hex'), 'compact')
    .addRecoveryBit(v - 27)
    .recoverPublicKey(Buffer.from(o.txID, 'hex'))
    .toBytes(false);
  expect(hex(Uint8Array.from([0x41, ...keccak_256(recovered.subarray(1)).subarray(12)]))).toBe(hex(OWNER));
}

describe('signTron', () => {
  it('signs a TransferContract: txID bytes, r‖s‖v, appended to the original JSON', async () => {
    const text = JSON.stringify(transferPayload());
    const out = await signTron(text, [hostDigestSigner(K)]);
    verifyTronSignature(out);
    expect(out.startsWith(text.slice(0, -1))).toBe(true);
    const { signature, ...rest } = JSON.parse(out) as Record<string, unknown>;
    expect(signature).toBeDefined();
    expect(rest).toEqual(JSON.parse(text));
  });

  it('accepts base58 addresses in raw_data when visible=true', async () => {
    verifyTronSignature(await signTron(JSON.stringify(transferPayload(1, OWNER, true)), [hostDigestSigner(K)]));
  });

  it('signs a TRC-20 transfer (TriggerSmartContract)', async () => {
    const data = 'a9059cbb' + '0'.repeat(24) + hex(TO).slice(2) + (10n ** 6n).toString(16).padStart(64, '0');
    verifyTronSignature(await signTron(trc20Payload(data), [hostDigestSigner(K)]));
  });

  it('refuses a txID that is not sha256(raw_data_hex)', async () => {
    const p = transferPayload();
    p.txID = 'ab'.repeat(32);
    await expect(signTron(JSON.stringify(p), [hostDigestSigner(K)])).rejects.toMatchObject({
      code: 'TX_PAYLOAD_MISMATCH',
      message: expect.stringContaining('is not sha256(raw_data_hex)'),
    });
  });

  it('refuses an owner that is not the signer', async () => {
    await expect(signTron(JSON.stringify(transferPayload(1, TO)), [hostDigestSigner(K)])).rejects.toThrow(
      /owner_address .* is not the signing wallet's address/,
    );
  });

  it('refuses an existing signature', async () => {
    await expect(signTron(JSON.stringify({ ...transferPayload(), signature: ['00'] }), [hostDigestSigner(K)])).rejects.toThrow(/already carries a signature/);
  });

  it('refuses raw_data JSON that disagrees with raw_data_hex', async () => {
    const p = transferPayload(1_000);
    (p.raw_data as RawDataJson).contract[0]!.parameter.value.amount = 9_999_999;
    await expect(signTron(JSON.stringify(p), [hostDigestSigner(K)])).rejects.toThrow(/raw_data\.contract\[0\]\.parameter\.value\.amount does not match/);
    const q = transferPayload(1_000);
    (q.raw_data as RawDataJson).contract[0]!.parameter.value.to_address = hex(OWNER);
    await expect(signTron(JSON.stringify(q), [hostDigestSigner(K)])).rejects.toThrow(/to_address does not match/);
    const r = transferPayload(1_000);
    (r.raw_data as RawDataJson).expiration = EXPIRATION + 1;
    await expect(signTron(JSON.stringify(r), [hostDigestSigner(K)])).rejects.toThrow(/raw_data\.expiration/);
  });

  describe('malformed payloads', () => {
    const withRaw = (raw: string) => ({ ...transferPayload(), raw_data_hex: raw, txID: createHash('sha256').update(Buffer.from(raw, 'hex')).digest('hex') });
    const cases: [string, unknown, RegExp][] = [
      ['not JSON', 'nope', /not valid JSON/],
      ['txID not hex', { ...transferPayload(), txID: 'xyz' }, /txID is not valid hex/],
      ['raw_data_hex odd', { ...transferPayload(), raw_data_hex: 'abc' }, /raw_data_hex is not valid hex/],
      ['truncated protobuf', withRaw((transferPayload().raw_data_hex as string).slice(0, 30)), /malformed/],
      [
        'unsupported contract type',
        withRaw(rawHex({ type: 54, typeName: 'FreezeBalanceV2Contract', value: [...fBytes(1, OWNER)] })),
        /contract type 54 is not signed/,
      ],
      ['type_url mismatch', withRaw(rawHex({ type: 1, typeName: 'TriggerSmartContract', value: [...fBytes(1, OWNER)] })), /type_url/],
      ['bad owner length', withRaw(rawHex({ value: [...fBytes(1, [0x41, 1, 2]), ...fBytes(2, TO)] })), /owner_address is not a 21-byte TRON address/],
      [
        'no raw_data',
        (() => {
          const p = transferPayload();
          delete p.raw_data;
          return p;
        })(),
        /raw_data is missing/,
      ],
    ];
    for (const [name, payload, re] of cases) {
      it(name, async () => {
        await expect(signTron(typeof payload === 'string' ? payload : JSON.stringify(payload), [hostDigestSigner(K)])).rejects.toThrow(re);
      });
    }
  });
});

describe('decodeTron', () => {
  it('decodes TRX transfers, TRC-20 transfers and other calls', () => {
    expect(decodeTron(transferPayload(2_000_000))).toEqual({ chain: 'TRON', outputs: [{ address: tronBase58(TO), amount: 2_000_000n }] });
    const data = 'a9059cbb' + '0'.repeat(24) + hex(TO).slice(2) + (5n * 10n ** 6n).toString(16).padStart(64, '0');
    expect(decodeTron(trc20Payload(data))).toEqual({
      chain: 'TRON',
      outputs: [],
      token: { contract: 'TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t', standard: 'TRC20', to: tronBase58(TO), amount: 5_000_000n },
      fee: 100_000_000n,
    });
    const call = decodeTron(trc20Payload('095ea7b3' + '00'.repeat(64), 7));
    expect(call.call).toMatchObject({ kind: 'call', to: 'TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t', selector: '0x095ea7b3', dataLength: 68 });
    expect(call.call?.data).toMatch(/^095ea7b3[0-9a-f]{128}$/);
    expect(call.outputs).toEqual([{ address: 'TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t', amount: 7n }]);
  });

  it('base58 matches known TRON addresses', () => {
    expect(tronBase58(Uint8Array.from([0x41, ...new Uint8Array(20)]))).toBe('T9yD14Nj9j7xAB4dbGeiX9h8unkKHxuWwb');
    expect(tronBase58(USDT)).toBe('TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t');
  });
});
