/**
 * The Tatum fixture corpus (test/fixtures/tatum/) and its independent verifiers, shared by
 * tatum-fixtures.test.ts (testnet, every chain) and tatum-fixtures-mainnet.test.ts (a mainnet
 * daemon; a separate file because SoftHSM2 reads its configuration once per process). What
 * the daemon broadcast is checked by each chain's own library, never by hardkms code.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ed25519 } from '@noble/curves/ed25519';
import {
  Address as EgldAddress,
  Transaction as EgldTransaction,
  TransactionComputer,
  UserPublicKey,
} from '@multiversx/sdk-core';
import { secp256k1 } from '@noble/curves/secp256k1';
import { keccak_256 } from '@noble/hashes/sha3';
import { Keypair, Networks, Transaction as XlmTransaction, TransactionBuilder } from '@stellar/stellar-base';
import algosdk from 'algosdk';
import { crypto as bcrypto, payments, script as bscript, Transaction, type Network } from 'bitcoinjs-lib';
import bs58check from 'bs58check';
import { getAddress, keccak256, Transaction as EvmTransaction } from 'ethers';
import { decode as xrpDecode, encodeForSigning } from 'ripple-binary-codec';
import { verify as rippleVerify } from 'ripple-keypairs';
import { Transaction as VetTransaction } from 'thor-devkit';
import type { TatumChain } from '../../src/signer/source/tatum-paths.js';
import { decodeCip64 } from '../support/cip64.js';
import type { HardhatNode } from '../../scripts/lib/hardhat-node.js';
import type { FakeTatumApi, RecordedBroadcast } from '../../scripts/lib/tatum-api-server.js';
import { decodeSignedEnvelope } from '../support/ada-rosetta.js';
import CardanoLib from '@emurgo/cardano-serialization-lib-nodejs';

import type { Litecoind } from '../../scripts/lib/litecoind.js';
import type { FakeSolanaRpc } from '../support/sol-rpc.js';
import { Message, Transaction as SolTransaction } from '@solana/web3.js';
import { expect, it } from 'vitest';
export const DIR = fileURLToPath(new URL('../fixtures/tatum/', import.meta.url));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

export type Expect =
  | { kind: 'utxo'; network: 'BTC' | 'LTC' | 'DOGE'; broadcast: Kind; inputOwners: string[] }
  | { kind: 'bch'; broadcast: Kind; amounts: number[]; inputOwnerHash160: string[] }
  | ({ kind: 'evm'; broadcast: Kind; from: string; to: string; value: string; type: number; node?: boolean } & Partial<
      Record<EvmNumber, string | number>
    > & {
        data?: string;
        feeCurrency?: string;
      })
  | { kind: 'tron'; broadcast: Kind; owner: string; contractType: number }
  | { kind: 'xrp'; broadcast: Kind; account: string }
  | { kind: 'xlm'; broadcast: Kind; source: string }
  | { kind: 'algo'; broadcast: Kind; sender: string }
  | { kind: 'vet'; broadcast: Kind; origin: string }
  | { kind: 'sol'; broadcast: Kind; feePayer: string }
  | { kind: 'egld'; broadcast: Kind; sender: string; receiver: string; value: string; data?: string }
  | { kind: 'ada'; broadcast: Kind; signers: string[]; outputs: [string, string][]; fee: string }
  | { kind: 'error'; error: string };
type Kind = 'blockchain' | 'offchain';
type EvmNumber = 'nonce' | 'gasPrice' | 'gasLimit' | 'gasLimitAtLeast' | 'gasOverEstimate' | 'chainId' | 'maxFeePerGas';

export interface Fixture {
  name: string;
  about: string;
  regtest?: boolean;
  pending: Record<string, unknown> & { id: string; chain: TatumChain; serializedTransaction: string; hashes: string[] };
  /** `log`: a regular expression the daemon's log must match (a skipped wallet is logged, not an error). */
  expect: Expect & { log?: string };
}

export const WALLETS = JSON.parse(readFileSync(`${DIR}wallets.json`, 'utf8')) as Record<
  string,
  { chain: string; testnet: boolean; mnemonic?: string; privateKey?: string; secret?: string }
>;
export const FIXTURES: Fixture[] = readdirSync(DIR)
  .filter((f) => f.endsWith('.json') && f !== 'wallets.json')
  .sort()
  .map((f) => ({
    name: f.replace(/\.json$/, ''),
    ...(JSON.parse(readFileSync(DIR + f, 'utf8')) as Omit<Fixture, 'name'>),
  }));

export const MAINNET_WALLETS = JSON.parse(readFileSync(`${DIR}mainnet/wallets.json`, 'utf8')) as typeof WALLETS;
export const MAINNET_FIXTURES: Fixture[] = readdirSync(`${DIR}mainnet`)
  .filter((f) => f.endsWith('.json') && f !== 'wallets.json')
  .sort()
  .map((f) => ({
    name: f.replace(/\.json$/, ''),
    ...(JSON.parse(readFileSync(`${DIR}mainnet/${f}`, 'utf8')) as Omit<Fixture, 'name'>),
  }));

/** Chains signed by the daemon whose fixtures another lane adds with the chain itself. */
export const FIXTURES_COME_WITH_THE_CHAIN = new Set(['FLOW']);
/** The EVM chains broadcast to Hardhat (their chain ids overridden to Hardhat's on this testnet daemon). */
export const HARDHAT_CHAINS = ['ETH', 'BSC', 'MATIC', 'KLAY', 'ONE', 'XDC', 'KCS'] as const;

// Testnet address encodings (Tatum's, §4.2), to name input owners.
export const NETWORKS: Record<'BTC' | 'LTC' | 'DOGE', Network> = {
  BTC: {
    messagePrefix: '',
    bech32: 'tb',
    bip32: { public: 0x043587cf, private: 0x04358394 },
    pubKeyHash: 0x6f,
    scriptHash: 0xc4,
    wif: 0xef,
  },
  LTC: {
    messagePrefix: '',
    bech32: 'tltc',
    bip32: { public: 0x0436f6e1, private: 0x0436ef7d },
    pubKeyHash: 0x6f,
    scriptHash: 0x3a,
    wif: 0xef,
  },
  DOGE: {
    messagePrefix: '',
    bech32: '',
    bip32: { public: 0x043587cf, private: 0x04358394 },
    pubKeyHash: 0x71,
    scriptHash: 0xc4,
    wif: 0xf1,
  },
};
// litecoind -regtest: as Tatum's LTC testnet but bech32 'rltc'; only to name addresses for the node.
export const LTC_REGTEST: Network = { ...NETWORKS.LTC, bech32: 'rltc' };

export interface BitcoreInput {
  prevTxId: string;
  outputIndex: number;
  output: { satoshis: number; script: string };
}
export interface BitcoreJson {
  hash: string;
  inputs: BitcoreInput[];
  outputs: { satoshis: number; script: string }[];
}

/** The protobuf varint/length fields of one message (enough to read TRON's Transaction.raw). */
function protoFields(buf: Uint8Array): Map<number, (bigint | Uint8Array)[]> {
  const out = new Map<number, (bigint | Uint8Array)[]>();
  let pos = 0;
  const varint = () => {
    let r = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const b = buf[pos++]!;
      r |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return r;
    }
  };
  while (pos < buf.length) {
    const key = Number(varint());
    const wire = key & 7;
    if (wire !== 0 && wire !== 2) throw new Error(`wire type ${wire}`);
    let v: bigint | Uint8Array = varint();
    if (wire === 2) {
      const start = pos;
      pos += Number(v);
      v = buf.slice(start, pos);
    }
    out.set(key >> 3, [...(out.get(key >> 3) ?? []), v]);
  }
  return out;
}

function tronBase58FromPub(pub: Uint8Array): string {
  const uncompressed = secp256k1.ProjectivePoint.fromHex(pub).toRawBytes(false);
  return bs58check.encode(Uint8Array.from([0x41, ...keccak_256(uncompressed.subarray(1)).subarray(12)]));
}

/** One funding transfer per EVM sender of a fixture that is mined, from Hardhat's account 1. */
export async function fundSenders(fixtures: Fixture[], evm: Map<string, HardhatNode>): Promise<void> {
  const done = new Set<string>();
  for (const f of fixtures) {
    if (f.expect.kind !== 'evm' || f.expect.node !== true) continue;
    const node = evm.get(f.pending.chain)!;
    const key = `${node.chainId}:${getAddress(f.expect.from)}`;
    if (done.has(key)) continue;
    done.add(key);
    // Hardhat's own (unlocked) account, through JSON-RPC: ethers would ask Polygon's gas station on chain id 137.
    await node.rpc.rpc.call('eth_sendTransaction', [
      { from: node.accounts[1]!.address, to: getAddress(f.expect.from), value: '0xde0b6b3a7640000' },
    ]);
  }
}

export interface Ctx {
  api: FakeTatumApi;
  served: Map<string, Fixture['pending']>;
  evm: Map<string, HardhatNode>;
  ltc?: Litecoind | undefined;
  sol?: FakeSolanaRpc;
  /** The daemon's stderr (its log). */
  log: string;
}

const broadcastOf = (api: FakeTatumApi, f: Fixture): RecordedBroadcast => {
  const b = api.broadcasts.filter((x) => x.signatureId === f.pending.id);
  expect(
    b,
    `${f.name}: one broadcast\n${api.errorReports.find((e) => e.signatureId === f.pending.id)?.error ?? ''}`,
  ).toHaveLength(1);
  expect(b[0]!.error, f.name).toBeUndefined();
  return b[0]!;
};

export function fixtureTests(fixtures: Fixture[], ctx: () => Ctx): void {
  for (const f of fixtures) {
    it(`${f.name}: ${f.about}`, async () => {
      const x = f.expect;
      const { api, served } = ctx();
      const pending = served.get(f.name)!;
      if (x.kind === 'error') {
        const errors = api.errorReports.filter((e) => e.signatureId === f.pending.id).map((e) => e.error);
        expect(errors).toEqual([expect.stringMatching(new RegExp(x.error))]);
        expect(api.broadcasts.filter((b) => b.signatureId === f.pending.id)).toEqual([]);
        return;
      }
      if (f.expect.log !== undefined) expect(ctx().log).toMatch(new RegExp(f.expect.log));
      const b = broadcastOf(api, f);
      expect(b.kind).toBe(x.broadcast);
      if (x.broadcast === 'offchain')
        expect(b).toMatchObject({ withdrawalId: f.pending.withdrawalId, chain: f.pending.chain });
      if (x.kind === 'utxo') await verifyUtxo(ctx(), pending, b, x);
      else if (x.kind === 'bch') verifyBch(b, x);
      else if (x.kind === 'evm') await verifyEvm(ctx().evm.get(f.pending.chain), b, x);
      else if (x.kind === 'tron') verifyTron(pending, b, x);
      else if (x.kind === 'xrp') verifyXrp(pending, b, x);
      else if (x.kind === 'xlm') verifyXlm(pending, b, x);
      else if (x.kind === 'algo') verifyAlgo(pending, b, x);
      else if (x.kind === 'sol') verifySol(ctx().sol!, pending, b, x);
      else if (x.kind === 'egld') await verifyEgld(b, x);
      else if (x.kind === 'ada') verifyAda(b, x);
      else verifyVet(pending, b, x);
    });
  }
}

async function verifyUtxo(
  ctx: Ctx,
  pending: Fixture['pending'],
  b: RecordedBroadcast,
  x: Extract<Expect, { kind: 'utxo' }>,
): Promise<void> {
  const st = JSON.parse(pending.serializedTransaction) as BitcoreJson;
  const tx = Transaction.fromHex(b.txData);
  expect(tx.outs.map((o) => [hex(o.script), Number(o.value)])).toEqual(st.outputs.map((o) => [o.script, o.satoshis]));
  expect(tx.ins.map((i) => [hex(Uint8Array.from(i.hash).reverse()), i.index])).toEqual(
    st.inputs.map((i) => [i.prevTxId, i.outputIndex]),
  );
  const owners = tx.ins.map((input, i) => {
    const spent = Buffer.from(st.inputs[i]!.output.script, 'hex');
    const segwit = spent[0] === 0x00;
    const [sigSh, pub] = (segwit ? input.witness : (bscript.decompile(input.script) as Uint8Array[])) as Uint8Array[];
    expect(hex(bcrypto.hash160(pub!))).toBe(hex(spent.subarray(segwit ? 2 : 3, segwit ? 22 : 23)));
    expect(sigSh![sigSh!.length - 1]).toBe(0x01);
    const digest = segwit
      ? tx.hashForWitnessV0(
          i,
          payments.p2pkh({ hash: bcrypto.hash160(pub!) }).output!,
          BigInt(st.inputs[i]!.output.satoshis),
          0x01,
        )
      : tx.hashForSignature(i, spent, 0x01);
    const sig = secp256k1.Signature.fromDER(sigSh!.subarray(0, -1));
    expect(sig.hasHighS()).toBe(false);
    expect(secp256k1.verify(sig.toCompactRawBytes(), digest, pub!, { prehash: false })).toBe(true);
    const net = NETWORKS[x.network];
    return (segwit ? payments.p2wpkh({ pubkey: pub!, network: net }) : payments.p2pkh({ pubkey: pub!, network: net }))
      .address;
  });
  expect(owners).toEqual(x.inputOwners);
  if (x.network === 'LTC' && ctx.ltc !== undefined) {
    expect(b.txId).toBe(tx.getId());
    expect(
      ((await ctx.ltc.getRawTransaction(b.txId!)) as { confirmations?: number }).confirmations,
    ).toBeGreaterThanOrEqual(1);
  }
}

function verifyBch(b: RecordedBroadcast, x: Extract<Expect, { kind: 'bch' }>): void {
  const tx = Transaction.fromHex(b.txData);
  expect(tx.ins).toHaveLength(x.amounts.length);
  tx.ins.forEach((input, i) => {
    const [sigSh, pub] = bscript.decompile(input.script) as Uint8Array[];
    expect(hex(bcrypto.hash160(pub!))).toBe(x.inputOwnerHash160[i]);
    expect(sigSh![sigSh!.length - 1]).toBe(0x41);
    const digest = tx.hashForWitnessV0(
      i,
      payments.p2pkh({ hash: bcrypto.hash160(pub!) }).output!,
      BigInt(x.amounts[i]!),
      0x41,
    );
    const sig = secp256k1.Signature.fromDER(sigSh!.subarray(0, -1));
    expect(secp256k1.verify(sig.toCompactRawBytes(), digest, pub!, { prehash: false })).toBe(true);
  });
}

async function verifyEvm(
  node: HardhatNode | undefined,
  b: RecordedBroadcast,
  x: Extract<Expect, { kind: 'evm' }>,
): Promise<void> {
  const d =
    x.type === 123
      ? (() => {
          const c = decodeCip64(b.txData);
          return { ...c, type: 123, gasLimit: c.gas };
        })()
      : (() => {
          const t = EvmTransaction.from(b.txData);
          return {
            ...t.toJSON(),
            type: t.type,
            from: t.from!,
            to: t.to,
            value: t.value,
            data: t.data,
            chainId: t.chainId,
            nonce: BigInt(t.nonce),
            gasLimit: t.gasLimit,
            gasPrice: t.gasPrice,
          };
        })();
  expect(d.from.toLowerCase()).toBe(x.from);
  expect(String(d.to).toLowerCase()).toBe(x.to);
  expect(BigInt(d.value)).toBe(BigInt(x.value));
  expect(d.type).toBe(x.type);
  expect(String(d.chainId)).toBe(String(x.chainId ?? node?.chainId));
  if (x.data !== undefined) expect(String(d.data).toLowerCase()).toBe(x.data);
  if (x.nonce !== undefined) expect(BigInt(d.nonce)).toBe(BigInt(x.nonce));
  if (x.gasLimit !== undefined) expect(BigInt(d.gasLimit)).toBe(BigInt(x.gasLimit));
  if (x.gasLimitAtLeast !== undefined) expect(BigInt(d.gasLimit)).toBeGreaterThanOrEqual(BigInt(x.gasLimitAtLeast));
  if (x.gasOverEstimate !== undefined) {
    const estimate = await node!.rpc.estimateGas({
      from: getAddress(x.from),
      to: getAddress(x.to),
      value: BigInt(x.value),
    });
    expect(BigInt(d.gasLimit)).toBe(estimate + BigInt(x.gasOverEstimate));
  }
  if (x.gasPrice !== undefined) expect(BigInt((d as { gasPrice?: bigint }).gasPrice ?? -1n)).toBe(BigInt(x.gasPrice));
  if (x.maxFeePerGas !== undefined) expect((d as { maxFeePerGas?: bigint }).maxFeePerGas).toBe(BigInt(x.maxFeePerGas));
  if (x.feeCurrency !== undefined)
    expect(String((d as { feeCurrency?: string }).feeCurrency).toLowerCase()).toBe(x.feeCurrency);
  if (x.node === true) {
    expect(b.txId).toBe(keccak256(b.txData));
    expect((await node!.rpc.getTransactionReceipt(b.txId!))?.status).toBe(1);
  }
}

function verifyTron(pending: Fixture['pending'], b: RecordedBroadcast, x: Extract<Expect, { kind: 'tron' }>): void {
  const { signature, ...rest } = JSON.parse(b.txData) as { signature: string[]; txID: string; raw_data_hex: string };
  expect(rest).toEqual(JSON.parse(pending.serializedTransaction));
  expect(sha256(Buffer.from(rest.raw_data_hex, 'hex'))).toBe(rest.txID);
  const contract = protoFields(protoFields(Buffer.from(rest.raw_data_hex, 'hex')).get(11)![0] as Uint8Array);
  expect(Number(contract.get(1)![0])).toBe(x.contractType);
  expect(signature).toHaveLength(1);
  expect(signature[0]).toMatch(/^[0-9a-f]{130}$/);
  const v = parseInt(signature[0]!.slice(128), 16);
  const sig = secp256k1.Signature.fromCompact(signature[0]!.slice(0, 128)).addRecoveryBit(v - 27);
  expect(sig.hasHighS()).toBe(false);
  const pub = sig.recoverPublicKey(Buffer.from(rest.txID, 'hex')).toRawBytes(true);
  expect(tronBase58FromPub(pub)).toBe(x.owner);
}

function verifyXrp(pending: Fixture['pending'], b: RecordedBroadcast, x: Extract<Expect, { kind: 'xrp' }>): void {
  const tx = xrpDecode(b.txData) as Record<string, unknown>;
  expect(tx.Account).toBe(x.account);
  expect(rippleVerify(encodeForSigning(tx), tx.TxnSignature as string, tx.SigningPubKey as string)).toBe(true);
  const { TxnSignature: _s, SigningPubKey: _p, ...signedFields } = tx;
  expect(signedFields).toEqual(JSON.parse(pending.serializedTransaction));
}

function verifyXlm(pending: Fixture['pending'], b: RecordedBroadcast, x: Extract<Expect, { kind: 'xlm' }>): void {
  const signed = TransactionBuilder.fromXDR(b.txData, Networks.TESTNET) as XlmTransaction;
  const unsigned = TransactionBuilder.fromXDR(pending.serializedTransaction, Networks.TESTNET) as XlmTransaction;
  expect(signed.source).toBe(x.source);
  expect(hex(signed.hash())).toBe(hex(unsigned.hash()));
  expect(signed.signatures).toHaveLength(1);
  expect(Keypair.fromPublicKey(x.source).verify(signed.hash(), signed.signatures[0]!.signature())).toBe(true);
}

function verifyAlgo(pending: Fixture['pending'], b: RecordedBroadcast, x: Extract<Expect, { kind: 'algo' }>): void {
  const stx = algosdk.decodeSignedTransaction(Uint8Array.from(Buffer.from(b.txData, 'hex')));
  expect(stx.txn.sender.toString()).toBe(x.sender);
  expect(ed25519.verify(stx.sig!, stx.txn.bytesToSign(), algosdk.decodeAddress(x.sender).publicKey)).toBe(true);
  const p = JSON.parse(pending.serializedTransaction) as {
    amount: number;
    fee: number;
    firstRound: number;
    lastRound: number;
    genesisID: string;
  };
  expect(stx.txn.payment?.amount).toBe(BigInt(p.amount));
  expect([stx.txn.fee, stx.txn.firstValid, stx.txn.lastValid, stx.txn.genesisID]).toEqual([
    BigInt(p.fee),
    BigInt(p.firstRound),
    BigInt(p.lastRound),
    p.genesisID,
  ]);
}

function verifyVet(pending: Fixture['pending'], b: RecordedBroadcast, x: Extract<Expect, { kind: 'vet' }>): void {
  const tx = VetTransaction.decode(Buffer.from(b.txData.slice(2), 'hex'));
  expect(tx.origin).toBe(x.origin);
  const p = JSON.parse(pending.serializedTransaction) as { to: string; value: string };
  expect(tx.body.clauses).toHaveLength(1);
  expect(tx.body.clauses[0]!.to).toBe(p.to);
  expect(BigInt(tx.body.clauses[0]!.value)).toBe(BigInt(p.value));
  expect(tx.body.chainTag).toBe(0x27);
}

function verifySol(
  rpc: FakeSolanaRpc,
  pending: Fixture['pending'],
  b: RecordedBroadcast,
  x: Extract<Expect, { kind: 'sol' }>,
): void {
  // txData is the signature of the transaction the signer submitted through Tatum's SOL RPC.
  const sent = rpc.transactions.find((t) => t.signature === b.txData);
  expect(sent, 'submitted through the SOL RPC').toBeDefined();
  const tx = SolTransaction.from(sent!.wire);
  expect(tx.verifySignatures()).toBe(true);
  expect(tx.feePayer?.toBase58()).toBe(x.feePayer);
  expect(tx.recentBlockhash).not.toBe('7WyEshBZcZwEbJsvSeGgCkSNMxxxFAym3x7Cuj6UjAUE');
  // The same message as the payload's, but for the fresh blockhash.
  const m = Message.from(Buffer.from((JSON.parse(pending.serializedTransaction) as { txData: string }).txData, 'hex'));
  m.recentBlockhash = tx.recentBlockhash!;
  expect(hex(m.serialize())).toBe(hex(tx.serializeMessage()));
}

/** The signed JSON posted to /v3/egld/broadcast, read and its signature checked by @multiversx/sdk-core. */
async function verifyEgld(b: RecordedBroadcast, x: Extract<Expect, { kind: 'egld' }>): Promise<void> {
  const plain = JSON.parse(b.txData) as Parameters<typeof EgldTransaction.newFromPlainObject>[0];
  const tx = EgldTransaction.newFromPlainObject(plain);
  expect(tx.sender.toBech32()).toBe(x.sender);
  expect(tx.receiver.toBech32()).toBe(x.receiver);
  expect(tx.value.toString()).toBe(x.value);
  expect(Buffer.from(tx.data).toString('utf8')).toBe(x.data ?? '');
  expect(tx.chainID).toBe('D');
  const signer = new UserPublicKey(Buffer.from(EgldAddress.newFromBech32(x.sender).getPublicKey()));
  expect(await signer.verify(new TransactionComputer().computeBytesForSigning(tx), tx.signature)).toBe(true);
}

/**
 * The Rosetta envelope posted to /v3/ada/broadcast (or the withdrawal endpoint), decoded by
 * cardano-serialization-lib: the outputs and fee are the operations', and each witness is a
 * signer's key (its hash is the address's payment key hash) whose signature verifies over
 * the transaction id.
 */
function verifyAda(b: RecordedBroadcast, x: Extract<Expect, { kind: 'ada' }>): void {
  const tx = decodeSignedEnvelope(b.txData);
  const body = tx.body();
  const outs = body.outputs();
  const got: [string, string][] = [];
  for (let i = 0; i < outs.len(); i++)
    got.push([outs.get(i).address().to_bech32(undefined), outs.get(i).amount().coin().to_str()]);
  expect(got).toEqual(x.outputs);
  expect(body.fee().to_str()).toBe(x.fee);
  const id = tx.transaction_hash().to_bytes();
  const vkeys = tx.witness_set().vkeys()!;
  const signers: string[] = [];
  for (let i = 0; i < vkeys.len(); i++) {
    const w = vkeys.get(i);
    const pub = w.vkey().public_key();
    expect(pub.verify(id, w.signature())).toBe(true);
    signers.push(
      CardanoLib.EnterpriseAddress.new(0, CardanoLib.Credential.from_keyhash(pub.hash()))
        .to_address()
        .to_bech32(undefined),
    );
  }
  expect([...signers].sort()).toEqual([...x.signers].sort());
}
