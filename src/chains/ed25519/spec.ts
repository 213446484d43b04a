/**
 * Chains whose wallets are one ed25519 key, no mnemonic (Tatum, chains §1): the
 * key formats Tatum stores and the address of a public key. The key itself lives in the
 * token (hsm/token.ts: import+wrap, generate, unwrap → CKM_EDDSA → destroy); these
 * functions only convert between Tatum's text forms and the 32-byte RFC 8032 seed.
 */
import { createRequire } from 'node:module';
import { ed25519 } from '@noble/curves/ed25519';
import type { StrKey as StrKeyType } from '@stellar/stellar-base';
import type algosdkType from 'algosdk';
import { InputError } from '../../errors.js';
import {
  formatXrpSecret,
  newXrpSecret,
  parseXrpSecret,
  xrpAddress,
  xrpPublicKey,
  xrpSigningKey,
  type XrpSigningKey,
} from '../xrp/keys.js';
import { formatSolSecret, parseSolSecret, solAddress, solSeedAt } from '../sol/keys.js';
import { egldAddress, egldSeedAt, parseEgldSecret } from '../egld/keys.js';

// Loaded on first use (about 0.5 s of module loading together): every command that knows
// the chain list loads this file, few of them touch an XLM or ALGO key.
const require = createRequire(import.meta.url);
let strKey: typeof StrKeyType | undefined;
let algo: typeof algosdkType | undefined;
const StrKey = (): typeof StrKeyType =>
  (strKey ??= (require('@stellar/stellar-base') as { StrKey: typeof StrKeyType }).StrKey);
const algosdk = (): typeof algosdkType => (algo ??= require('algosdk') as typeof algosdkType);

type Ed25519ChainCode = 'XLM' | 'ALGO' | 'XRP' | 'SOL' | 'EGLD';
type Ed25519Family = 'xlm' | 'algo' | 'xrp' | 'sol' | 'egld';

export interface Ed25519ChainSpec {
  readonly chain: Ed25519ChainCode;
  readonly family: Ed25519Family;
  /** The field Tatum's generated wallets hold the key in (`{address, secret}`; SOL `{address, privateKey}`). */
  readonly walletSecretField: 'secret' | 'privateKey';
  /** Address of a 32-byte ed25519 public key (the same on mainnet and testnet). */
  address(publicKey: Uint8Array): string;
  /** Tatum's key text → 32-byte seed; InputError naming the rule that failed. The caller zeroes it. */
  parseSecret(text: string): Uint8Array;
  /** 32-byte seed → Tatum's key text. */
  formatSecret(seed: Uint8Array): string;
  /**
   * Chains whose stored secret is not the signing key (XRP family seeds): the key the token
   * signs with, derived from the secret, and its curve (XRP `s…` seeds are secp256k1).
   * Absent: the secret is the 32-byte ed25519 seed itself.
   */
  signingKey?(secret: Uint8Array): XrpSigningKey;
  /** Public key of a stored secret, when it is not ed25519.getPublicKey(secret). */
  publicKey?(secret: Uint8Array): Uint8Array;
  /** A new wallet's secret from 32 bytes of entropy, when the token's key-pair generation cannot make it (XRP). */
  newSecret?(entropy: Uint8Array): Uint8Array;
  /**
   * Chains that also have mnemonic wallets (SOL, SLIP-0010): the 32-byte ed25519 seed of
   * child `index` of a BIP39 seed. Absent: one-key wallets only.
   */
  childSeed?(bip39Seed: Uint8Array, index: number, testnet: boolean): Uint8Array;
  /**
   * EGLD: Tatum's wallets are the mnemonic alone (`{mnemonic}`: generatemanagedwallet makes
   * one, export gives just it back). Absent with childSeed (SOL): Tatum's generated wallets are
   * `{mnemonic, address, privateKey}` with the key of index 0, and generatemanagedwallet makes a key.
   */
  mnemonicOnlyWallets?: boolean;
}

const XLM: Ed25519ChainSpec = {
  chain: 'XLM',
  family: 'xlm',
  walletSecretField: 'secret',
  address: (pub) => StrKey().encodeEd25519PublicKey(Buffer.from(pub)),
  parseSecret(text) {
    const t = text.trim();
    if (!/^S[A-Z2-7]{55}$/.test(t)) {
      throw new InputError(
        'An XLM secret is 56 characters: S followed by 55 base32 letters (A-Z, 2-7).',
        'Give the S… secret Tatum stored (not the G… address).',
      );
    }
    if (!StrKey().isValidEd25519SecretSeed(t))
      throw new InputError('The XLM secret has a wrong checksum.', 'Check that it was copied completely and exactly.');
    return Uint8Array.from(StrKey().decodeEd25519SecretSeed(t));
  },
  formatSecret: (seed) => StrKey().encodeEd25519SecretSeed(Buffer.from(seed)),
};

const ALGO: Ed25519ChainSpec = {
  chain: 'ALGO',
  family: 'algo',
  walletSecretField: 'secret',
  address: (pub) => algosdk().encodeAddress(Uint8Array.from(pub)),
  parseSecret(text) {
    // algosdk's 64-byte secret key (seed ‖ public key) in RFC 4648 base32 without padding: 103 characters.
    const t = text.trim().replace(/=+$/, '');
    if (!/^[A-Z2-7]{103}$/.test(t)) {
      throw new InputError(
        'An ALGO secret is 103 base32 characters (A-Z, 2-7): the 64-byte secret key.',
        'Give the secret Tatum stored, not the address or a 25-word mnemonic.',
      );
    }
    const sk = base32Decode(t);
    try {
      if (sk.length !== 64) throw new InputError('The ALGO secret does not decode to 64 bytes.');
      const seed = Uint8Array.from(sk.subarray(0, 32));
      if (!Buffer.from(ed25519.getPublicKey(seed)).equals(Buffer.from(sk.subarray(32)))) {
        seed.fill(0);
        throw new InputError(
          'The ALGO secret is inconsistent: its second half is not the public key of its first half.',
          'Check that it was copied exactly.',
        );
      }
      return seed;
    } finally {
      sk.fill(0);
    }
  },
  formatSecret(seed) {
    const sk = Buffer.concat([Buffer.from(seed), Buffer.from(ed25519.getPublicKey(seed))]);
    try {
      return base32Encode(sk);
    } finally {
      sk.fill(0);
    }
  },
};

/**
 * XRP: the secret is a family seed (`sEd…` ed25519, `s…` secp256k1), stored as type byte ‖
 * 16-byte seed; the signing key is derived from it (src/chains/xrp/keys.ts). New wallets are
 * ed25519 seeds from the token's RNG, as Tatum's managed wallets are `sEd…`.
 */
const XRP: Ed25519ChainSpec = {
  chain: 'XRP',
  family: 'xrp',
  walletSecretField: 'secret',
  address: (pub) => xrpAddress(pub),
  parseSecret: (text) => parseXrpSecret(text),
  formatSecret: (secret) => formatXrpSecret(secret),
  signingKey: (secret) => xrpSigningKey(secret),
  publicKey: (secret) => xrpPublicKey(secret),
  newSecret: (entropy) => newXrpSecret(entropy),
};

/**
 * SOL: `privateKey` = base58 of the 64-byte secret key (128 hex digits accepted). Key wallets
 * are generated in the token; mnemonic wallets derive m/44'/501'/0'/0'/i' on the host.
 */
const SOL: Ed25519ChainSpec = {
  chain: 'SOL',
  family: 'sol',
  walletSecretField: 'privateKey',
  address: (pub) => solAddress(pub),
  parseSecret: (text) => parseSolSecret(text),
  formatSecret: (seed) => formatSolSecret(seed),
  childSeed: (seed, index) => solSeedAt(seed, index),
};

/**
 * EGLD (MultiversX): mnemonic wallets on m/44'/508'/0'/0'/i' (testnet m/44'/1'/0'/0'/i',
 * SLIP-0010), private keys as 64 hex digits (the 32-byte seed), bech32 `erd1…` addresses.
 */
const EGLD: Ed25519ChainSpec = {
  chain: 'EGLD',
  family: 'egld',
  walletSecretField: 'privateKey',
  address: (pub) => egldAddress(pub),
  parseSecret: (text) => parseEgldSecret(text),
  formatSecret: (seed) => Buffer.from(seed).toString('hex'),
  childSeed: (seed, index, testnet) => egldSeedAt(seed, index, testnet),
  mnemonicOnlyWallets: true,
};

const SPECS: ReadonlyMap<string, Ed25519ChainSpec> = new Map<string, Ed25519ChainSpec>([
  ['XLM', XLM],
  ['ALGO', ALGO],
  ['XRP', XRP],
  ['SOL', SOL],
  ['EGLD', EGLD],
]);

export const ED25519_CHAINS: readonly Ed25519ChainCode[] = Object.freeze([...SPECS.keys()] as Ed25519ChainCode[]);

export function isEd25519Chain(chain: string): chain is Ed25519ChainCode {
  return SPECS.has(chain);
}

export function ed25519Spec(chain: string): Ed25519ChainSpec | undefined {
  return SPECS.get(chain);
}

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base32Encode(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += B32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += B32[(value << (5 - bits)) & 31];
  return out;
}

function base32Decode(text: string): Buffer {
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const c of text) {
    value = (value << 5) | B32.indexOf(c);
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  const buf = Buffer.from(out);
  out.fill(0);
  return buf;
}
