import { createHmac } from 'node:crypto';
import { sha256 } from '@noble/hashes/sha256';
import { keccak_256 } from '@noble/hashes/sha3';
import { BIP32Factory, type BIP32Interface } from 'bip32';
import { InputError } from '../errors.js';
import { bip32Ecc, nativeSecp256k1 } from '../secp256k1-native.js';
import type { Bip32Versions } from './networks.js';

/**
 * secp256k1 / BIP32 / Base58Check primitives shared by every chain family. Secrets stay
 * in Uint8Arrays that the caller (or this module, for intermediates) zeroes; nothing here
 * turns key material into a JS string except the explicit export formats.
 */

// BIP32Factory self-tests the curve library at start-up: build it on first use, on
// libsecp256k1 (the pure-JS library took ~0.4 s of CPU for the self-test alone).
let factory: ReturnType<typeof BIP32Factory> | undefined;

export function bip32(): ReturnType<typeof BIP32Factory> {
  factory ??= BIP32Factory(bip32Ecc());
  return factory;
}

const HARDENED = 0x80000000;

/** Child indexes are non-hardened BIP32 indexes: 0 … 2^31-1. */
export function checkIndex(index: number): void {
  if (!Number.isSafeInteger(index) || index < 0 || index >= HARDENED) {
    throw new InputError(
      `Derivation index ${String(index)} is out of range.`,
      'Use a whole number from 0 to 2147483647.',
    );
  }
}

/**
 * bip32 nodes expose their private key and chain code by reference, so zeroing them
 * here really clears the node's copy. The HMAC outputs bip32 computes internally are
 * out of our reach; that is a limit of the library.
 */
function wipeNode(node: BIP32Interface): void {
  node.privateKey?.fill(0);
  node.chainCode.fill(0);
}

function parsePath(path: string): number[] {
  const parts = path.split('/');
  if (parts[0] !== 'm') throw new Error(`Derivation path must start with m: ${path}`);
  return parts.slice(1).map((p) => {
    const hardened = p.endsWith("'");
    const n = Number(hardened ? p.slice(0, -1) : p);
    if (!Number.isInteger(n) || n < 0 || n >= HARDENED) throw new Error(`Bad derivation path segment: ${path}`);
    return hardened ? n + HARDENED : n;
  });
}

function bip32Network(versions: Bip32Versions) {
  // wif is irrelevant: nothing here calls toWIF on a node.
  return { wif: 0x80, bip32: { public: versions.public, private: versions.private } };
}

/** Node at `path` from the seed; every intermediate node is wiped. The caller wipes the result. */
function deriveFromSeed(seed: Uint8Array, path: string, versions: Bip32Versions): BIP32Interface {
  let node = bip32().fromSeed(seed, bip32Network(versions));
  for (const index of parsePath(path)) {
    const child = node.derive(index);
    wipeNode(node);
    node = child;
  }
  return node;
}

export function xpubAtPath(seed: Uint8Array, path: string, versions: Bip32Versions): string {
  const node = deriveFromSeed(seed, path, versions);
  try {
    return node.neutered().toBase58();
  } finally {
    wipeNode(node);
  }
}

/**
 * The 32-byte private key at `path` (BIP32 CKDpriv from the master key), on node:crypto's
 * HMAC-SHA512 and libsecp256k1. The daemon derives a mnemonic wallet's key for every
 * signature: bip32's pure-JS HMAC and its node objects cost about three times this. Unlike
 * bip32's nodes, every intermediate (HMAC outputs, parent keys, chain codes) is wiped here.
 * `versions` is unused (the private key does not depend on the serialization versions);
 * it is kept so every chain calls the derivation the same way.
 */
export function privateKeyAtPath(seed: Uint8Array, path: string, versions: Bip32Versions): Uint8Array {
  void versions;
  const s = nativeSecp256k1();
  const indexes = parsePath(path);
  let I = createHmac('sha512', BIP32_SEED_KEY).update(seed).digest();
  let key: Uint8Array = Uint8Array.from(I.subarray(0, 32));
  let chainCode = Buffer.from(I.subarray(32));
  I.fill(0);
  try {
    if (!s.privateKeyVerify(key)) throw new Error('This seed gives no valid BIP32 master key.');
    for (let index of indexes) {
      for (;;) {
        const data = Buffer.alloc(37);
        if (index >= HARDENED) data.set(key, 1);
        else data.set(s.publicKeyCreate(key, true), 0);
        data.writeUInt32BE(index >>> 0, 33);
        I = createHmac('sha512', chainCode).update(data).digest();
        data.fill(0);
        // CKDpriv: child = IL + parent (mod n). IL >= n or a zero child: BIP32 says use the next index, as bip32 does.
        const sum = Uint8Array.from(key);
        let child: Uint8Array | undefined;
        try {
          child = s.privateKeyTweakAdd(sum, I.subarray(0, 32));
        } catch {
          sum.fill(0);
          child = undefined;
        }
        if (child === undefined) {
          I.fill(0);
          index++;
          continue;
        }
        key.fill(0);
        chainCode.fill(0);
        key = child;
        chainCode = Buffer.from(I.subarray(32));
        I.fill(0);
        break;
      }
    }
    return Uint8Array.from(key);
  } finally {
    key.fill(0);
    chainCode.fill(0);
  }
}

/** HMAC key of the BIP32 master key. */
const BIP32_SEED_KEY = Buffer.from('Bitcoin seed', 'utf8');

/**
 * Parses an extended public key, checking each rule separately so the error says which
 * one failed. An extended *private* key is refused: it would put a secret where only
 * public data belongs.
 */
export function parseXpub(xpub: string, versions: Bip32Versions, what: string): BIP32Interface {
  const hint = `Give the ${versions.prefix}… extended public key of ${what} (111 characters).`;
  let payload: Uint8Array;
  try {
    payload = base58CheckDecode(xpub.trim());
  } catch (e) {
    throw new InputError(`The extended public key for ${what} ${(e as Error).message}.`, hint);
  }
  try {
    if (payload.length !== 78) {
      throw new InputError(`The extended public key for ${what} has the wrong length.`, hint);
    }
    const version = ((payload[0]! << 24) | (payload[1]! << 16) | (payload[2]! << 8) | payload[3]!) >>> 0;
    if (version === versions.private) {
      throw new InputError(
        `An extended private key was given where the extended public key for ${what} belongs.`,
        `Never paste a private key here. ${hint}`,
      );
    }
    if (version !== versions.public) {
      throw new InputError(
        `The extended public key has version 0x${version.toString(16).padStart(8, '0')}, but ${what} uses ${versions.prefix} (0x${versions.public.toString(16).padStart(8, '0')}).`,
        hint,
      );
    }
  } finally {
    payload.fill(0);
  }
  try {
    return bip32().fromBase58(xpub.trim(), bip32Network(versions));
  } catch {
    throw new InputError(`The extended public key for ${what} does not encode a valid secp256k1 public key.`, hint);
  }
}

/** Tatum's legacy TRON form: 130 hex digits = compressed public key (33 bytes) ‖ chain code (32 bytes). */
export function parseHexXpub(hex: string, what: string): BIP32Interface {
  if (!/^[0-9a-fA-F]{130}$/.test(hex)) {
    throw new InputError(
      `The 130-hex extended public key for ${what} is malformed.`,
      'Use the xpub… form or 130 hex digits.',
    );
  }
  const bytes = Buffer.from(hex, 'hex');
  const pub = bytes.subarray(0, 33);
  if (pub.length !== 33 || (pub[0] !== 0x02 && pub[0] !== 0x03) || !nativeSecp256k1().publicKeyVerify(pub)) {
    throw new InputError(
      `The 130-hex extended public key for ${what} does not start with a valid compressed public key.`,
    );
  }
  return bip32().fromPublicKey(Uint8Array.from(pub), Uint8Array.from(bytes.subarray(33)));
}

export function childPublicKey(parent: BIP32Interface, index: number): Uint8Array {
  checkIndex(index);
  return parent.derive(index).publicKey;
}

// The point operations of key import and address derivation run on libsecp256k1: the
// pure-JS ones cost ~2.5 ms per wallet (import-legacy of 25,000 wallets spent a minute here).

/** Compressed (33-byte) public key of a private key. */
export function publicKeyFromPrivateKey(d: Uint8Array): Uint8Array {
  const s = nativeSecp256k1();
  const q = d.length === 32 && s.privateKeyVerify(d) ? s.publicKeyCreate(d, true) : null;
  if (!q)
    throw new InputError('The private key is out of range for secp256k1.', 'A private key is a number from 1 to n-1.');
  return q;
}

export function checkCompressedPublicKey(pub33: Uint8Array): void {
  if (pub33.length !== 33 || (pub33[0] !== 0x02 && pub33[0] !== 0x03) || !nativeSecp256k1().publicKeyVerify(pub33)) {
    throw new InputError('Expected a 33-byte compressed secp256k1 public key.');
  }
}

/** keccak256(uncompressed X‖Y)[12..32]: the 20-byte account id of EVM chains and TRON. */
export function keccakAccountId(pub33: Uint8Array): Uint8Array {
  checkCompressedPublicKey(pub33);
  const full = nativeSecp256k1().publicKeyConvert(pub33, false);
  return keccak_256(full.subarray(1)).subarray(12);
}

// ---- Base58Check, on byte arrays so decoded key material can be zeroed ----

const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const ALPHABET_MAP = new Map([...ALPHABET].map((c, i) => [c, i]));

function checksum(payload: Uint8Array): Uint8Array {
  return sha256(sha256(payload)).subarray(0, 4);
}

/** Plain Base58 (Bitcoin alphabet, no checksum: Solana keys and addresses). */
export function base58Encode(data: Uint8Array): string {
  const digits: number[] = [];
  try {
    let zeros = 0;
    while (zeros < data.length && data[zeros] === 0) zeros++;
    for (let i = zeros; i < data.length; i++) {
      let carry = data[i]!;
      for (let j = 0; j < digits.length; j++) {
        carry += digits[j]! << 8;
        digits[j] = carry % 58;
        carry = (carry / 58) | 0;
      }
      while (carry > 0) {
        digits.push(carry % 58);
        carry = (carry / 58) | 0;
      }
    }
    let out = '1'.repeat(zeros);
    for (let k = digits.length - 1; k >= 0; k--) out += ALPHABET[digits[k]!];
    return out;
  } finally {
    digits.fill(0);
  }
}

/** Plain Base58 to bytes; throws plain Errors whose message completes "The <thing> …". The caller zeroes the result. */
export function base58Decode(text: string): Uint8Array {
  if (text.length === 0) throw new Error('is empty');
  const bytes: number[] = [];
  try {
    let zeros = 0;
    while (zeros < text.length && text[zeros] === '1') zeros++;
    for (let i = zeros; i < text.length; i++) {
      let carry = ALPHABET_MAP.get(text[i]!);
      if (carry === undefined) throw new Error('contains a character that is not Base58');
      for (let j = 0; j < bytes.length; j++) {
        carry += bytes[j]! * 58;
        bytes[j] = carry & 0xff;
        carry >>= 8;
      }
      while (carry > 0) {
        bytes.push(carry & 0xff);
        carry >>= 8;
      }
    }
    const data = new Uint8Array(zeros + bytes.length);
    for (let k = 0; k < bytes.length; k++) data[zeros + k] = bytes[bytes.length - 1 - k]!;
    return data;
  } finally {
    bytes.fill(0);
  }
}

export function base58CheckEncode(payload: Uint8Array): string {
  const data = new Uint8Array(payload.length + 4);
  data.set(payload);
  data.set(checksum(payload), payload.length);
  try {
    return base58Encode(data);
  } finally {
    data.fill(0);
  }
}

/** Throws plain Errors whose message completes "The <thing> …" (callers wrap them). */
export function base58CheckDecode(text: string): Uint8Array {
  const data = base58Decode(text);
  if (data.length < 5) {
    data.fill(0);
    throw new Error('is too short');
  }
  const payload = data.slice(0, -4);
  const ok = Buffer.compare(checksum(payload), data.subarray(-4)) === 0;
  data.fill(0);
  if (!ok) {
    payload.fill(0);
    throw new Error('fails its Base58Check checksum (mistyped?)');
  }
  return payload;
}

// ---- Private key text formats ----

function checkPrivateKeyRange(d: Uint8Array, what: string): void {
  if (d.length !== 32 || !nativeSecp256k1().privateKeyVerify(d)) {
    throw new InputError(
      `The ${what} private key is out of range for secp256k1 (it must be between 1 and n-1).`,
      'Check that the key was copied completely and correctly.',
    );
  }
}

/** WIF with the compression flag (the only kind Tatum generates). */
export function encodeWif(d: Uint8Array, version: number): string {
  checkPrivateKeyRange(d, 'given');
  const payload = new Uint8Array(34);
  try {
    payload[0] = version;
    payload.set(d, 1);
    payload[33] = 0x01;
    return base58CheckEncode(payload);
  } finally {
    payload.fill(0);
  }
}

/** The base58check payload of a WIF text; the caller wipes it. */
function wifPayload(text: string, what: string, hint: string): Uint8Array {
  try {
    return base58CheckDecode(text.trim());
  } catch (e) {
    throw new InputError(`The ${what} private key ${(e as Error).message}.`, hint);
  }
}

/** `key` once it is a valid secp256k1 private key; zeroed before the refusal otherwise. */
function inRange<K extends Uint8Array>(key: K, what: string): K {
  try {
    checkPrivateKeyRange(key, what);
  } catch (e) {
    key.fill(0);
    throw e;
  }
  return key;
}

/** The range-checked private key of a WIF payload (bytes 1..33), a copy the caller wipes. */
function wifKey(payload: Uint8Array, what: string): Uint8Array {
  return inRange(payload.slice(1, 33), what);
}

export function decodeWif(text: string, version: number, what: string): Uint8Array {
  const hint = `Give the ${what} private key in WIF (compressed, version byte 0x${version.toString(16).padStart(2, '0')}).`;
  const payload = wifPayload(text, what, hint);
  try {
    if (payload.length === 33) {
      throw new InputError(
        `The ${what} private key is an uncompressed-WIF key, which hardkms does not support.`,
        'Convert it to compressed WIF; note that its addresses then change (compressed public key).',
      );
    }
    if (payload.length !== 34 || payload[33] !== 0x01) {
      throw new InputError(`The ${what} private key is not a WIF key (wrong length or compression flag).`, hint);
    }
    if (payload[0] !== version) {
      throw new InputError(
        `The private key has WIF version byte 0x${payload[0]!.toString(16).padStart(2, '0')}, but ${what} uses 0x${version.toString(16).padStart(2, '0')}.`,
        `The key belongs to another chain or network. ${hint}`,
      );
    }
    return wifKey(payload, what);
  } finally {
    payload.fill(0);
  }
}

/** How a WIF key was written: its version byte and whether it carries the compression flag. */
interface WifForm {
  version: number;
  compressed: boolean;
}

/** WIF in a given form: Tatum's stores hold uncompressed WIF and WIF of the other network too. */
export function encodeWifForm(d: Uint8Array, form: WifForm): string {
  if (form.compressed) return encodeWif(d, form.version);
  checkPrivateKeyRange(d, 'given');
  const payload = new Uint8Array(33);
  try {
    payload[0] = form.version;
    payload.set(d, 1);
    return base58CheckEncode(payload);
  } finally {
    payload.fill(0);
  }
}

/**
 * WIF as Tatum's signers (bitcore) take it: compressed or not, with any of `versions`
 * (the chain's mainnet and testnet bytes; the signature does not depend on the network).
 * Returns the key and the form it was written in, so it can be exported the same way.
 */
export function decodeWifAnyForm(
  text: string,
  versions: readonly number[],
  what: string,
): { key: Uint8Array; form: WifForm } {
  const hint = `Give the ${what} private key in WIF (version byte ${versions.map((v) => `0x${v.toString(16).padStart(2, '0')}`).join(' or ')}).`;
  const payload = wifPayload(text, what, hint);
  try {
    const compressed = payload.length === 34 && payload[33] === 0x01;
    if (!compressed && payload.length !== 33)
      throw new InputError(`The ${what} private key is not a WIF key (wrong length or compression flag).`, hint);
    if (!versions.includes(payload[0]!)) {
      throw new InputError(
        `The private key has WIF version byte 0x${payload[0]!.toString(16).padStart(2, '0')}, which ${what} does not use.`,
        `The key belongs to another chain. ${hint}`,
      );
    }
    return { key: wifKey(payload, what), form: { version: payload[0]!, compressed } };
  } finally {
    payload.fill(0);
  }
}

export function encodeHexKey(d: Uint8Array, with0x: boolean): string {
  checkPrivateKeyRange(d, 'given');
  // A view, not Buffer.from(d): that would leave a copy in Node's shared buffer pool.
  return (with0x ? '0x' : '') + Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString('hex');
}

/** 64 hex digits, optionally 0x-prefixed (Tatum's signers accept both). */
export function parseHexKey(text: string, what: string, formatHint: string): Uint8Array {
  const t = text.trim();
  const body = t.startsWith('0x') || t.startsWith('0X') ? t.slice(2) : t;
  if (body.length !== 64) {
    throw new InputError(`The ${what} private key must be 64 hex digits (got ${body.length}).`, formatHint);
  }
  if (!/^[0-9a-fA-F]{64}$/.test(body)) {
    throw new InputError(`The ${what} private key contains a character that is not a hex digit.`, formatHint);
  }
  // Buffer.alloc never uses the shared pool, so zeroing `d` really clears the only copy.
  const d = Buffer.alloc(32);
  d.write(body, 'hex');
  return inRange(d, what);
}
