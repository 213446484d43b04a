/**
 * Cardano (ADA) keys as Tatum's v2 cardano wallet makes them (spec §4.2): Icarus master key
 * from the BIP39 entropy (CIP-3, empty passphrase), BIP32-Ed25519 derivation on
 * m/1852'/1815'/0'/0'/i (the same path on testnet). The spec writes the role level as 0;
 * Tatum's code hardens it (`harden(0)` twice in cardano.sdk.wallet.ts), and only the
 * hardened path gives Tatum's own SDK test vectors (xpub a6058635…, key 8873d5e8…,
 * address addr_test1vzfp68… for its test mnemonic; test/unit/chains/ada-keys.test.ts), so
 * hardkms follows the code: wallets imported from Tatum keep their addresses.
 * The wallet's `xpub` is the 64-byte Bip32 public key (public key ‖ chain code) at
 * m/1852'/1815'/0'/0' as 128 hex digits; a
 * private key is the 64-byte ed25519 extended key kL ‖ kR as 128 hex digits (no chain
 * code); an address is the enterprise address of the key (what Tatum's Rosetta
 * `construction/derive` returns for `metadata: {}`; Tatum's own SDK test gives
 * `addr_test1vzfp68…` for its test mnemonic, test/unit/chains/ada-keys.test.ts checks it).
 *
 * Why derivation and signing are written here on @noble (and not taken from
 * @emurgo/cardano-serialization-lib): that library keeps keys in WebAssembly memory, which
 * this process cannot zero; here every secret byte is in a Uint8Array the caller zeroes
 * (JS BigInt intermediates of the scalar arithmetic cannot be zeroed, as in @noble's own
 * ed25519.sign). The library stays the independent checker of these functions in the tests,
 * and decodes transactions (public data) in ada/sign.ts.
 *
 * Why these keys never go into the token: PKCS#11 (CKM_EDDSA, CKK_EC_EDWARDS) takes an
 * ed25519 private key as its 32-byte RFC 8032 seed and hashes it to get the scalar and the
 * nonce prefix. A BIP32-Ed25519 child key IS the scalar and prefix (kL, kR), derived by
 * addition, and has no seed: no seed hashes to it, so no token can be given it. ADA keys are
 * derived on the host at signing time and wiped, like SOL/EGLD mnemonic children.
 */
import { ed25519 } from '@noble/curves/ed25519';
import { blake2b } from '@noble/hashes/blake2b';
import { hmac } from '@noble/hashes/hmac';
import { pbkdf2 } from '@noble/hashes/pbkdf2';
import { sha512 } from '@noble/hashes/sha2';
import { InputError } from '../../errors.js';

const HARDENED = 0x8000_0000;
const L = ed25519.CURVE.n;
const B = ed25519.Point.BASE;

/** The level Tatum's xpub sits at: m/1852'/1815'/0'/0' (mainnet and testnet; see above for the hardened role). */
const ADA_XPUB_PATH = [1852 + HARDENED, 1815 + HARDENED, 0 + HARDENED, 0 + HARDENED] as const;

/** An extended private node: kL ‖ kR ‖ chain code (96 bytes). The caller zeroes it. */
type AdaXprv = Uint8Array;

function leToBigInt(b: Uint8Array): bigint {
  let n = 0n;
  for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i]!);
  return n;
}

function u32le(i: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, i, true);
  return b;
}

/** The public key of an extended private key: kL·B (kL is the scalar itself, not hashed). */
export function adaPublicKeyOfExtended(kLkR: Uint8Array): Uint8Array {
  const a = leToBigInt(kLkR.subarray(0, 32)) % L;
  if (a === 0n) throw new InputError('The ADA private key is zero.');
  return B.multiply(a).toBytes();
}

/** Icarus master key (CIP-3): PBKDF2-HMAC-SHA512(passphrase '', salt = entropy, 4096, 96 bytes), clamped. */
export function adaRootFromEntropy(entropy: Uint8Array): AdaXprv {
  const k = pbkdf2(sha512, new Uint8Array(0), entropy, { c: 4096, dkLen: 96 });
  k[0]! &= 0b1111_1000;
  k[31]! &= 0b0001_1111;
  k[31]! |= 0b0100_0000;
  return k;
}

/** kL' = 8·zL + kL over 256 bits (zL = the first 28 bytes of Z), as BIP32-Ed25519 (V2) adds them. */
function addScalars(kL: Uint8Array, zL: Uint8Array): Uint8Array {
  const out = new Uint8Array(32);
  let carry = 0;
  for (let i = 0; i < 32; i++) {
    const z = i < 28 ? zL[i]! : 0;
    const prev = i === 0 ? 0 : i <= 28 ? zL[i - 1]! : 0;
    // (zL << 3) byte by byte: the low 5 bits of this byte, the high 3 bits of the previous one.
    const z8 = ((z << 3) & 0xff) | (prev >> 5);
    const r = kL[i]! + z8 + carry;
    out[i] = r & 0xff;
    carry = r >> 8;
  }
  return out;
}

function addMod256(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(32);
  let carry = 0;
  for (let i = 0; i < 32; i++) {
    const r = a[i]! + b[i]! + carry;
    out[i] = r & 0xff;
    carry = r >> 8;
  }
  return out;
}

/** Child `index` of an extended private node (hardened when index ≥ 2^31); the caller zeroes both. */
function adaDerivePrivate(node: AdaXprv, index: number): AdaXprv {
  const kL = node.subarray(0, 32);
  const kR = node.subarray(32, 64);
  const c = node.subarray(64, 96);
  const hardened = index >= HARDENED;
  let data: Uint8Array;
  if (hardened) {
    data = new Uint8Array(1 + 64 + 4);
    data.set(node.subarray(0, 64), 1);
    data.set(u32le(index), 65);
  } else {
    data = new Uint8Array(1 + 32 + 4);
    data.set(adaPublicKeyOfExtended(node.subarray(0, 64)), 1);
    data.set(u32le(index), 33);
  }
  data[0] = hardened ? 0x00 : 0x02;
  const z = hmac(sha512, c, data);
  data[0] = hardened ? 0x01 : 0x03;
  const cc = hmac(sha512, c, data);
  data.fill(0);
  const out = new Uint8Array(96);
  const nkL = addScalars(kL, z.subarray(0, 28));
  const nkR = addMod256(kR, z.subarray(32, 64));
  out.set(nkL, 0);
  out.set(nkR, 32);
  out.set(cc.subarray(32, 64), 64);
  for (const b of [z, cc, nkL, nkR]) b.fill(0);
  return out;
}

/** Soft child `index` of a Bip32 public key (public key ‖ chain code, 64 bytes): A' = A + 8·zL·B. */
function adaDerivePublic(xpub: Uint8Array, index: number): Uint8Array {
  if (index >= HARDENED || index < 0 || !Number.isInteger(index))
    throw new InputError(`ADA address index ${index} is not a soft (non-hardened) index.`);
  const A = xpub.subarray(0, 32);
  const c = xpub.subarray(32, 64);
  const data = new Uint8Array(1 + 32 + 4);
  data.set(A, 1);
  data.set(u32le(index), 33);
  data[0] = 0x02;
  const z = hmac(sha512, c, data);
  data[0] = 0x03;
  const cc = hmac(sha512, c, data);
  const zl8 = addScalars(new Uint8Array(32), z.subarray(0, 28));
  const t = leToBigInt(zl8) % L;
  const parent = ed25519.Point.fromHex(A);
  const child = t === 0n ? parent : parent.add(B.multiply(t));
  const out = new Uint8Array(64);
  out.set(child.toBytes(), 0);
  out.set(cc.subarray(32, 64), 32);
  return out;
}

function derivePath(root: AdaXprv, path: readonly number[]): AdaXprv {
  let node: Uint8Array = Uint8Array.from(root);
  for (const i of path) {
    const next = adaDerivePrivate(node, i);
    node.fill(0);
    node = next;
  }
  return node;
}

/** Tatum's wallet `xpub`: the Bip32 public key at m/1852'/1815'/0'/0', 128 hex digits. */
export function adaXpubFromRoot(root: AdaXprv): string {
  const node = derivePath(root, ADA_XPUB_PATH);
  try {
    const out = new Uint8Array(64);
    out.set(adaPublicKeyOfExtended(node.subarray(0, 64)), 0);
    out.set(node.subarray(64, 96), 32);
    return Buffer.from(out).toString('hex');
  } finally {
    node.fill(0);
  }
}

/** The extended private key kL ‖ kR (64 bytes) at m/1852'/1815'/0'/0'/index; the caller zeroes it. */
export function adaPrivateKeyAt(root: AdaXprv, index: number): Uint8Array {
  if (!Number.isInteger(index) || index < 0 || index >= HARDENED)
    throw new InputError(`ADA address index ${index} must be between 0 and 2^31-1.`);
  const node = derivePath(root, [...ADA_XPUB_PATH, index]);
  try {
    return Uint8Array.from(node.subarray(0, 64));
  } finally {
    node.fill(0);
  }
}

/** Tatum's 128-hex xpub → 64 bytes; InputError when it is not one. */
function parseAdaXpub(text: string, what = 'xpub'): Uint8Array {
  const t = text.trim();
  if (!/^[0-9a-fA-F]{128}$/.test(t)) {
    throw new InputError(
      `An ADA ${what} is 128 hex digits (the Bip32 public key ‖ chain code at m/1852'/1815'/0'/0').`,
    );
  }
  const b = Uint8Array.from(Buffer.from(t, 'hex'));
  try {
    ed25519.Point.fromHex(b.subarray(0, 32)).assertValidity();
  } catch {
    throw new InputError(`The ADA ${what} does not start with a valid ed25519 public key.`);
  }
  return b;
}

/** Public key of address index `index` under Tatum's xpub. */
export function adaPublicKeyFromXpub(xpub: string, index: number): Uint8Array {
  return adaDerivePublic(parseAdaXpub(xpub), index).subarray(0, 32);
}

/** Tatum's ADA private key text (128 hex: kL ‖ kR) → 64 bytes; the caller zeroes it. */
export function parseAdaPrivateKey(text: string): Uint8Array {
  const t = text.trim();
  if (!/^[0-9a-fA-F]{128}$/.test(t)) {
    throw new InputError(
      'An ADA private key is 128 hex digits: the 64-byte ed25519 extended key (kL ‖ kR) Tatum derives.',
      'Give the privateKey of getprivatekey, not an address, an xpub or a bech32 ed25519e_sk… key.',
    );
  }
  const k = Uint8Array.from(Buffer.from(t, 'hex'));
  if ((k[0]! & 0b111) !== 0 || (k[31]! & 0x80) !== 0) {
    k.fill(0);
    throw new InputError(
      'The ADA private key is not a BIP32-Ed25519 extended key (its scalar kL is not a multiple of 8 below 2^255).',
    );
  }
  return k;
}

/**
 * Ed25519 signature with an extended key (kL, kR): nonce r = SHA-512(kR ‖ M), the scalar is
 * kL itself. Deterministic; verifiable with the ordinary RFC 8032 verify against kL·B.
 */
export function adaSign(kLkR: Uint8Array, message: Uint8Array): Uint8Array {
  if (kLkR.length !== 64) throw new InputError('An ADA signing key is 64 bytes (kL ‖ kR).');
  const a = leToBigInt(kLkR.subarray(0, 32)) % L;
  const pub = B.multiply(a).toBytes();
  const nonceIn = new Uint8Array(32 + message.length);
  nonceIn.set(kLkR.subarray(32, 64), 0);
  nonceIn.set(message, 32);
  const rh = sha512(nonceIn);
  nonceIn.fill(0);
  const r = leToBigInt(rh) % L;
  rh.fill(0);
  // r = 0 has probability 2^-252; the point multiplication refuses it rather than sign with R = identity.
  if (r === 0n) throw new InputError('ADA signature nonce is zero; sign again with another message.');
  const R = B.multiply(r).toBytes();
  const hIn = new Uint8Array(64 + message.length);
  hIn.set(R, 0);
  hIn.set(pub, 32);
  hIn.set(message, 64);
  const h = leToBigInt(sha512(hIn)) % L;
  const S = (r + h * a) % L;
  const sig = new Uint8Array(64);
  sig.set(R, 0);
  let s = S;
  for (let i = 32; i < 64; i++) {
    sig[i] = Number(s & 0xffn);
    s >>= 8n;
  }
  return sig;
}

/** blake2b-224 of a public key: the payment key hash of an address. */
export function adaKeyHash(publicKey: Uint8Array): Uint8Array {
  if (publicKey.length !== 32) throw new InputError('An ADA public key is 32 bytes.');
  return blake2b(publicKey, { dkLen: 28 });
}

/** blake2b-256: a transaction id (of the body bytes). */
export function adaBodyHash(bodyBytes: Uint8Array): Uint8Array {
  return blake2b(bodyBytes, { dkLen: 32 });
}
