/**
 * Solana key and address text forms (Tatum, chains §1 and chains §2.3): a wallet's
 * `privateKey` is base58 of the 64-byte secret key (RFC 8032 seed ‖ public key), and Tatum
 * also accepts the same 64 bytes as 128 hex digits; an address is base58 of the 32-byte
 * ed25519 public key. Mnemonic wallets derive index i on m/44'/501'/0'/0'/i' (SLIP-0010),
 * the same path on testnet.
 */
import { ed25519 } from '@noble/curves/ed25519';
import { InputError } from '../../errors.js';
import { base58Decode, base58Encode } from '../keys.js';
import { slip10Ed25519, solanaPath } from '../ed25519/slip10.js';

export function solAddress(publicKey: Uint8Array): string {
  if (publicKey.length !== 32) throw new InputError('A Solana public key is 32 bytes.');
  return base58Encode(publicKey);
}

/**
 * Tatum's SOL private key (base58 of 64 bytes, or 128 hex digits) → the 32-byte seed,
 * checked: its second half must be the public key of its first half. The caller zeroes it.
 */
export function parseSolSecret(text: string): Uint8Array {
  const t = text.trim();
  let sk: Uint8Array;
  if (/^[0-9a-fA-F]{128}$/.test(t)) sk = Uint8Array.from(Buffer.from(t, 'hex'));
  else if (/^[1-9A-HJ-NP-Za-km-z]{80,90}$/.test(t)) {
    try {
      sk = base58Decode(t);
    } catch {
      throw new InputError(
        'The SOL private key is not valid base58.',
        'Give the privateKey Tatum stored: base58 of the 64-byte secret key, or 128 hex digits.',
      );
    }
  } else {
    throw new InputError(
      'A SOL private key is base58 of the 64-byte secret key (about 88 characters) or 128 hex digits.',
      'Give the privateKey Tatum stored, not the address or a mnemonic (store mnemonics with storemanagedwallet SOL).',
    );
  }
  try {
    if (sk.length !== 64)
      throw new InputError(
        `The SOL private key decodes to ${sk.length} bytes, not the 64 of a secret key (seed ‖ public key).`,
      );
    const seed = Uint8Array.from(sk.subarray(0, 32));
    if (!Buffer.from(ed25519.getPublicKey(seed)).equals(Buffer.from(sk.subarray(32)))) {
      seed.fill(0);
      throw new InputError(
        'The SOL private key is inconsistent: its second half is not the public key of its first half.',
        'Check that it was copied exactly.',
      );
    }
    return seed;
  } finally {
    sk.fill(0);
  }
}

/** 32-byte seed → base58 of seed ‖ public key, as Tatum's wallets hold it. */
export function formatSolSecret(seed: Uint8Array): string {
  const sk = new Uint8Array(64);
  sk.set(seed, 0);
  sk.set(ed25519.getPublicKey(seed), 32);
  try {
    return base58Encode(sk);
  } finally {
    sk.fill(0);
  }
}

/** The seed of child `index` (m/44'/501'/0'/0'/index'); the caller zeroes it. */
export function solSeedAt(bip39Seed: Uint8Array, index: number): Uint8Array {
  return slip10Ed25519(bip39Seed, solanaPath(index));
}
