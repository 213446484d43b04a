import { base58CheckEncode, keccakAccountId } from '../keys.js';

/** Every TRON address starts with this byte; written in base58check it starts with T. */
const TRON_ADDRESS_VERSION = 0x41;

/** The 21-byte TRON address of a compressed public key: 0x41 ‖ keccak256(uncompressed key without 0x04)[12:], as on EVM chains. */
export function tronAddressBytes(pub33: Uint8Array): Uint8Array {
  return Uint8Array.from([TRON_ADDRESS_VERSION, ...keccakAccountId(pub33)]);
}

/** A 21-byte TRON address as Tatum and TronWeb write it (base58check, T…). */
export function tronBase58(addr21: Uint8Array): string {
  return base58CheckEncode(addr21);
}

/** The T… address of a public key: what `getaddress TRON` prints and what the signer compares. */
export function tronAddressFromPublicKey(pub33: Uint8Array): string {
  return tronBase58(tronAddressBytes(pub33));
}
