import { checksumAddress } from './address.js';
import {
  kindOf,
  hexField,
  mismatchError,
  parseJsonPayload,
  payloadError,
  toHex,
  uintField,
  unsupportedError,
} from '../decoded.js';

/**
 * Reader for EVM pending-transaction payloads: the JSON of a web3-style TransactionConfig
 * (spec §3.5). Numbers may be JSON numbers, decimal strings or 0x-hex strings. The chain id
 * is pinned by the caller; gas and nonce gaps may be filled by the caller (`fill`).
 */

export interface EvmFill {
  nonce?: number | bigint;
  gasPrice?: bigint;
  gasLimit?: bigint;
  maxFeePerGas?: bigint;
  maxPriorityFeePerGas?: bigint;
  /** Replaces the payload's gas limit (Tatum re-estimates ETH off-chain withdrawals, §3.5). */
  gasLimitOverride?: bigint;
}

export interface EvmOptions {
  /** Chain code for messages and DecodedTx (ETH, BSC, MATIC, CELO, XDC, …). */
  chain: string;
  /** The chain id this daemon signs for; a payload chainId that differs is refused. */
  chainId: bigint | number;
  /** Values for fields the payload leaves out (Tatum semantics: 0 gasPrice/gas count as missing; nonce 0 does not). */
  fill?: EvmFill;
}

/** Parsed payload; fee/gas/nonce fields are undefined when neither payload nor fill gives them. */
interface EvmFields {
  type: 0 | 2;
  chainId: bigint;
  nonce?: number;
  /** Checksummed 0x address; null for a contract deployment. */
  to: string | null;
  value: bigint;
  /** 0x-prefixed lowercase hex. */
  data: string;
  gasLimit?: bigint;
  gasPrice?: bigint;
  maxFeePerGas?: bigint;
  maxPriorityFeePerGas?: bigint;
  /** An explicit sender address in the payload (Tatum sends the literal 0, which is ignored). */
  from?: string;
  /** CELO only: the ERC-20 the fees are paid in; signed as CIP-64 (type 0x7b, see cip64.ts). */
  feeCurrency?: string;
}

export type CompleteEvmFields = EvmFields & { nonce: number; gasLimit: bigint } & (
    { type: 0; gasPrice: bigint } | { type: 2; maxFeePerGas: bigint; maxPriorityFeePerGas: bigint }
  );

const UINT256_MAX = (1n << 256n) - 1n;
const UINT64_MAX = (1n << 64n) - 1n;

// Celo's fee-currency fields. feeCurrency is signed as CIP-64 on CELO; the gateway fields
// (CIP-42, gone from the network) and feeCurrency on any other chain are refused: signing
// them as a plain Ethereum transaction would drop them.
const CELO_FIELDS = ['feeCurrency', 'gatewayFeeRecipient', 'gatewayFee'] as const;

export function parseEvmPayload(payload: unknown, opts: EvmOptions): EvmFields {
  const { chain } = opts;
  const o = parseJsonPayload(chain, payload);
  const pinned = BigInt(opts.chainId);
  const fill = opts.fill ?? {};
  // "" is falsy in Tatum's JavaScript, so a field holding it counts as not given (nonce, gas
  // and gasPrice are then filled; value and the rest are 0), as null and absent do.
  const present = (k: string): boolean => o[k] !== undefined && o[k] !== null && o[k] !== '';
  const num = (k: string, max: bigint = UINT256_MAX): bigint | undefined =>
    present(k) ? web3Uint(chain, k, o[k], max) : undefined;
  // Tatum's SDKs treat 0 gas price / gas limit as "not set" and fill them in.
  const nonZero = (n: bigint | undefined): bigint | undefined => (n === 0n ? undefined : n);

  const zeroOrAbsent = (k: string): boolean => !present(k) || /^(0x)?0*$/i.test(String(o[k])) || o[k] === 0;
  let feeCurrency: string | undefined;
  if (chain === 'CELO' && present('feeCurrency')) {
    feeCurrency = parseAddress(chain, 'feeCurrency', o.feeCurrency);
    if (
      !zeroOrAbsent('gatewayFee') ||
      (present('gatewayFeeRecipient') && !/^0x0{40}$/i.test(String(o.gatewayFeeRecipient)))
    ) {
      throw unsupportedError(
        chain,
        'gatewayFee/gatewayFeeRecipient are set: Celo gateway fees (CIP-42) no longer exist on the network; only feeCurrency (CIP-64) is signed',
      );
    }
  }
  for (const k of CELO_FIELDS) {
    if (feeCurrency !== undefined) break;
    if (present(k))
      throw unsupportedError(
        chain,
        `${k} is set: Celo-legacy fee-currency transactions are not signed (only plain Ethereum-format transactions paying fees in the native coin)`,
      );
  }
  if (present('accessList') && !(Array.isArray(o.accessList) && o.accessList.length === 0))
    throw unsupportedError(chain, 'accessList is not supported');
  for (const k of ['maxFeePerBlobGas', 'blobVersionedHashes', 'authorizationList', 'blobs']) {
    if (present(k))
      throw unsupportedError(chain, `${k} is not supported (only legacy and EIP-1559 transactions are signed)`);
  }

  if (present('chainId')) {
    const c = uintField(chain, 'chainId', o.chainId, { allowHex: true, max: UINT64_MAX });
    if (c !== pinned)
      throw mismatchError(
        chain,
        `chainId ${c} differs from the pinned chain id ${pinned}`,
        'The payload targets another network than this daemon is configured for; it was not signed.',
      );
  }

  const to = present('to') && o.to !== '' ? parseAddress(chain, 'to', o.to) : null;
  let from: string | undefined;
  if (typeof o.from === 'string' && /^(0x|xdc)[0-9a-fA-F]{40}$/i.test(o.from))
    from = parseAddress(chain, 'from', o.from);

  const value = num('value') ?? 0n;
  const data = parseData(chain, o);

  const nonceBig = num('nonce', BigInt(Number.MAX_SAFE_INTEGER));
  if (fill.nonce !== undefined && !(Number.isSafeInteger(Number(fill.nonce)) && Number(fill.nonce) >= 0)) {
    throw payloadError(
      chain,
      'the nonce supplied to fill the payload is not a non-negative safe integer',
      'This is a bug in the caller; report it.',
    );
  }
  const nonce = nonceBig !== undefined ? Number(nonceBig) : fill.nonce !== undefined ? Number(fill.nonce) : undefined;

  const gasA = nonZero(num('gas', UINT64_MAX));
  const gasB = nonZero(num('gasLimit', UINT64_MAX));
  if (gasA !== undefined && gasB !== undefined && gasA !== gasB)
    throw mismatchError(chain, `gas (${gasA}) and gasLimit (${gasB}) disagree`);
  const gasLimit = fill.gasLimitOverride ?? gasA ?? gasB ?? fill.gasLimit;

  const payloadGasPrice = nonZero(num('gasPrice'));
  const payloadMaxFee = num('maxFeePerGas');
  const payloadMaxPriority = num('maxPriorityFeePerGas');
  const is1559 = payloadMaxFee !== undefined || payloadMaxPriority !== undefined;
  if (is1559 && payloadGasPrice !== undefined)
    throw mismatchError(chain, 'gasPrice and EIP-1559 fee fields are both set; a transaction has one or the other');

  let type: 0 | 2;
  if (is1559) type = 2;
  else if (payloadGasPrice !== undefined) type = 0;
  else if (fill.gasPrice === undefined && (fill.maxFeePerGas !== undefined || fill.maxPriorityFeePerGas !== undefined))
    type = 2;
  else type = 0;

  if (present('type')) {
    const t = Number(uintField(chain, 'type', o.type, { allowHex: true, max: 255n }));
    if (t !== type) throw mismatchError(chain, `type ${t} does not match the fee fields (which make it type ${type})`);
  }

  const fields: EvmFields = { type, chainId: pinned, to, value, data };
  if (nonce !== undefined) fields.nonce = nonce;
  if (gasLimit !== undefined) fields.gasLimit = gasLimit;
  if (from !== undefined) fields.from = from;
  if (feeCurrency !== undefined) fields.feeCurrency = feeCurrency;
  if (type === 0) {
    const gp = payloadGasPrice ?? fill.gasPrice;
    if (gp !== undefined) fields.gasPrice = gp;
  } else {
    const maxFee = payloadMaxFee ?? fill.maxFeePerGas;
    const prio = payloadMaxPriority ?? fill.maxPriorityFeePerGas;
    if (maxFee !== undefined) fields.maxFeePerGas = maxFee;
    if (prio !== undefined) fields.maxPriorityFeePerGas = prio;
    if (maxFee !== undefined && prio !== undefined && prio > maxFee) {
      throw payloadError(chain, `maxPriorityFeePerGas (${prio}) exceeds maxFeePerGas (${maxFee})`);
    }
  }
  return fields;
}

/**
 * A number as web3 1.x reads it: what uintField accepts, plus "0x" (web3 reads it as 0) and
 * decimal strings with leading zeros ("007" is 7, as Number() and BN read it).
 */
function web3Uint(chain: string, field: string, v: unknown, max: bigint): bigint {
  if (typeof v === 'string' && /^0[xX]$/.test(v)) return 0n;
  if (typeof v === 'string' && /^0+[0-9]+$/.test(v) && v.length <= 100)
    return uintField(chain, field, v.replace(/^0+(?=[0-9])/, ''), { max });
  return uintField(chain, field, v, { allowHex: true, max });
}

/** The fields a signable transaction needs that the payload lacks (`gas` is the gas limit). */
export function missingEvmFields(f: EvmFields): string[] {
  const missing: string[] = [];
  if (f.nonce === undefined) missing.push('nonce');
  if (f.gasLimit === undefined) missing.push('gas');
  if (f.type === 0 && f.gasPrice === undefined) missing.push('gasPrice');
  if (f.type === 2 && f.maxFeePerGas === undefined) missing.push('maxFeePerGas');
  if (f.type === 2 && f.maxPriorityFeePerGas === undefined) missing.push('maxPriorityFeePerGas');
  return missing;
}

/** The parsed fields with nothing missing, or an error naming what is missing. */
export function requireComplete(chain: string, f: EvmFields): CompleteEvmFields {
  const missing = missingEvmFields(f).map((m) => (m === 'gas' ? 'gas limit (gas/gasLimit)' : m));
  if (missing.length > 0) {
    throw payloadError(
      chain,
      `missing ${missing.join(', ')} and no value was supplied to fill it`,
      'The signer must fill nonce, gas limit and gas price from a trusted node before signing.',
    );
  }
  return f as CompleteEvmFields;
}

/** 0x or xdc-prefixed address to checksummed 0x form (mixed-case input must have a valid EIP-55 checksum). */
function parseAddress(chain: string, field: string, v: unknown): string {
  if (typeof v !== 'string') throw payloadError(chain, `${field} must be an address string, got ${kindOf(v)}`);
  const s = /^xdc/i.test(v) ? '0x' + v.slice(3) : v;
  if (!/^0x[0-9a-fA-F]{40}$/.test(s)) throw payloadError(chain, `${field} is not a 20-byte hex address`);
  try {
    return checksumAddress(s);
  } catch {
    throw payloadError(chain, `${field} has an invalid EIP-55 checksum`);
  }
}

function parseData(chain: string, o: Record<string, unknown>): string {
  const read = (k: string): string | undefined => {
    const v = o[k];
    if (v === undefined || v === null || v === '' || v === '0x') return undefined;
    if (typeof v !== 'string' || !/^0x/i.test(v)) throw payloadError(chain, `${k} must be 0x-prefixed hex`);
    return '0x' + toHex(hexField(chain, k, v, { allow0x: true }));
  };
  const data = read('data');
  const input = read('input');
  if (data !== undefined && input !== undefined && data !== input)
    throw mismatchError(chain, 'data and input disagree');
  return data ?? input ?? '0x';
}
