/**
 * VeChain (VET) pending transactions (Tatum, chains §2.5 in docs/architecture.md): `serializedTransaction` is
 * a TransactionConfig JSON `{from: 0, to, value, data?, gas, nonce?, expiration?,
 * gasPriceCoef?, chainTag?, blockRef?, dependsOn?}`. The signed transaction is VeChain's
 * RLP body `[chainTag, blockRef, expiration, [[to, value, data]], gasPriceCoef, gas,
 * dependsOn, nonce, reserved]` with a secp256k1 signature (r ‖ s ‖ recovery) over its
 * blake2b256, as `0x` hex for POST /v3/vet/broadcast.
 *
 * As Tatum (thorify): gas is always the estimate (intrinsic gas, plus the VM's gas used and
 * 15000 when a clause executes code), blockRef is the best block's unless the payload gives
 * one, expiration defaults to 720 blocks and gasPriceCoef to 0. Safer than Tatum: the
 * chainTag is pinned (0x4a mainnet, 0x27 testnet) and a payload naming another is refused;
 * a payload without a nonce gets one from the token's RNG (Tatum: Math.random); a payload
 * whose `from` is an address other than the signing key's is refused; dependsOn must be null.
 */
import { Transaction } from 'thor-devkit';
import { getAddress } from 'ethers/address';
import { computeAddress } from 'ethers/transaction';
import { hexlify } from 'ethers/utils';
import {
  kindOf,
  hexField,
  mismatchError,
  parseJsonPayload,
  payloadError,
  uintField,
  unsupportedError,
  type DecodedTx,
} from '../decoded.js';
import { signDigestChecked, type DigestSigner } from '../digest-signer.js';

const CHAIN = 'VET';
const VET_CHAIN_TAG = { mainnet: 0x4a, testnet: 0x27 } as const;
const DEFAULT_EXPIRATION = 720;
/** VTHO per gas (wei) at gasPriceCoef 0: VeChain's base gas price (a 21000-gas transfer costs 0.21 VTHO). */
const VET_BASE_GAS_PRICE = 10n ** 13n;
const UINT256_MAX = (1n << 256n) - 1n;
const ERC20_TRANSFER = 'a9059cbb';

export interface VetClause {
  to: string;
  value: bigint;
  data: string;
}

interface VetFields {
  clause: VetClause;
  from?: string;
  gas?: bigint;
  nonce?: bigint;
  expiration: number;
  gasPriceCoef: number;
  blockRef?: string;
}

/** What the daemon fills from the VeChain node (and the token's RNG) before signing. */
interface VetFill {
  blockRef: string;
  gas: bigint;
  /** Used only when the payload has no nonce. */
  nonce: bigint;
}

export function parseVetPayload(payload: unknown, testnet: boolean): VetFields {
  const o = parseJsonPayload(CHAIN, payload);
  const known = new Set([
    'from',
    'to',
    'value',
    'data',
    'gas',
    'gasPrice',
    'nonce',
    'expiration',
    'gasPriceCoef',
    'chainTag',
    'blockRef',
    'dependsOn',
  ]);
  for (const k of Object.keys(o))
    if (!known.has(k))
      throw unsupportedError(
        CHAIN,
        `field ${JSON.stringify(k.slice(0, 40))} is not a VeChain transaction field; not signed`,
      );
  if (typeof o.to !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(o.to)) {
    throw unsupportedError(CHAIN, `to must be a 0x address (contract deployments are not signed), got ${kindOf(o.to)}`);
  }
  const value = o.value === undefined ? 0n : uintField(CHAIN, 'value', o.value, { allowHex: true, max: UINT256_MAX });
  const data =
    o.data === undefined || o.data === null || o.data === '' || o.data === '0x'
      ? '0x'
      : hexlify(hexField(CHAIN, 'data', o.data, { allow0x: true }));
  const tag = testnet ? VET_CHAIN_TAG.testnet : VET_CHAIN_TAG.mainnet;
  if (
    o.chainTag !== undefined &&
    o.chainTag !== null &&
    Number(uintField(CHAIN, 'chainTag', o.chainTag, { allowHex: true, max: 255n })) !== tag
  ) {
    throw mismatchError(
      CHAIN,
      `chainTag is not this ${testnet ? 'testnet' : 'mainnet'} daemon's 0x${tag.toString(16)}: the transaction is for another network`,
    );
  }
  if (o.dependsOn !== undefined && o.dependsOn !== null)
    throw unsupportedError(CHAIN, 'dependsOn is set; Tatum builds independent transactions');
  let from: string | undefined;
  if (typeof o.from === 'string' && /^0x[0-9a-fA-F]{40}$/.test(o.from)) from = getAddress(o.from);
  else if (o.from !== undefined && o.from !== 0 && o.from !== '0' && o.from !== null)
    throw payloadError(CHAIN, `from must be 0 or an address, got ${kindOf(o.from)}`);
  const blockRef =
    o.blockRef === undefined || o.blockRef === null
      ? undefined
      : hexlify(hexField(CHAIN, 'blockRef', o.blockRef, { allow0x: true, length: 8 }));
  return {
    clause: { to: getAddress(o.to), value, data },
    ...(from === undefined ? {} : { from }),
    ...(o.gas === undefined || o.gas === null
      ? {}
      : { gas: uintField(CHAIN, 'gas', o.gas, { allowHex: true, max: (1n << 64n) - 1n }) }),
    ...(o.nonce === undefined || o.nonce === null
      ? {}
      : { nonce: uintField(CHAIN, 'nonce', o.nonce, { allowHex: true, max: (1n << 64n) - 1n }) }),
    expiration:
      o.expiration === undefined || o.expiration === null
        ? DEFAULT_EXPIRATION
        : Number(uintField(CHAIN, 'expiration', o.expiration, { max: 0xffff_ffffn })),
    gasPriceCoef:
      o.gasPriceCoef === undefined || o.gasPriceCoef === null
        ? 0
        : Number(uintField(CHAIN, 'gasPriceCoef', o.gasPriceCoef, { max: 255n })),
    ...(blockRef === undefined ? {} : { blockRef }),
  };
}

/** Intrinsic gas of the clause (thor-devkit's), what Tatum's estimate starts from. */
export function vetIntrinsicGas(clause: VetClause): bigint {
  return BigInt(Transaction.intrinsicGas([{ to: clause.to, value: clause.value.toString(), data: clause.data }]));
}

/** VTHO (wei) the transaction can cost: gas × base price × (1 + coef/255). */
export function vetFee(gas: bigint, gasPriceCoef: number): bigint {
  return (gas * VET_BASE_GAS_PRICE * (255n + BigInt(gasPriceCoef))) / 255n;
}

/** What the transaction moves, for the policy: VET (wei), a VIP-180 transfer, or another call; the fee in VTHO wei. */
export function decodeVet(payload: unknown, testnet: boolean, fill?: { gas: bigint }): DecodedTx {
  const f = parseVetPayload(payload, testnet);
  const decoded: DecodedTx = { chain: CHAIN, outputs: [] };
  const { clause } = f;
  if (clause.value > 0n || clause.data === '0x') decoded.outputs.push({ address: clause.to, amount: clause.value });
  const hex = clause.data.slice(2).toLowerCase();
  if (hex.length > 0) {
    if (hex.startsWith(ERC20_TRANSFER) && hex.length === 8 + 128 && /^0{24}/.test(hex.slice(8, 72))) {
      decoded.token = {
        contract: clause.to,
        standard: 'VIP180',
        to: getAddress(`0x${hex.slice(32, 72)}`),
        amount: BigInt(`0x${hex.slice(72)}`),
      };
    } else {
      decoded.call = {
        kind: 'call',
        to: clause.to,
        dataLength: hex.length / 2,
        data: hex,
        ...(hex.length >= 8 ? { selector: `0x${hex.slice(0, 8)}` } : {}),
      };
    }
  }
  if (fill !== undefined) decoded.fee = vetFee(fill.gas, f.gasPriceCoef);
  return decoded;
}

/** Signs with the first wallet's key (private key or mnemonic child). Returns 0x-hex of the signed RLP. */
export async function signVet(
  payload: unknown,
  signers: readonly DigestSigner[],
  testnet: boolean,
  fill: VetFill,
): Promise<string> {
  const f = parseVetPayload(payload, testnet);
  const signer = signers[0];
  if (signer === undefined) throw mismatchError(CHAIN, 'no key to sign with');
  const origin = computeAddress(hexlify(signer.publicKey));
  if (f.from !== undefined && f.from !== origin)
    throw mismatchError(CHAIN, `from ${f.from} is not the signing wallet's address ${origin.toLowerCase()}`);
  const body: ConstructorParameters<typeof Transaction>[0] = {
    chainTag: testnet ? VET_CHAIN_TAG.testnet : VET_CHAIN_TAG.mainnet,
    blockRef: f.blockRef ?? fill.blockRef,
    expiration: f.expiration,
    clauses: [{ to: f.clause.to.toLowerCase(), value: `0x${f.clause.value.toString(16)}`, data: f.clause.data }],
    gasPriceCoef: f.gasPriceCoef,
    gas: fill.gas.toString(),
    dependsOn: null,
    nonce: `0x${(f.nonce ?? fill.nonce).toString(16)}`,
  };
  const tx = new Transaction(body);
  const sig = await signDigestChecked(signer, tx.signingHash());
  tx.signature = Buffer.concat([Buffer.from(sig.r), Buffer.from(sig.s), Buffer.from([sig.recovery])]);
  // thor-devkit recovers the signer from the signature: it must be the wallet.
  if (tx.origin?.toLowerCase() !== origin.toLowerCase())
    throw mismatchError(CHAIN, 'the signature does not recover to the signing wallet');
  return `0x${tx.encode().toString('hex')}`;
}

/** Why a journaled signed transaction is not the payload's, or undefined (re-broadcast check). */
export function vetSignedMismatch(payload: unknown, raw: string): string | undefined {
  const tx = Transaction.decode(Buffer.from(raw.replace(/^0x/, ''), 'hex'));
  const testnet = tx.body.chainTag === VET_CHAIN_TAG.testnet;
  const f = parseVetPayload(payload, testnet);
  const c = tx.body.clauses[0];
  if (tx.body.clauses.length !== 1 || c === undefined || c.to?.toLowerCase() !== f.clause.to.toLowerCase())
    return 'recipient differs';
  if (BigInt(c.value) !== f.clause.value) return 'value differs';
  if (c.data.toLowerCase() !== f.clause.data.toLowerCase()) return 'data differs';
  if (tx.body.chainTag !== (testnet ? VET_CHAIN_TAG.testnet : VET_CHAIN_TAG.mainnet)) return 'chainTag differs';
  if (f.nonce !== undefined && BigInt(tx.body.nonce) !== f.nonce) return 'nonce differs';
  return undefined;
}
