/** ALGO test helpers: payloads in the shape of JSON.stringify(algosdk 1.16 Transaction) (chains §2.4). */
import algosdk from 'algosdk';
import { ALGO_NETWORKS } from '../../src/chains/algo/sign.js';

/** algosdk 1.16's JSON of a Uint8Array: an index→byte map. */
export function byteMap(b: Uint8Array): Record<string, number> {
  return Object.fromEntries([...b].map((v, i) => [String(i), v]));
}

function addr(a: string): { publicKey: Record<string, number>; checksum: Record<string, number> } {
  const d = algosdk.decodeAddress(a);
  return { publicKey: byteMap(d.publicKey), checksum: byteMap(d.checksum()) };
}

export interface AlgoFields {
  from: string;
  to: string;
  amount?: number;
  type?: 'pay' | 'axfer';
  fee?: number;
  flatFee?: boolean;
  note?: Uint8Array;
  assetIndex?: number;
  testnet?: boolean;
  extra?: Record<string, unknown>;
}

/** Tatum's builder output: payments flatFee true, ASA transfers flatFee false; firstRound..+1000. */
export function algoPayload(f: AlgoFields): string {
  const type = f.type ?? 'pay';
  const net = f.testnet === false ? ALGO_NETWORKS.mainnet : ALGO_NETWORKS.testnet;
  return JSON.stringify({
    name: 'Transaction',
    tag: { type: 'Buffer', data: [84, 88] },
    from: addr(f.from),
    to: addr(f.to),
    amount: f.amount ?? 1_000_000,
    note: byteMap(f.note ?? new Uint8Array()),
    type,
    flatFee: f.flatFee ?? type === 'pay',
    fee: f.fee ?? 1000,
    genesisHash: { type: 'Buffer', data: [...Buffer.from(net.genesisHash, 'base64')] },
    firstRound: 30_000_000,
    lastRound: 30_001_000,
    genesisID: net.genesisID,
    appArgs: [],
    lease: {},
    ...(type === 'axfer' ? { assetIndex: f.assetIndex ?? 10458941 } : {}),
    ...f.extra,
  });
}
