import { keccak_256 } from '@noble/hashes/sha3';
import { getAddress } from 'ethers/address';
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
    address = getAddress(
      `0x${Buffer.from(keccak_256(full.subarray(1)))
        .subarray(12)
        .toString('hex')}`,
    );
    if (remembered.size >= 10_000) remembered.clear();
    remembered.set(hex, address);
  }
  return address;
}
