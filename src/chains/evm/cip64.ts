import { getAddress } from 'ethers/address';
import { keccak256 } from 'ethers/crypto';
import { concat, decodeRlp, encodeRlp, getBytes, hexlify, toBeArray } from 'ethers/utils';
import { payloadError } from '../decoded.js';

/**
 * Celo CIP-64 transactions (type 0x7b): EIP-1559 fields plus `feeCurrency`, the ERC-20
 * (cUSD, cEUR, or an adapter) the fees are paid in. The format the Celo network accepts
 * today for fee-currency transactions: the older Celo-legacy format with feeCurrency and
 * gateway fields (what Tatum's celo-ethers-wrapper signs) is no longer accepted since
 * Celo's move to an L2. Fees (maxFeePerGas, maxPriorityFeePerGas) are in fee-currency units.
 *
 *   signed:   0x7b || rlp([chainId, nonce, maxPriorityFeePerGas, maxFeePerGas, gas, to, value, data, accessList, feeCurrency, yParity, r, s])
 *   digest:   keccak256(0x7b || rlp(the first ten))
 */

const CIP64_TYPE = 0x7b;

export interface Cip64Fields {
  chainId: bigint;
  nonce: number;
  maxPriorityFeePerGas: bigint;
  maxFeePerGas: bigint;
  gasLimit: bigint;
  /** Checksummed; null for a deployment. */
  to: string | null;
  value: bigint;
  /** 0x hex. */
  data: string;
  /** Checksummed ERC-20 address. */
  feeCurrency: string;
}

const int = (n: bigint | number): Uint8Array => toBeArray(BigInt(n));

function body(f: Cip64Fields): Array<Uint8Array | string | never[]> {
  return [
    int(f.chainId),
    int(f.nonce),
    int(f.maxPriorityFeePerGas),
    int(f.maxFeePerGas),
    int(f.gasLimit),
    f.to === null ? '0x' : f.to,
    int(f.value),
    f.data,
    [],
    f.feeCurrency,
  ];
}

/** The 32-byte digest that is signed. */
export function cip64SigningHash(f: Cip64Fields): Uint8Array {
  return getBytes(keccak256(concat([new Uint8Array([CIP64_TYPE]), encodeRlp(body(f))])));
}

export function serializeCip64(f: Cip64Fields, sig: { yParity: 0 | 1; r: Uint8Array; s: Uint8Array }): string {
  const trim = (b: Uint8Array): Uint8Array => toBeArray(BigInt(hexlify(b)));
  return hexlify(
    concat([new Uint8Array([CIP64_TYPE]), encodeRlp([...body(f), int(sig.yParity), trim(sig.r), trim(sig.s)])]),
  );
}

/** A signed CIP-64 raw transaction back to its fields (for the re-broadcast check); throws on anything else. */
export function parseSignedCip64(chain: string, raw: string): Cip64Fields & { yParity: number; r: string; s: string } {
  const bytes = getBytes(raw);
  if (bytes[0] !== CIP64_TYPE) throw payloadError(chain, 'not a CIP-64 (0x7b) transaction');
  const list = decodeRlp(bytes.subarray(1));
  if (!Array.isArray(list) || list.length !== 13) throw payloadError(chain, 'a CIP-64 transaction has 13 fields');
  const [chainId, nonce, prio, maxFee, gas, to, value, data, access, feeCurrency, y, r, s] = list as string[];
  const big = (h: string): bigint => (h === '0x' ? 0n : BigInt(h));
  if (!Array.isArray(access) || access.length !== 0) throw payloadError(chain, 'CIP-64 accessList is not supported');
  return {
    chainId: big(chainId!),
    nonce: Number(big(nonce!)),
    maxPriorityFeePerGas: big(prio!),
    maxFeePerGas: big(maxFee!),
    gasLimit: big(gas!),
    to: to === '0x' ? null : getAddress(to!),
    value: big(value!),
    data: data!,
    feeCurrency: getAddress(feeCurrency!),
    yParity: Number(big(y!)),
    r: r!,
    s: s!,
  };
}
