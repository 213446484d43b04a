import { randomBytes } from 'node:crypto';
import { HardkmsError } from '../errors.js';
import type { NewWalletEntry, PublicData, WalletEntry } from './entries.js';

/** How a WIF key was written (structurally the chain layer's WifForm). */
interface WifForm {
  version: number;
  compressed: boolean;
}
import type { Vault } from './vault.js';
import {
  decryptSecret,
  encryptSecretEntry,
  generateEd25519Entries,
  generateEd25519Entry,
  generatePrivateKeys,
  importPrivateKey,
} from './entry-secrets.js';
import { copyFields, secretFields } from './secret-fields.js';

/**
 * A chain's keys and addresses as Tatum derives and writes them: what the wallet commands need
 * from an HD chain's derivation. The chain layer's ChainAdapter (chains/types.ts) is this plus
 * the chain's paths and every address form of a key; a secp256k1 HD chain's kit is its adapter.
 */
export interface ChainKeys {
  /** Extended public key at the chain's change level (depth 4), in the serialization Tatum stores. */
  xpubFromSeed(seed: Uint8Array, testnet: boolean): string;
  /** Address of non-hardened child `index` of the xpub. */
  addressFromXpub(xpub: string, index: number, testnet: boolean): string;
  /** Raw 32-byte private key at the change level's child `index`. The caller zeroes it. */
  privateKeyFromSeed(seed: Uint8Array, index: number, testnet: boolean): Uint8Array;
  /** Export format: WIF (utxo, bch), 0x + 64 hex (evm), 64 hex (tron), the chain's secret (ed25519 chains). */
  formatPrivateKey(raw: Uint8Array, testnet: boolean): string;
  /** Inverse of formatPrivateKey; InputError naming the rule that failed. The caller zeroes the result. */
  parsePrivateKey(text: string, testnet: boolean): Uint8Array;
  /**
   * WIF chains only: the key as Tatum's signers take it (uncompressed WIF, WIF of the other
   * network), with the form it was written in; `form` is absent when it is this net's compressed WIF.
   */
  parseWifAsTatum?(text: string, testnet: boolean): { key: Uint8Array; form?: WifForm; otherNetwork?: boolean };
  /** WIF chains only: the key in a given WIF form (the inverse of parseWifAsTatum). */
  formatWif?(raw: Uint8Array, form: WifForm): string;
  /** BTC/LTC/DOGE: the P2PKH address of the uncompressed public key (an uncompressed-WIF wallet's address). */
  uncompressedAddress?(pub33: Uint8Array, testnet: boolean): string;
  /** Address Tatum reports for a private-key wallet (BTC: P2PKH legacy). */
  addressFromPublicKey(pub33: Uint8Array, testnet: boolean): string;
}

/**
 * Tatum's managed-wallet operations on an unsealed vault. The chain layer is handed in
 * (structurally typed) so the vault never depends on chain code: the CLI composes them.
 */
export interface ChainKit extends ChainKeys {
  chain: string;
  /** 'ed25519' for one-key chains (XLM, ALGO): keys go to the token as ed25519 seeds; absent = secp256k1. */
  curve?: 'ed25519';
  /** Field of Tatum's generated wallet JSON that holds the key (`{address, secret}`, SOL `{address, privateKey}`); one-key chains only. */
  walletSecretField?: 'secret' | 'privateKey';
  /**
   * Mnemonic chains without an xpub (SOL: SLIP-0010 is hardened only): the public data of a
   * mnemonic entry (the address of index 0). Every other address needs the mnemonic.
   */
  mnemonicPublicData?(seed: Uint8Array, testnet: boolean): PublicData;
  /** One-key (ed25519) chains whose generated wallets are a mnemonic (EGLD), not a key in the token. */
  generatesMnemonic?: true;
  /**
   * Chains whose keys no token can hold (ADA: BIP32-Ed25519 extended keys): throws the
   * InputError that says so. Their private keys are not stored or generated (import-legacy
   * keeps them for export only); their mnemonic wallets are.
   */
  refusePrivateKeys?(): never;
  /** The address an xpub gives for this key (BTC: P2WPKH), which Tatum prints for batch keys. */
  xpubAddressFromPublicKey(pub33: Uint8Array, testnet: boolean): string;
  publicKeyFromPrivateKey(raw: Uint8Array): Uint8Array;
  /**
   * One-key chains whose secret is not the signing key (XRP seeds): the key for the token and
   * its curve. The secret itself is kept as the export copy. The caller zeroes privateKey.
   */
  signingKey?(secret: Uint8Array): { curve: 'ed25519' | 'secp256k1'; privateKey: Uint8Array; publicKey: Uint8Array };
  /** One-key chains whose new wallets cannot come from the token's key-pair generation (XRP): a secret from entropy. */
  newSecret?(entropy: Uint8Array): Uint8Array;
  generateMnemonic(entropy: Uint8Array): Buffer;
  /** Throws, saying what to use instead, on chains whose wallets are one key and never a mnemonic (XLM, ALGO, XRP). */
  requireMnemonicWallets(): void;
  validateMnemonic(mnemonic: Uint8Array): void;
  /** Validates the words in canonical form; returns warnings when the typed text differs (it is derived from as typed, as Tatum does). */
  validateTypedMnemonic(mnemonic: Uint8Array): string[];
  mnemonicToSeed(mnemonic: Uint8Array): Buffer;
}

/** Tatum's wallet JSON for one entry (§5.2), secrets included: for getmanagedwallet and export only. */
type TatumEntry = Record<string, string | boolean>;

function withSeed<T>(mnemonic: Buffer, kit: ChainKit, fn: (seed: Buffer) => T): T {
  const seed = kit.mnemonicToSeed(mnemonic);
  try {
    return fn(seed);
  } finally {
    seed.fill(0);
  }
}

/** 32 bytes from the token's RNG XOR node:crypto: either source alone would suffice if sound. */
function entropy(vault: Vault): Buffer {
  const a = vault.token.random(32);
  const b = randomBytes(32);
  for (let i = 0; i < 32; i++) a[i]! ^= b[i]!;
  b.fill(0);
  return a;
}

export function generateManagedWallet(
  vault: Vault,
  kit: ChainKit,
  testnet: boolean,
): { signatureId: string; xpub?: string; address?: string; notes: string[] } {
  const ent = entropy(vault);
  const mnemonic = kit.generateMnemonic(ent);
  ent.fill(0);
  try {
    return storeMnemonicEntry(vault, kit, testnet, mnemonic, undefined, 'wallet.generate');
  } finally {
    mnemonic.fill(0);
  }
}

export function storeMnemonicEntry(
  vault: Vault,
  kit: ChainKit,
  testnet: boolean,
  mnemonic: Buffer,
  signatureId?: string,
  event: 'wallet.store' | 'wallet.generate' = 'wallet.store',
): { signatureId: string; xpub?: string; address?: string; notes: string[] } {
  const notes = kit.validateTypedMnemonic(mnemonic);
  const publicData: PublicData = withSeed(mnemonic, kit, (seed) =>
    kit.mnemonicPublicData ? kit.mnemonicPublicData(seed, testnet) : { xpub: kit.xpubFromSeed(seed, testnet) },
  );
  const entry = encryptSecretEntry(
    vault,
    { chain: kit.chain, testnet, kind: 'mnemonic', publicData, ...(signatureId ? { signatureId } : {}) },
    mnemonic,
  );
  vault.addEntries([entry], {
    event,
    subject: entry.signatureId,
    result: 'ok',
    details: { chain: kit.chain, testnet, kind: 'mnemonic' },
  });
  return {
    signatureId: entry.signatureId,
    ...(publicData.xpub !== undefined ? { xpub: publicData.xpub } : {}),
    ...(publicData.address !== undefined && publicData.xpub === undefined ? { address: publicData.address } : {}),
    notes,
  };
}

/**
 * A private key as the user typed it (storemanagedprivatekey, import-legacy). WIF keys are
 * accepted as Tatum's signers accept them: uncompressed, or of the other network; the form
 * is kept so getmanagedwallet/export print what was stored. `notes` says what was unusual.
 */
export function prepareImportedPrivateKey(
  vault: Vault,
  kit: ChainKit,
  testnet: boolean,
  keyText: string,
  signatureId?: string,
  notes: string[] = [],
): NewWalletEntry {
  const parsed = kit.parseWifAsTatum
    ? kit.parseWifAsTatum(keyText, testnet)
    : { key: kit.parsePrivateKey(keyText, testnet) };
  const raw = parsed.key;
  const form = parsed.form;
  if (form && !form.compressed)
    notes.push('uncompressed WIF: its address is the uncompressed P2PKH one, as Tatum gives it');
  if (parsed.otherNetwork) {
    notes.push(
      `WIF of the ${testnet ? 'mainnet' : 'testnet'} network in a ${testnet ? 'testnet' : 'mainnet'} wallet: kept as typed and signed as Tatum does (the network does not change a signature)`,
    );
  }
  try {
    return prepareSecretKey(vault, kit, testnet, raw, signatureId, (p): PublicData => ({
      address:
        form && !form.compressed && kit.uncompressedAddress
          ? kit.uncompressedAddress(p, testnet)
          : kit.addressFromPublicKey(p, testnet),
      ...(form ? { wif: { version: form.version, compressed: form.compressed } } : {}),
    }));
  } finally {
    raw.fill(0);
  }
}

/** A stored key in its export format: the WIF form it was given in, else the chain's own. */
function formatStoredKey(kit: ChainKit, raw: Uint8Array, entry: WalletEntry): string {
  const form = entry.publicData.wif;
  return form && kit.formatWif ? kit.formatWif(raw, form) : kit.formatPrivateKey(raw, entry.testnet);
}

/** A parsed key (or chain secret) as an entry: the signing key into the token, the secret as the export copy. */
function prepareSecretKey(
  vault: Vault,
  kit: ChainKit,
  testnet: boolean,
  raw: Uint8Array,
  signatureId?: string,
  publicData: (p: Buffer) => PublicData = (p) => ({ address: kit.addressFromPublicKey(p, testnet) }),
): NewWalletEntry {
  if (kit.signingKey) {
    const k = kit.signingKey(raw);
    try {
      return importPrivateKey(
        vault,
        {
          chain: kit.chain,
          testnet,
          ...(signatureId ? { signatureId } : {}),
          ...(k.curve === 'ed25519' ? { curve: 'ed25519' as const } : {}),
          publicData,
        },
        k.privateKey,
        k.publicKey,
        raw,
      );
    } finally {
      k.privateKey.fill(0);
    }
  }
  const pub = kit.publicKeyFromPrivateKey(raw);
  return importPrivateKey(
    vault,
    {
      chain: kit.chain,
      testnet,
      ...(signatureId ? { signatureId } : {}),
      ...(kit.curve ? { curve: kit.curve } : {}),
      publicData,
    },
    raw,
    pub,
  );
}

/**
 * generatemanagedwallet for a one-key ed25519 chain (Tatum: `{address, secret}` from a
 * random keypair): the key pair is generated in the token and stored wrapped.
 */
export function generateKeyWallet(
  vault: Vault,
  kit: ChainKit,
  testnet: boolean,
): { signatureId: string; address: string } {
  const entry = generateOneKeyEntry(vault, kit, testnet);
  if (kit.walletSecretField) entry.publicData = { ...entry.publicData, secretField: kit.walletSecretField };
  vault.store.addEntries([entry]);
  return { signatureId: entry.signatureId, address: entry.publicData.address ?? '' };
}

/**
 * A new one-key wallet: ed25519 key pairs come from the token (CKM_EC_EDWARDS_KEY_PAIR_GEN);
 * chains whose secret is not the key (XRP seeds) take the secret from the token's RNG
 * XOR node:crypto and import the key derived from it.
 */
function generateOneKeyEntry(vault: Vault, kit: ChainKit, testnet: boolean): NewWalletEntry {
  const publicData = (p: Buffer) => ({ address: kit.addressFromPublicKey(p, testnet) });
  if (!kit.newSecret) return generateEd25519Entry(vault, { chain: kit.chain, testnet, publicData });
  const ent = entropy(vault);
  const secret = kit.newSecret(ent);
  ent.fill(0);
  try {
    return prepareSecretKey(vault, kit, testnet, secret);
  } finally {
    secret.fill(0);
  }
}

/** Generates keys inside the token in chunks, one transaction per chunk; cost is linear in count. */
export function generatePrivateKeyBatch(
  vault: Vault,
  kit: ChainKit,
  testnet: boolean,
  count: number,
  onChunk: (entries: Array<{ signatureId: string; address: string }>) => void,
  chunkSize = 500,
): void {
  kit.refusePrivateKeys?.();
  for (let done = 0; done < count; done += chunkSize) {
    const n = Math.min(chunkSize, count - done);
    // Tatum derives each batch key from a fresh mnemonic and prints the address its xpub
    // gives: for BTC that is P2WPKH (bech32), not the P2PKH of private-key wallets (§4.2).
    // One-key ed25519 chains have one address form.
    const req = {
      chain: kit.chain,
      testnet,
      publicData: (p: Buffer) => ({
        address:
          kit.curve === 'ed25519' ? kit.addressFromPublicKey(p, testnet) : kit.xpubAddressFromPublicKey(p, testnet),
      }),
    };
    let entries: WalletEntry[];
    if (kit.newSecret) {
      const rows: NewWalletEntry[] = [];
      for (let i = 0; i < n; i++) rows.push(generateOneKeyEntry(vault, kit, testnet));
      vault.store.addEntries(rows);
      entries = rows.map((e) => ({ ...e, created: '' }));
    } else
      entries = kit.curve === 'ed25519' ? generateEd25519Entries(vault, req, n) : generatePrivateKeys(vault, req, n);
    onChunk(entries.map((e) => ({ signatureId: e.signatureId, address: e.publicData.address ?? '' })));
  }
}

/** True for a mnemonic wallet whose addresses come only from its mnemonic (SOL): see mnemonicAddress. */
export function addressNeedsMnemonic(entry: WalletEntry, kit: ChainKit | undefined): boolean {
  return entry.kind === 'mnemonic' && entry.publicData.xpub === undefined && kit?.mnemonicPublicData !== undefined;
}

/** The address at `index` of a mnemonic wallet without xpub (SOL): the mnemonic is decrypted, the child derived, both wiped. The caller audits. */
export function mnemonicAddress(vault: Vault, entry: WalletEntry, kit: ChainKit, index: number): string {
  const plain = decryptSecret(vault, entry);
  try {
    const key = withSeed(plain, kit, (seed) => kit.privateKeyFromSeed(seed, index, entry.testnet));
    try {
      return kit.addressFromPublicKey(Buffer.from(kit.publicKeyFromPrivateKey(key)), entry.testnet);
    } finally {
      key.fill(0);
    }
  } finally {
    plain.fill(0);
  }
}

export function getAddress(entry: WalletEntry, kit: ChainKit | undefined, index: number): string {
  if (addressNeedsMnemonic(entry, kit) && (index !== 0 || entry.publicData.address === undefined)) {
    throw new HardkmsError(
      'WALLET_NEEDS_MNEMONIC',
      `Wallet '${entry.signatureId}' derives address ${index} from its mnemonic only.`,
      {
        hint: 'This is a bug in the caller (use mnemonicAddress); report it.',
      },
    );
  }
  if (entry.publicData.address && (!entry.publicData.xpub || !kit)) return entry.publicData.address;
  if (entry.publicData.xpub && kit) return kit.addressFromXpub(entry.publicData.xpub, index, entry.testnet);
  throw new HardkmsError(
    'WALLET_NO_ADDRESS',
    `Wallet '${entry.signatureId}' has no address or xpub to derive one from.`,
  );
}

/** Tatum's getprivatekey: `secret` if present, else derive from the mnemonic at index. */
export function revealPrivateKey(vault: Vault, entry: WalletEntry, kit: ChainKit | undefined, index: number): string {
  if (entry.kind === 'privateKey' && kit?.curve === 'ed25519') {
    // One-key chains: Tatum prints the wallet's secret whatever the index.
    const seed = decryptSecret(vault, entry);
    try {
      return kit.formatPrivateKey(seed, entry.testnet);
    } finally {
      seed.fill(0);
    }
  }
  if (entry.kind === 'privateKey') {
    throw new HardkmsError(
      'WALLET_NO_MNEMONIC',
      `Wallet '${entry.signatureId}' holds a single private key, not a mnemonic: there is nothing to derive index ${index} from.`,
      {
        hint: 'Use `getmanagedwallet` to see a private-key wallet.',
      },
    );
  }
  const plain = decryptSecret(vault, entry);
  try {
    if (entry.kind === 'secret') return secretFields(plain).secret ?? secretFields(plain).privateKey ?? '';
    if (!kit) throw new HardkmsError('UNSUPPORTED_CHAIN', `hardkms cannot derive keys for chain '${entry.chain}'.`);
    const key = withSeed(plain, kit, (seed) => kit.privateKeyFromSeed(seed, index, entry.testnet));
    try {
      return kit.formatPrivateKey(key, entry.testnet);
    } finally {
      key.fill(0);
    }
  } finally {
    plain.fill(0);
  }
}

/**
 * `export`: every wallet in Tatum KMS's JSON, secrets in clear, keyed by signature id, and its
 * one `secret.show` record, on disk before this returns (the caller prints the result).
 * `kitFor` gives a chain's kit (the wallet commands' chain layer); `progress` is told how many
 * wallets there are, then each one done.
 */
export function exportWallets(
  vault: Vault,
  options: {
    kitFor: (chain: string) => ChainKit | undefined;
    details: Record<string, unknown>;
    progress?: ((total: number) => { update(done: number): void; finish(): void }) | undefined;
  },
): Record<string, TatumEntry> {
  const out: Record<string, TatumEntry> = {};
  const entries = vault.store.listEntries();
  const progress = options.progress?.(entries.length);
  // A count, not Object.keys(out).length: that made the loop quadratic (0.23 s of CPU at 2,000 wallets).
  let done = 0;
  for (const entry of entries) {
    out[entry.signatureId] = tatumEntry(vault, entry, options.kitFor(entry.chain));
    progress?.update(++done);
  }
  progress?.finish();
  vault.record({
    event: 'secret.show',
    subject: 'all wallets',
    result: 'ok',
    details: { command: 'export', count: entries.length, ...options.details },
  });
  return out;
}

/** Tatum's JSON for an entry, secrets in clear. Callers audit before printing. */
export function tatumEntry(vault: Vault, entry: WalletEntry, kit: ChainKit | undefined): TatumEntry {
  const out: TatumEntry = {};
  const plain = decryptSecret(vault, entry);
  try {
    if (entry.kind === 'mnemonic') {
      out.mnemonic = plain.toString('utf8');
      if (kit?.mnemonicPublicData && entry.publicData.address) {
        // Tatum's SOL wallets are {mnemonic, address, privateKey}, the key being index 0's.
        out.address = entry.publicData.address;
        const key = withSeed(plain, kit, (seed) => kit.privateKeyFromSeed(seed, 0, entry.testnet));
        try {
          out.privateKey = kit.formatPrivateKey(key, entry.testnet);
        } finally {
          key.fill(0);
        }
      }
    } else if (entry.kind === 'privateKey') {
      if (!kit) throw new HardkmsError('UNSUPPORTED_CHAIN', `hardkms cannot format keys for chain '${entry.chain}'.`);
      // One-key chains: Tatum's generated wallets say `secret`, stored private keys `privateKey` (§5.2).
      out[entry.publicData.secretField ?? 'privateKey'] = formatStoredKey(kit, plain, entry);
    } else copyFields(out, secretFields(plain));
  } finally {
    plain.fill(0);
  }
  if (entry.publicData.xpub) out.xpub = entry.publicData.xpub;
  if (entry.publicData.address && (entry.kind !== 'privateKey' || entry.publicData.secretField !== undefined))
    out.address = entry.publicData.address;
  out.chain = entry.chain;
  out.testnet = entry.testnet;
  return out;
}
