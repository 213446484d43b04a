import { secp256k1 } from '@noble/curves/secp256k1';
import { HardkmsError } from '../errors.js';
import { bytesEqual } from './decoded.js';
import { findRecoveryId, recoversTo as recoversNatively } from '../secp256k1-recover.js';
import { nativeSecp256k1 } from '../secp256k1-native.js';

/**
 * The one operation chain code needs from a key: an ECDSA secp256k1 signature over a
 * 32-byte digest. The HSM token and host keys (derived from a seed) both implement it,
 * so chain code never sees key material.
 */
export interface Secp256k1Signature {
  /** 32 bytes, big-endian. */
  r: Uint8Array;
  /** 32 bytes, big-endian, low-S (s ≤ n/2). */
  s: Uint8Array;
  /** Recovery id matching (r, s) and the digest: which of the two candidate keys is ours. */
  recovery: 0 | 1;
}

/**
 * What a signer returns: r, s and, when the signer knows it, the recovery id. libsecp256k1
 * returns it with the signature; a token's CKM_ECDSA returns r‖s only, and signDigestChecked
 * finds it (the recovery against the public key it must do anyway).
 */
export type SignerSignature = Omit<Secp256k1Signature, 'recovery'> & { recovery?: 0 | 1 | undefined };

export interface DigestSigner {
  /** 33-byte compressed secp256k1 public key. */
  readonly publicKey: Uint8Array;
  signDigest(digest32: Uint8Array): Promise<SignerSignature>;
}

export interface HostDigestSigner extends DigestSigner {
  /** libsecp256k1 returns the recovery id with the signature. */
  signDigest(digest32: Uint8Array): Promise<Secp256k1Signature>;
  /** Zero the signer's copy of the private key; later signDigest calls throw. */
  wipe(): void;
}

const N = secp256k1.Point.CURVE().n;
const HALF_N = N >> 1n;

export const SIGNATURE_INVALID = 'SIGNATURE_INVALID';

/**
 * A DigestSigner over a private key held in host memory: RFC 6979 deterministic nonces,
 * low-S. It keeps its own copy of the key so the caller can zero theirs right away.
 */
export function hostDigestSigner(privateKey: Uint8Array): HostDigestSigner {
  // libsecp256k1: RFC 6979 and low-S like noble (same signatures), about 50 times faster.
  const native = nativeSecp256k1();
  if (privateKey.length !== 32 || !native.privateKeyVerify(privateKey)) {
    throw new HardkmsError('KEY_INVALID', 'private key is not a valid 32-byte secp256k1 scalar', {
      hint: 'The stored key is corrupt or not a secp256k1 key.',
    });
  }
  const key = Uint8Array.from(privateKey);
  const publicKey = native.publicKeyCreate(key, true);
  let wiped = false;
  return {
    publicKey,
    async signDigest(digest32: Uint8Array): Promise<Secp256k1Signature> {
      if (wiped)
        throw new HardkmsError('KEY_WIPED', 'this signer has been wiped', {
          hint: 'Create a new signer for each signing operation.',
        });
      assertDigest(digest32);
      const { signature, recid } = native.ecdsaSign(digest32, key);
      return { r: signature.slice(0, 32), s: signature.slice(32, 64), recovery: recid === 1 ? 1 : 0 };
    },
    wipe(): void {
      key.fill(0);
      wiped = true;
    },
  };
}

/**
 * Asks `signer` for a signature and checks it before it goes anywhere: right sizes, low-S,
 * verifies against signer.publicKey, recovery id correct. A wrong signature from a device
 * would otherwise surface only as a rejected broadcast (or, for EVM/TRON, a tx from a
 * different address).
 */
export async function signDigestChecked(signer: DigestSigner, digest32: Uint8Array): Promise<Secp256k1Signature> {
  assertDigest(digest32);
  const sig = await signer.signDigest(digest32);
  if (!(sig.r instanceof Uint8Array) || !(sig.s instanceof Uint8Array) || sig.r.length !== 32 || sig.s.length !== 32) {
    throw invalid('signer returned a signature whose r or s is not 32 bytes');
  }
  if (sig.recovery !== undefined && sig.recovery !== 0 && sig.recovery !== 1)
    throw invalid('signer returned a recovery id other than 0 or 1');
  const r = bytesToBig(sig.r);
  const s = bytesToBig(sig.s);
  if (r <= 0n || r >= N || s <= 0n || s >= N) throw invalid('signer returned r or s out of range');
  if (s > HALF_N) throw invalid('signer returned a high-S signature (must be low-S)');
  const compact = compactSignature(sig);
  if (sig.recovery === undefined) {
    // One search: the candidate that recovers to the signer's key is the recovery id.
    const recovery = findRecoveryId(compact, digest32, signer.publicKey);
    if (recovery === undefined) throw invalid('signature does not verify against the signer public key');
    return { r: Uint8Array.from(sig.r), s: Uint8Array.from(sig.s), recovery };
  }
  if (!recoversNatively(compact, digest32, sig.recovery, signer.publicKey)) {
    throw invalid('signature does not verify against the signer public key with the given recovery id');
  }
  return { r: Uint8Array.from(sig.r), s: Uint8Array.from(sig.s), recovery: sig.recovery };
}

/** Strict DER encoding (BIP 66) of (r, s), without a sighash byte. */
export function derSignature(sig: Pick<Secp256k1Signature, 'r' | 's'>): Uint8Array {
  const r = derInt(sig.r);
  const s = derInt(sig.s);
  const body = new Uint8Array(2 + r.length + 2 + s.length);
  body[0] = 0x02;
  body[1] = r.length;
  body.set(r, 2);
  body[2 + r.length] = 0x02;
  body[3 + r.length] = s.length;
  body.set(s, 4 + r.length);
  const out = new Uint8Array(2 + body.length);
  out[0] = 0x30;
  out[1] = body.length;
  out.set(body, 2);
  return out;
}

/** 64-byte r‖s. */
function compactSignature(sig: Pick<Secp256k1Signature, 'r' | 's'>): Uint8Array {
  const out = new Uint8Array(64);
  out.set(sig.r, 0);
  out.set(sig.s, 32);
  return out;
}

/** Distinct signers by public key, first occurrence kept (a key listed twice signs once). */
export function uniqueSigners(signers: readonly DigestSigner[]): DigestSigner[] {
  const out: DigestSigner[] = [];
  for (const s of signers) {
    if (!out.some((o) => bytesEqual(o.publicKey, s.publicKey))) out.push(s);
  }
  return out;
}

/** Uncompressed (65-byte) form of a compressed public key. */
export function uncompressedPublicKey(publicKey: Uint8Array): Uint8Array {
  return secp256k1.Point.fromHex(publicKey).toBytes(false);
}

function derInt(b: Uint8Array): Uint8Array {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  const trimmed = b.subarray(i);
  if (trimmed[0]! & 0x80) {
    const out = new Uint8Array(trimmed.length + 1);
    out.set(trimmed, 1);
    return out;
  }
  return Uint8Array.from(trimmed);
}

function assertDigest(d: Uint8Array): void {
  if (!(d instanceof Uint8Array) || d.length !== 32) {
    throw new HardkmsError('DIGEST_INVALID', 'a digest to sign must be exactly 32 bytes', {
      hint: 'This is a bug in the chain code; report it.',
    });
  }
}

function invalid(message: string): HardkmsError {
  return new HardkmsError(SIGNATURE_INVALID, message, {
    hint: 'The signing device or key does not match this wallet, or returned a corrupt signature. Nothing was broadcast.',
  });
}

function bytesToBig(b: Uint8Array): bigint {
  return b.length === 0 ? 0n : BigInt('0x' + Buffer.from(b).toString('hex'));
}
