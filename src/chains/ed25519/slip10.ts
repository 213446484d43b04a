/**
 * SLIP-0010 key derivation for ed25519 (every level hardened), as Tatum's SOL and EGLD
 * wallets use it: SOL m/44'/501'/0'/0'/i' (mainnet and testnet), EGLD m/44'/508'/0'/0'/i'.
 * The result is the 32-byte RFC 8032 seed of the child key; the caller zeroes it.
 */
import { hmac } from '@noble/hashes/hmac';
import { sha512 } from '@noble/hashes/sha2';
import { InputError } from '../../errors.js';

const HARDENED = 0x8000_0000;

/** Parses m/a'/b'/… (every element hardened, as SLIP-0010 requires for ed25519). */
function parsePath(path: string): number[] {
  const parts = path.split('/');
  if (parts[0] !== 'm') throw new InputError(`Derivation path '${path}' does not start with m/.`);
  return parts.slice(1).map((p) => {
    const m = /^([0-9]+)'$/.exec(p);
    const n = m ? Number(m[1]) : NaN;
    if (!m || !Number.isSafeInteger(n) || n >= HARDENED)
      throw new InputError(`Derivation path '${path}': ed25519 (SLIP-0010) needs every level hardened, e.g. 0'.`);
    return n + HARDENED;
  });
}

export function slip10Ed25519(seed: Uint8Array, path: string): Uint8Array {
  let I = hmac(sha512, Buffer.from('ed25519 seed', 'utf8'), seed);
  let key = I.slice(0, 32);
  let chain = I.slice(32);
  I.fill(0);
  for (const index of parsePath(path)) {
    const data = new Uint8Array(37);
    data.set(key, 1);
    new DataView(data.buffer).setUint32(33, index);
    I = hmac(sha512, chain, data);
    data.fill(0);
    key.fill(0);
    chain.fill(0);
    key = I.slice(0, 32);
    chain = I.slice(32);
    I.fill(0);
  }
  chain.fill(0);
  return key;
}

/** Tatum's SOL path for address index i (the same on testnet). */
export function solanaPath(index: number): string {
  return `m/44'/501'/0'/0'/${index}'`;
}
