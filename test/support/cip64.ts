import { concat, decodeRlp, encodeRlp, getAddress, keccak256, recoverAddress, Signature } from 'ethers';
import { expect } from 'vitest';

/**
 * Independent CIP-64 decoder, written from the format and not from hardkms's encoder:
 * 0x7b || rlp([chainId, nonce, maxPriorityFeePerGas, maxFeePerGas, gas, to, value, data,
 * accessList, feeCurrency, v, r, s]); the sender is recovered with ethers.
 */
export function decodeCip64(raw: string) {
  expect(raw.startsWith('0x7b')).toBe(true);
  const f = decodeRlp('0x' + raw.slice(4)) as string[];
  expect(f).toHaveLength(13);
  const n = (h: string) => (h === '0x' ? 0n : BigInt(h));
  const unsigned = concat(['0x7b', encodeRlp(f.slice(0, 10))]);
  const from = recoverAddress(
    keccak256(unsigned),
    Signature.from({ r: f[11]!, s: f[12]!, yParity: Number(n(f[10]!)) as 0 | 1 }),
  );
  return {
    chainId: n(f[0]!),
    nonce: n(f[1]!),
    maxPriorityFeePerGas: n(f[2]!),
    maxFeePerGas: n(f[3]!),
    gas: n(f[4]!),
    to: getAddress(f[5]!),
    value: n(f[6]!),
    data: f[7],
    accessList: f[8],
    feeCurrency: getAddress(f[9]!),
    from,
  };
}
