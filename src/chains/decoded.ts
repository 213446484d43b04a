import { HardkmsError } from '../errors.js';
import { isPlainObject, kindOf } from '../value-kind.js';

export { isPlainObject, kindOf };

/**
 * What a pending transaction would do, as read from its payload by the chain family's
 * decoder. The policy engine judges this; the signer signs exactly the bytes it was
 * decoded from (every family decodes and signs from the same parsed structure).
 *
 * Amounts are integers in the chain's smallest unit (satoshi, wei, sun).
 */
interface DecodedOutput {
  /** Address in the chain's usual text form, when it could be derived (see each decoder). */
  address?: string;
  /** Output script hex (UTXO families only). */
  script?: string;
  amount: bigint;
}

interface DecodedToken {
  /**
   * Token contract (EVM: 0x checksummed; TRON: base58), TRC-10 asset id, XLM asset CODE:ISSUER,
   * XRP issued currency CURRENCY:ISSUER (amount in 10^-15 units), Algorand ASA id (decimal),
   * or SPL mint address (base58; amount in the mint's base units, `to` the recipient wallet
   * when the destination is its associated token account, else the token account), or EGLD
   * ESDT token identifier (e.g. USDC-c76f1f, amount in its base units).
   */
  contract: string;
  standard: 'ERC20' | 'TRC20' | 'TRC10' | 'XLM_ASSET' | 'XRP_IOU' | 'ASA' | 'VIP180' | 'SPL' | 'ESDT';
  to: string;
  amount: bigint;
}

/**
 * A contract interaction the decoder does not understand (anything but a plain token
 * transfer), or a contract deployment. Policies should refuse these unless explicitly
 * allowed: the value-moving effect of arbitrary calldata is unknown.
 */
export interface DecodedCall {
  kind: 'call' | 'deploy';
  /** Called contract; absent for a deployment. */
  to?: string;
  /** First 4 bytes of the calldata as 0x hex, when there are at least 4. */
  selector?: string;
  dataLength: number;
  /** The calldata as lowercase hex without 0x (the policy reads approvals from it). */
  data?: string;
}

export interface DecodedTx {
  chain: string;
  /** Native-coin movements. UTXO: every output, change included (the decoder cannot know which are ours). */
  outputs: DecodedOutput[];
  /**
   * UTXO: inputs minus outputs (exact). EVM: gas limit × (maxFeePerGas or gasPrice), the most
   * it can cost. TRON: fee_limit when set. XLM: the transaction's max fee (stroops). Absent when it cannot be known from the payload.
   */
  fee?: bigint;
  /** UTXO: estimated virtual size of the signed transaction (vbytes), for fee-rate limits. */
  vsize?: number;
  /** EVM: the most the transaction pays per gas (gasPrice or maxFeePerGas), wei. */
  feePerGas?: bigint;
  token?: DecodedToken;
  call?: DecodedCall;
}

/*
 * Parsing helpers shared by the family payload parsers. Payloads come from the Tatum API,
 * so every field is checked and every refusal names the field.
 */

const PAYLOAD_INVALID = 'TX_PAYLOAD_INVALID';
const PAYLOAD_MISMATCH = 'TX_PAYLOAD_MISMATCH';
const PAYLOAD_UNSUPPORTED = 'TX_PAYLOAD_UNSUPPORTED';
export const SIGNER_MISSING = 'TX_SIGNER_MISSING';

const DEFAULT_HINT =
  'The pending transaction was not signed. Check what created it (Tatum API or SDK version); if the payload is legitimate, report it with the pending transaction id.';

/** A payload that is not well-formed for its chain. */
export function payloadError(chain: string, message: string, hint: string = DEFAULT_HINT): HardkmsError {
  return new HardkmsError(PAYLOAD_INVALID, `${chain} payload: ${message}`, { hint });
}

/** A payload that is well-formed but contradicts itself or what we pinned (hash, chain id, owner). */
export function mismatchError(chain: string, message: string, hint: string = DEFAULT_HINT): HardkmsError {
  return new HardkmsError(PAYLOAD_MISMATCH, `${chain} payload: ${message}`, { hint });
}

/** A well-formed payload using a feature hardkms deliberately does not sign. */
export function unsupportedError(chain: string, message: string, hint: string = DEFAULT_HINT): HardkmsError {
  return new HardkmsError(PAYLOAD_UNSUPPORTED, `${chain} payload: ${message}`, { hint });
}

export function parseJsonPayload(chain: string, payload: unknown): Record<string, unknown> {
  let value: unknown = payload;
  if (typeof payload === 'string') {
    try {
      value = JSON.parse(payload);
    } catch {
      throw payloadError(chain, 'serializedTransaction is not valid JSON');
    }
  }
  if (!isPlainObject(value)) throw payloadError(chain, 'serializedTransaction must be a JSON object');
  return value;
}

const HEX_RE = /^[0-9a-fA-F]*$/;

/** Even-length hex (no 0x unless allow0x) to bytes; `field` names it in the error. */
export function hexField(
  chain: string,
  field: string,
  v: unknown,
  opts: { allow0x?: boolean; length?: number } = {},
): Uint8Array {
  if (typeof v !== 'string') throw payloadError(chain, `${field} must be a hex string`);
  let s = v;
  if (opts.allow0x === true && (s.startsWith('0x') || s.startsWith('0X'))) s = s.slice(2);
  if (s.length % 2 !== 0 || !HEX_RE.test(s)) throw payloadError(chain, `${field} is not valid hex`);
  const bytes = Uint8Array.from(Buffer.from(s, 'hex'));
  if (opts.length !== undefined && bytes.length !== opts.length) {
    throw payloadError(chain, `${field} must be ${opts.length} bytes, got ${bytes.length}`);
  }
  return bytes;
}

const UINT_DEC_RE = /^(0|[1-9][0-9]*)$/;
const UINT_HEX_RE = /^0[xX][0-9a-fA-F]+$/;

/**
 * Non-negative integer from a JSON number (safe integers only: a larger number has already
 * lost precision in JSON.parse), a decimal string, or (when allowHex) a 0x-hex string.
 */
export function uintField(
  chain: string,
  field: string,
  v: unknown,
  opts: { allowHex?: boolean; max?: bigint } = {},
): bigint {
  let n: bigint;
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v) || v < 0) {
      throw payloadError(
        chain,
        `${field} must be a non-negative integer (as a JSON number it must be exact, at most 2^53-1), got ${kindOf(v)}`,
      );
    }
    n = BigInt(v);
  } else if (typeof v === 'string' && UINT_DEC_RE.test(v)) {
    n = BigInt(v);
  } else if (typeof v === 'string' && opts.allowHex === true && UINT_HEX_RE.test(v)) {
    n = BigInt(v);
  } else {
    const forms =
      opts.allowHex === true
        ? 'a JSON number, a decimal string or a 0x-hex string'
        : 'a JSON number or a decimal string';
    throw payloadError(chain, `${field} must be a non-negative integer (${forms}), got ${kindOf(v)}`);
  }
  if (opts.max !== undefined && n > opts.max) throw payloadError(chain, `${field} is too large (at most ${opts.max})`);
  return n;
}

/** uintField narrowed to a JS number (indexes, versions, sequence numbers). */
export function smallUintField(chain: string, field: string, v: unknown, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) {
    throw payloadError(chain, `${field} must be an integer between 0 and ${max}, got ${kindOf(v)}`);
  }
  return v;
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}
