/**
 * MultiversX (EGLD) keys and addresses as Tatum KMS stores them (spec §4.2): a private key
 * is the 32-byte ed25519 seed as 64 hex digits; an address is bech32 `erd1…` of the public
 * key (the same on mainnet and testnet); mnemonic wallets derive index i on
 * m/44'/508'/0'/0'/i' on mainnet and m/44'/1'/0'/0'/i' on testnet (SLIP-0010).
 */
import { createRequire } from 'node:module';
import type * as sdkType from '@multiversx/sdk-core';
import { InputError } from '../../errors.js';
import { slip10Ed25519 } from '../ed25519/slip10.js';

const require = createRequire(import.meta.url);
let sdkModule: typeof sdkType | undefined;
/** @multiversx/sdk-core, loaded on first use (only EGLD needs it). */
export const mvx = (): typeof sdkType => (sdkModule ??= require('@multiversx/sdk-core') as typeof sdkType);

export function egldAddress(publicKey: Uint8Array): string {
  if (publicKey.length !== 32) throw new InputError('An EGLD public key is 32 bytes.');
  return new (mvx().Address)(Buffer.from(publicKey)).toBech32();
}

/** `erd1…` → the 32-byte public key; InputError naming `what` when it is not an address. */
export function egldPublicKeyOf(address: string, what = 'address'): Uint8Array {
  try {
    return Uint8Array.from(mvx().Address.newFromBech32(address.trim()).getPublicKey());
  } catch {
    throw new InputError(`The EGLD ${what} '${address.slice(0, 70)}' is not a bech32 erd1… address.`);
  }
}

/** Tatum's EGLD private key (64 hex digits, the ed25519 seed) → 32 bytes; the caller zeroes it. */
export function parseEgldSecret(text: string): Uint8Array {
  const t = text.trim().replace(/^0x/i, '');
  if (!/^[0-9a-fA-F]{64}$/.test(t)) {
    throw new InputError(
      'An EGLD private key is 64 hex digits (the 32-byte ed25519 seed).',
      'Give the privateKey Tatum derived (getprivatekey), not the address or a mnemonic.',
    );
  }
  return Uint8Array.from(Buffer.from(t, 'hex'));
}

function egldPath(index: number, testnet: boolean): string {
  return testnet ? `m/44'/1'/0'/0'/${index}'` : `m/44'/508'/0'/0'/${index}'`;
}

/** The seed of child `index`; the caller zeroes it. */
export function egldSeedAt(bip39Seed: Uint8Array, index: number, testnet: boolean): Uint8Array {
  return slip10Ed25519(bip39Seed, egldPath(index, testnet));
}
