/**
 * XRP Ledger keys in Tatum's form (chains §1 and chains §2.1): a wallet's `secret` is a
 * family seed, `sEd…` (ed25519, what Tatum's managed wallets hold) or `s…` (secp256k1,
 * what its v1 generator made). The seed is not the signing key: the ed25519 key is
 * SHA-512Half(seed); the secp256k1 key is the XRPL account key derived from the root
 * generator (account index 0). So hardkms keeps two things per wallet: the signing key,
 * in the token, and the seed, as the export copy for getmanagedwallet/export.
 *
 * Stored export form: 1 type byte (0xED ed25519, 0x00 secp256k1) ‖ the 16-byte seed.
 */
import { ed25519 } from '@noble/curves/ed25519';
import { secp256k1 } from '@noble/curves/secp256k1';
import { sha512 } from '@noble/hashes/sha2';
import { sha256 } from '@noble/hashes/sha2';
import { ripemd160 } from '@noble/hashes/legacy';
import { createRequire } from 'node:module';
import type * as AddressCodec from 'ripple-address-codec';
import { InputError } from '../../errors.js';

const XRP_ED25519 = 0xed;
const XRP_SECP256K1 = 0x00;
const SEED_BYTES = 16;

// Loaded on first use: every command that knows the chain list loads this file, few touch an XRP key.
const require = createRequire(import.meta.url);
let codec: typeof AddressCodec | undefined;
const addressCodec = (): typeof AddressCodec => (codec ??= require('ripple-address-codec') as typeof AddressCodec);
const N = secp256k1.Point.CURVE().n;

export interface XrpSigningKey {
  curve: 'ed25519' | 'secp256k1';
  /** ed25519: the 32-byte RFC 8032 seed; secp256k1: the 32-byte scalar. The caller zeroes it. */
  privateKey: Uint8Array;
  /** ed25519: 32 bytes; secp256k1: 33 bytes compressed. */
  publicKey: Uint8Array;
}

/** `s…` / `sEd…` → type byte ‖ 16-byte seed. InputError naming the rule that failed. The caller zeroes it. */
export function parseXrpSecret(text: string): Uint8Array {
  const t = text.trim();
  if (/^(0x)?[0-9a-fA-F]{64,66}$/.test(t)) {
    throw new InputError(
      'This looks like a hex private key; an XRP wallet secret is a family seed (s… or sEd…).',
      'Give the `secret` Tatum stored for the wallet (Tatum refuses hex keys too: "Non-base58 character").',
    );
  }
  if (!/^s[1-9A-HJ-NP-Za-km-z]{24,36}$/.test(t)) {
    throw new InputError(
      'An XRP secret is a base58 family seed starting with s (secp256k1) or sEd (ed25519).',
      'Give the `secret` Tatum stored, not the r… address.',
    );
  }
  let decoded: ReturnType<typeof AddressCodec.decodeSeed>;
  try {
    decoded = addressCodec().decodeSeed(t);
  } catch {
    throw new InputError(
      'The XRP secret has a wrong checksum or length.',
      'Check that it was copied completely and exactly.',
    );
  }
  if (decoded.bytes.length !== SEED_BYTES) throw new InputError('The XRP secret does not decode to a 16-byte seed.');
  const out = new Uint8Array(1 + SEED_BYTES);
  out[0] = decoded.type === 'ed25519' ? XRP_ED25519 : XRP_SECP256K1;
  out.set(decoded.bytes, 1);
  decoded.bytes.fill(0);
  return out;
}

function checkStored(secret: Uint8Array): void {
  if (secret.length !== 1 + SEED_BYTES || (secret[0] !== XRP_ED25519 && secret[0] !== XRP_SECP256K1)) {
    throw new InputError('Not a stored XRP secret (type byte and 16-byte seed).');
  }
}

export function formatXrpSecret(secret: Uint8Array): string {
  checkStored(secret);
  return addressCodec().encodeSeed(secret.slice(1), secret[0] === XRP_ED25519 ? 'ed25519' : 'secp256k1');
}

/** A new ed25519 family seed (what Tatum's managed XRP wallets are) from 32 bytes of entropy. */
export function newXrpSecret(entropy: Uint8Array): Uint8Array {
  if (entropy.length < SEED_BYTES) throw new InputError('Not enough entropy for an XRP seed.');
  const out = new Uint8Array(1 + SEED_BYTES);
  out[0] = XRP_ED25519;
  out.set(entropy.subarray(0, SEED_BYTES), 1);
  return out;
}

function sha512Half(...parts: Uint8Array[]): Uint8Array {
  const h = sha512.create();
  for (const p of parts) h.update(p);
  const full = h.digest();
  const half = full.slice(0, 32);
  full.fill(0);
  return half;
}

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
}

function toBig(b: Uint8Array): bigint {
  return BigInt(`0x${Buffer.from(b).toString('hex')}`);
}

function big32(n: bigint): Uint8Array {
  return Uint8Array.from(Buffer.from(n.toString(16).padStart(64, '0'), 'hex'));
}

/** XRPL's secp256k1 scalar derivation: SHA-512Half(bytes ‖ [discriminator] ‖ counter) until it is in [1, n). */
function deriveScalar(bytes: Uint8Array, discriminator?: number): bigint {
  for (let i = 0; i <= 0xffffffff; i++) {
    const parts = discriminator === undefined ? [bytes, u32(i)] : [bytes, u32(discriminator), u32(i)];
    const h = sha512Half(...parts);
    const k = toBig(h);
    h.fill(0);
    if (k > 0n && k < N) return k;
  }
  throw new InputError('XRP key derivation failed (no valid scalar).');
}

/** The key that signs for this seed, as xrpl's Wallet.fromSeed derives it. */
export function xrpSigningKey(secret: Uint8Array): XrpSigningKey {
  checkStored(secret);
  const seed = secret.subarray(1);
  if (secret[0] === XRP_ED25519) {
    const privateKey = sha512Half(seed);
    return { curve: 'ed25519', privateKey, publicKey: ed25519.getPublicKey(privateKey) };
  }
  const root = deriveScalar(seed);
  const rootPublic = secp256k1.getPublicKey(big32(root), true);
  const privateKey = big32((deriveScalar(rootPublic, 0) + root) % N);
  return { curve: 'secp256k1', privateKey, publicKey: secp256k1.getPublicKey(privateKey, true) };
}

/** Public key of a stored secret (the signing key is derived and wiped). */
export function xrpPublicKey(secret: Uint8Array): Uint8Array {
  const k = xrpSigningKey(secret);
  k.privateKey.fill(0);
  return k.publicKey;
}

/** SigningPubKey field: 33 bytes, ed25519 keys prefixed with 0xED. Uppercase hex. */
export function xrpSigningPubKey(publicKey: Uint8Array): string {
  if (publicKey.length === 32) return `ED${Buffer.from(publicKey).toString('hex')}`.toUpperCase();
  if (publicKey.length === 33) return Buffer.from(publicKey).toString('hex').toUpperCase();
  throw new InputError(`An XRP public key is 32 (ed25519) or 33 (secp256k1) bytes, got ${publicKey.length}.`);
}

/** Classic r… address: base58check of RIPEMD160(SHA256(SigningPubKey)). */
export function xrpAddress(publicKey: Uint8Array): string {
  const spk = Buffer.from(xrpSigningPubKey(publicKey), 'hex');
  return addressCodec().encodeAccountID(ripemd160(sha256(spk)));
}
