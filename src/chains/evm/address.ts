import { keccak_256 } from '@noble/hashes/sha3';
import { nativeSecp256k1 } from '../../secp256k1-native.js';

/**
 * The checksummed EVM address of a secp256k1 public key (33 or 65 bytes). ethers'
 * computeAddress decompresses the point in pure JS, about 1 ms, which the daemon paid twice
 * per EVM transaction; libsecp256k1 does it in microseconds. Public data: the last few are
 * remembered, since a daemon signs for the same wallets again and again.
 */
const remembered = new Map<string, string>();

export function evmAddressOf(publicKey: Uint8Array): string {
  const hex = Buffer.from(publicKey).toString('hex');
  let address = remembered.get(hex);
  if (address === undefined) {
    const full = publicKey.length === 65 ? publicKey : nativeSecp256k1().publicKeyConvert(publicKey, false);
    address = checksumAddress(
      `0x${Buffer.from(keccak_256(full.subarray(1)))
        .subarray(12)
        .toString('hex')}`,
    );
    if (remembered.size >= 10_000) remembered.clear();
    remembered.set(hex, address);
  }
  return address;
}

/**
 * Inputs already checksummed (a refused one is not kept). Public data: a pending EVM
 * transaction's addresses are read by its policy check and again by its signing, and the
 * keccak (pure JS) was about 2% of a transaction's CPU.
 */
const checksummed = new Map<string, string>();

/**
 * EIP-55: `0x` and 40 hex digits in their checksummed letter case, as ethers' getAddress gives
 * them; a mixed-case input whose case is not its checksum is refused (all lower or all upper
 * case carries no checksum). Here instead of ethers/address, which a daemon's start-up paid
 * about 0.1 s of CPU to load for this alone.
 */
export function checksumAddress(address: string): string {
  const known = checksummed.get(address);
  if (known !== undefined) return known;
  if (!/^0x[0-9a-fA-F]{40}$/.test(address)) throw new Error(`not a 20-byte hex address: ${address}`);
  const lower = address.slice(2).toLowerCase();
  const hash = keccak_256(Buffer.from(lower, 'ascii'));
  let out = '0x';
  for (let i = 0; i < 40; i++) {
    const nibble = i % 2 === 0 ? hash[i >> 1]! >> 4 : hash[i >> 1]! & 0x0f;
    out += nibble >= 8 ? lower[i]!.toUpperCase() : lower[i]!;
  }
  if (/([A-F].*[a-f])|([a-f].*[A-F])/.test(address) && out !== address) throw new Error('bad address checksum');
  if (checksummed.size >= 10_000) checksummed.clear();
  checksummed.set(address, out);
  return out;
}
