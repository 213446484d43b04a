import { describe, it, expect } from 'vitest';
import { createHash } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1';
import { keccak_256 } from '@noble/hashes/sha3';
import { hostDigestSigner } from '../../../src/chains/digest-signer.js';
import { tronBase58 } from '../../../src/chains/tron/address.js';
import { decodeTron, signTron } from '../../../src/chains/tron/sign.js';
import { fBytes, fVarint } from '../../support/protobuf-writer.js';
import { rejectionOf } from '../../support/rejection.js';

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
          parameter: {
            value: { amount, owner_address: addr(owner), to_address: addr(TO) },
            type_url: 'type.googleapis.com/protocol.TransferContract',
          },
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
  const value = [
    ...fBytes(1, OWNER),
    ...fBytes(2, USDT),
    ...(callValue > 0 ? fVarint(3, callValue) : []),
    ...fBytes(4, [...Buffer.from(data, 'hex')]),
  ];
  const raw = rawHex({ type: 31, typeName: 'TriggerSmartContract', value }, 100_000_000);
  const v: Record<string, unknown> = { data, owner_address: hex(OWNER), contract_address: hex(USDT) };
  if (callValue > 0) v.call_value = callValue;
  return {
    visible: false,
    txID: createHash('sha256').update(Buffer.from(raw, 'hex')).digest('hex'),
    raw_data: {
      contract: [
        {
          parameter: { value: v, type_url: 'type.googleapis.com/protocol.TriggerSmartContract' },
          type: 'TriggerSmartContract',
        },
      ],
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
    await expect(
      signTron(JSON.stringify({ ...transferPayload(), signature: ['00'] }), [hostDigestSigner(K)]),
    ).rejects.toThrow(/already carries a signature/);
  });

  it('refuses raw_data JSON that disagrees with raw_data_hex', async () => {
    const p = transferPayload(1_000);
    (p.raw_data as RawDataJson).contract[0]!.parameter.value.amount = 9_999_999;
    await expect(signTron(JSON.stringify(p), [hostDigestSigner(K)])).rejects.toThrow(
      /raw_data\.contract\[0\]\.parameter\.value\.amount does not match/,
    );
    const q = transferPayload(1_000);
    (q.raw_data as RawDataJson).contract[0]!.parameter.value.to_address = hex(OWNER);
    await expect(signTron(JSON.stringify(q), [hostDigestSigner(K)])).rejects.toThrow(/to_address does not match/);
    const r = transferPayload(1_000);
    (r.raw_data as RawDataJson).expiration = EXPIRATION + 1;
    await expect(signTron(JSON.stringify(r), [hostDigestSigner(K)])).rejects.toThrow(/raw_data\.expiration/);
  });

  it.each<[string, unknown]>([
    ['not an array', 'MARK-contract'],
    ['two contracts', [{}, {}]],
    ['no contract', []],
    ['a string entry', ['MARK-contract']],
    ['an array entry', [['MARK-contract']]],
  ])('refuses a raw_data.contract that is %s, as a mismatch naming the field', async (_what, contract) => {
    const p = transferPayload(1_000);
    (p.raw_data as Record<string, unknown>).contract = contract;
    const e = await rejectionOf(signTron(JSON.stringify(p), [hostDigestSigner(K)]), 'MARK');
    expect(e.code).toBe('TX_PAYLOAD_MISMATCH');
    expect(e.message).toMatch(/raw_data\.contract does not match raw_data_hex/);
  });

  describe('malformed payloads', () => {
    const withRaw = (raw: string) => ({
      ...transferPayload(),
      raw_data_hex: raw,
      txID: createHash('sha256').update(Buffer.from(raw, 'hex')).digest('hex'),
    });
    const cases: [string, unknown, RegExp][] = [
      ['not JSON', 'nope', /not valid JSON/],
      ['txID not hex', { ...transferPayload(), txID: 'xyz' }, /txID is not valid hex/],
      ['raw_data_hex odd', { ...transferPayload(), raw_data_hex: 'abc' }, /raw_data_hex is not valid hex/],
      ['truncated protobuf', withRaw((transferPayload().raw_data_hex as string).slice(0, 30)), /malformed/],
      [
        'unsupported contract type',
        withRaw(rawHex({ type: 56, typeName: 'WithdrawExpireUnfreezeContract', value: [...fBytes(1, OWNER)] })),
        /contract type 56 is not signed/,
      ],
      [
        'type_url mismatch',
        withRaw(rawHex({ type: 1, typeName: 'TriggerSmartContract', value: [...fBytes(1, OWNER)] })),
        /type_url/,
      ],
      [
        'bad owner length',
        withRaw(rawHex({ value: [...fBytes(1, [0x41, 1, 2]), ...fBytes(2, TO)] })),
        /owner_address is not a 21-byte TRON address/,
      ],
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
        await expect(
          signTron(typeof payload === 'string' ? payload : JSON.stringify(payload), [hostDigestSigner(K)]),
        ).rejects.toThrow(re);
      });
    }
  });
});

describe('decodeTron', () => {
  it('decodes TRX transfers, TRC-20 transfers and other calls', () => {
    expect(decodeTron(transferPayload(2_000_000))).toEqual({
      chain: 'TRON',
      outputs: [{ address: tronBase58(TO), amount: 2_000_000n }],
    });
    const data = 'a9059cbb' + '0'.repeat(24) + hex(TO).slice(2) + (5n * 10n ** 6n).toString(16).padStart(64, '0');
    expect(decodeTron(trc20Payload(data))).toEqual({
      chain: 'TRON',
      outputs: [],
      token: {
        contract: 'TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t',
        standard: 'TRC20',
        to: tronBase58(TO),
        amount: 5_000_000n,
      },
      fee: 100_000_000n,
    });
    const call = decodeTron(trc20Payload('095ea7b3' + '00'.repeat(64), 7));
    expect(call.call).toMatchObject({
      kind: 'call',
      to: 'TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t',
      selector: '0x095ea7b3',
      dataLength: 68,
    });
    expect(call.call?.data).toMatch(/^095ea7b3[0-9a-f]{128}$/);
    expect(call.outputs).toEqual([{ address: 'TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t', amount: 7n }]);
  });

  it('base58 matches known TRON addresses', () => {
    expect(tronBase58(Uint8Array.from([0x41, ...new Uint8Array(20)]))).toBe('T9yD14Nj9j7xAB4dbGeiX9h8unkKHxuWwb');
    expect(tronBase58(USDT)).toBe('TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t');
  });
});

/* Issue 11 item 6: the other contracts Tatum's TRON builders emit, in TronWeb's JSON shape. */
function contractPayload(
  type: number,
  typeName: string,
  value: number[],
  json: Record<string, unknown>,
  feeLimit?: number,
): Record<string, unknown> {
  const raw = rawHex({ type, typeName, value }, feeLimit);
  return {
    visible: false,
    txID: createHash('sha256').update(Buffer.from(raw, 'hex')).digest('hex'),
    raw_data: {
      contract: [{ parameter: { value: json, type_url: `type.googleapis.com/protocol.${typeName}` }, type: typeName }],
      ref_block_bytes: hex(Uint8Array.from(REF_BYTES)),
      ref_block_hash: hex(Uint8Array.from(REF_HASH)),
      expiration: EXPIRATION,
      ...(feeLimit === undefined ? {} : { fee_limit: feeLimit }),
      timestamp: TIMESTAMP,
    },
    raw_data_hex: raw,
  };
}

const BYTECODE = '608060405234801561001057600080fd5b50';
const STAKE2: Array<
  [string, Record<string, unknown>, { outputs: { address?: string; amount: bigint }[]; call?: unknown }]
> = [
  [
    'FreezeBalanceV2 (ENERGY)',
    contractPayload(54, 'FreezeBalanceV2Contract', [...fBytes(1, OWNER), ...fVarint(2, 10_000_000), ...fVarint(3, 1)], {
      owner_address: hex(OWNER),
      frozen_balance: 10_000_000,
      resource: 'ENERGY',
    }),
    { outputs: [{ address: tronBase58(OWNER), amount: 10_000_000n }] },
  ],
  [
    'UnfreezeBalanceV2 (BANDWIDTH, the default: resource absent)',
    contractPayload(55, 'UnfreezeBalanceV2Contract', [...fBytes(1, OWNER), ...fVarint(2, 3_000_000)], {
      owner_address: hex(OWNER),
      unfreeze_balance: 3_000_000,
    }),
    { outputs: [{ address: tronBase58(OWNER), amount: 3_000_000n }] },
  ],
  [
    'DelegateResource (ENERGY, locked)',
    contractPayload(
      57,
      'DelegateResourceContract',
      [
        ...fBytes(1, OWNER),
        ...fVarint(2, 1),
        ...fVarint(3, 5_000_000),
        ...fBytes(4, TO),
        ...fVarint(5, 1),
        ...fVarint(6, 86400),
      ],
      {
        owner_address: hex(OWNER),
        resource: 'ENERGY',
        balance: 5_000_000,
        receiver_address: hex(TO),
        lock: true,
        lock_period: 86400,
      },
    ),
    { outputs: [{ address: tronBase58(TO), amount: 5_000_000n }] },
  ],
  [
    'UnDelegateResource',
    contractPayload(
      58,
      'UnDelegateResourceContract',
      [...fBytes(1, OWNER), ...fVarint(2, 1), ...fVarint(3, 5_000_000), ...fBytes(4, TO)],
      {
        owner_address: hex(OWNER),
        resource: 'ENERGY',
        balance: 5_000_000,
        receiver_address: hex(TO),
      },
    ),
    { outputs: [{ address: tronBase58(TO), amount: 5_000_000n }] },
  ],
  [
    'CreateSmartContract (a TRC-20 deploy)',
    contractPayload(
      30,
      'CreateSmartContract',
      [
        ...fBytes(1, OWNER),
        ...fBytes(2, [
          ...fBytes(1, OWNER),
          ...fBytes(3, []),
          ...fBytes(4, [...Buffer.from(BYTECODE, 'hex')]),
          ...fVarint(6, 100),
          ...fBytes(7, str('MyToken')),
          ...fVarint(8, 10_000_000),
        ]),
      ],
      {
        owner_address: hex(OWNER),
        new_contract: {
          bytecode: BYTECODE,
          consume_user_resource_percent: 100,
          name: 'MyToken',
          origin_address: hex(OWNER),
          origin_energy_limit: 10_000_000,
          abi: { entrys: [{ type: 'constructor', inputs: [], stateMutability: 'Nonpayable' }] },
        },
      },
      1_000_000_000,
    ),
    { outputs: [], call: { kind: 'deploy', dataLength: BYTECODE.length / 2, data: BYTECODE } },
  ],
  [
    'AssetIssue (a TRC-10 issuance)',
    contractPayload(
      6,
      'AssetIssueContract',
      [
        ...fBytes(1, OWNER),
        ...fBytes(2, str('MyTRC10')),
        ...fBytes(3, str('MYT')),
        ...fVarint(4, 1_000_000),
        ...fVarint(6, 1),
        ...fVarint(7, 6),
        ...fVarint(8, 1),
      ],
      {
        owner_address: hex(OWNER),
        name: hex(Uint8Array.from(str('MyTRC10'))),
        abbr: hex(Uint8Array.from(str('MYT'))),
        total_supply: 1_000_000,
        trx_num: 1,
        precision: 6,
        num: 1,
      },
    ),
    { outputs: [], call: { kind: 'deploy', dataLength: 7 } },
  ],
];

describe('TRON contracts beyond transfers and calls (Stake 2.0, deploys, TRC-10 issuance)', () => {
  for (const [what, payload, expected] of STAKE2) {
    it(`${what}: decoded for the policy, signed over txID (signature recovers to the owner)`, async () => {
      expect(decodeTron(JSON.stringify(payload))).toMatchObject({ chain: 'TRON', ...expected });
      verifyTronSignature(await signTron(JSON.stringify(payload), [hostDigestSigner(K)]));
    });
  }

  it('refuses a raw_data JSON that says something else than raw_data_hex (amount, resource, receiver, bytecode)', async () => {
    const edits: Array<[number, (v: Record<string, unknown>) => void]> = [
      [0, (v) => (v.frozen_balance = 1)],
      [0, (v) => (v.resource = 'BANDWIDTH')],
      [2, (v) => (v.receiver_address = hex(OWNER))],
      [2, (v) => (v.lock = false)],
      [4, (v) => ((v.new_contract as Record<string, unknown>).bytecode = '00')],
    ];
    for (const [i, edit] of edits) {
      const p = structuredClone(STAKE2[i]![1]) as { raw_data: RawDataJson };
      edit(p.raw_data.contract[0]!.parameter.value);
      await expect(signTron(JSON.stringify(p), [hostDigestSigner(K)])).rejects.toMatchObject({
        code: 'TX_PAYLOAD_MISMATCH',
      });
    }
  });

  it("never signs a freeze or delegation of another account's TRX with our key", async () => {
    const other = tronAddr(privKey(9));
    const p = contractPayload(
      57,
      'DelegateResourceContract',
      [...fBytes(1, other), ...fVarint(2, 1), ...fVarint(3, 5), ...fBytes(4, TO)],
      {
        owner_address: hex(other),
        resource: 'ENERGY',
        balance: 5,
        receiver_address: hex(TO),
      },
    );
    await expect(signTron(JSON.stringify(p), [hostDigestSigner(K)])).rejects.toThrow(
      /owner_address .* is not the signing wallet's address/,
    );
  });
});
