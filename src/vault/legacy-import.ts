import { bip32 } from '../chains/keys.js';
import { HardkmsError } from '../errors.js';
import type { NewWalletEntry } from './entries.js';
import { skippedFrom, type LegacyEntry, type SkippedWallet } from './legacy-store.js';
import { prepareImportedPrivateKey, type ChainKit } from './tatum-wallets.js';
import type { Vault } from './vault.js';
import { encryptSecretEntry } from './entry-secrets.js';

interface ImportSummary {
  /** Per chain and kind, what was (or, with dry-run, would be) imported. */
  imported: Record<string, Record<string, number>>;
  /** Signature ids already in the store: left as they are (import is idempotent). */
  alreadyPresent: number;
  /** Entries kept for export only: chains hardkms does not sign for (SOL, XRP, …). */
  exportOnly: number;
  total: number;
  /** Wallets not imported, each with the reason and the fix; the others are imported. */
  skipped: SkippedWallet[];
  /** Wallets imported as Tatum stored them, with what was unusual about them. */
  warnings: Array<{ signatureId: string; chain: string; warnings: string[] }>;
}

function count(summary: ImportSummary, chain: string, kind: string): void {
  const perChain = (summary.imported[chain] ??= {});
  perChain[kind] = (perChain[kind] ?? 0) + 1;
}

/** Secret fields of an entry as the JSON object a `secret` row holds; the caller wipes it. */
function secretJson(e: LegacyEntry): Buffer {
  const fields: Record<string, string> = {};
  if (e.mnemonic) fields.mnemonic = e.mnemonic.toString('utf8');
  if (e.privateKey) fields.privateKey = e.privateKey.toString('utf8');
  if (e.secret) fields.secret = e.secret.toString('utf8');
  return Buffer.from(JSON.stringify(fields), 'utf8');
}

const TAMPER_HINT =
  'Compare the entry with a backup of the Tatum store before importing it; the other wallets were imported.';

/** Tatum's older TRON stores hold the xpub as 130 hex digits: compressed public key ‖ chain code. */
function hexXpubForm(xpub: string): string {
  const node = bip32().fromBase58(xpub);
  return Buffer.concat([node.publicKey, node.chainCode]).toString('hex');
}

function xpubMatches(stored: string, derived: string): boolean {
  return /^[0-9a-fA-F]{130}$/.test(stored) ? stored.toLowerCase() === hexXpubForm(derived) : stored === derived;
}

function missingTestnetNote(net: boolean, how: string): string {
  return `the entry has no testnet field, so Tatum KMS's daemon never signed for it (it compares testnet strictly); imported as ${net ? 'testnet' : 'mainnet'} (${how})`;
}

/**
 * A mnemonic entry: validated in canonical form, stored and derived from as typed (as
 * Tatum did), and its stored xpub must be the one the mnemonic derives (a legacy file is
 * unauthenticated: a swapped xpub would redirect deposits). A missing `testnet` is taken
 * from whichever network's xpub matches.
 */
function mnemonicRow(
  vault: Vault,
  kit: ChainKit,
  e: LegacyEntry,
  dryRun: boolean,
  notes: string[],
): NewWalletEntry | undefined {
  const mnemonic = e.mnemonic!;
  notes.push(...kit.validateTypedMnemonic(mnemonic));
  if (kit.mnemonicPublicData) return noXpubMnemonicRow(vault, kit, e, dryRun, notes);
  const seed = kit.mnemonicToSeed(mnemonic);
  let testnet = e.testnet;
  let xpub: string;
  try {
    xpub = kit.xpubFromSeed(seed, testnet);
    if (e.testnetMissing) {
      const other = kit.xpubFromSeed(seed, true);
      if (e.xpub && !xpubMatches(e.xpub, xpub) && xpubMatches(e.xpub, other)) {
        testnet = true;
        xpub = other;
        notes.push(missingTestnetNote(true, 'its xpub is the testnet one'));
      } else
        notes.push(
          missingTestnetNote(
            false,
            e.xpub ? 'its xpub is the mainnet one' : 'no xpub: Tatum KMS derived it as mainnet',
          ),
        );
    }
  } finally {
    seed.fill(0);
  }
  if (e.xpub && !xpubMatches(e.xpub, xpub)) {
    throw new HardkmsError(
      'LEGACY_XPUB_MISMATCH',
      `The xpub stored for wallet '${e.signatureId}' is not the one its mnemonic derives: the Tatum file was altered. This wallet was not imported.`,
      { hint: TAMPER_HINT },
    );
  }
  if (e.xpub && e.xpub !== xpub) notes.push('the xpub is in the old 130-hex form; kept as stored');
  if (dryRun) return undefined;
  // The stored form of the xpub is kept (Tatum's 130-hex TRON form included): export gives back what the file held.
  const publicData = { ...(e.address ? { address: e.address } : {}), xpub: e.xpub ?? xpub };
  return encryptSecretEntry(
    vault,
    { chain: e.chain, testnet, kind: 'mnemonic', signatureId: e.signatureId, publicData },
    mnemonic,
  );
}

/**
 * A SOL wallet as Tatum generates it, `{mnemonic, address, privateKey}` with the key of
 * index 0: stored as the mnemonic (which gives that key back), after checking that the
 * address and the key are the mnemonic's (an unauthenticated file could pair a mnemonic
 * with someone else's address, or a key the mnemonic does not give).
 */
function noXpubMnemonicRow(
  vault: Vault,
  kit: ChainKit,
  e: LegacyEntry,
  dryRun: boolean,
  notes: string[],
): NewWalletEntry | undefined {
  const mnemonic = e.mnemonic!;
  const seed = kit.mnemonicToSeed(mnemonic);
  let publicData;
  try {
    publicData = kit.mnemonicPublicData!(seed, e.testnet);
    if (e.privateKey) {
      const stored = kit.parsePrivateKey(e.privateKey.toString('utf8'), e.testnet);
      const derived = kit.privateKeyFromSeed(seed, 0, e.testnet);
      const same = Buffer.from(stored).equals(Buffer.from(derived));
      stored.fill(0);
      derived.fill(0);
      if (!same) {
        throw new HardkmsError(
          'LEGACY_KEY_MISMATCH',
          `The privateKey stored for wallet '${e.signatureId}' is not index 0 of its mnemonic (Tatum's generated ${e.chain} wallets are): the Tatum file was altered. This wallet was not imported.`,
          { hint: TAMPER_HINT },
        );
      }
    }
  } finally {
    seed.fill(0);
  }
  if (e.address && e.address !== publicData.address) {
    throw new HardkmsError(
      'LEGACY_ADDRESS_MISMATCH',
      `The address stored for wallet '${e.signatureId}' is not the one its mnemonic gives at index 0: the Tatum file was altered. This wallet was not imported.`,
      { hint: TAMPER_HINT },
    );
  }
  if (e.testnetMissing) notes.push(missingTestnetNote(false, `${e.chain} derives the same on both networks`));
  if (dryRun) return undefined;
  return encryptSecretEntry(
    vault,
    { chain: e.chain, testnet: e.testnet, kind: 'mnemonic', signatureId: e.signatureId, publicData },
    mnemonic,
  );
}

/**
 * An XLM/ALGO entry: the key is parsed, its address must be the one the file records (an
 * unauthenticated file could pair a key with someone else's deposit address), and the key
 * goes into the token. Exported afterwards in the same field (`secret` or `privateKey`).
 */
function oneKeyRow(vault: Vault, kit: ChainKit, e: LegacyEntry, dryRun: boolean): NewWalletEntry | undefined {
  const field = e.secret ? 'secret' : 'privateKey';
  const text = (e.secret ?? e.privateKey)!.toString('utf8');
  const seed = kit.parsePrivateKey(text, e.testnet);
  try {
    const address = kit.addressFromPublicKey(kit.publicKeyFromPrivateKey(seed), e.testnet);
    if (e.address && e.address !== address) {
      throw new HardkmsError(
        'LEGACY_ADDRESS_MISMATCH',
        `The address stored for wallet '${e.signatureId}' is not the one its ${field} gives: the Tatum file was altered. This wallet was not imported.`,
        { hint: TAMPER_HINT },
      );
    }
  } finally {
    seed.fill(0);
  }
  if (dryRun) return undefined;
  const row = prepareImportedPrivateKey(vault, kit, e.testnet, text, e.signatureId);
  return field === 'secret' ? { ...row, publicData: { ...row.publicData, secretField: 'secret' } } : row;
}

/**
 * A secp256k1 private key, as Tatum's signers take it (uncompressed WIF, WIF of the other
 * network), into the token. A missing `testnet` follows the WIF's version byte, else mainnet.
 */
function privateKeyRow(
  vault: Vault,
  kit: ChainKit,
  e: LegacyEntry,
  dryRun: boolean,
  notes: string[],
): NewWalletEntry | undefined {
  const text = e.privateKey!.toString('utf8');
  let testnet = e.testnet;
  if (e.testnetMissing) {
    const parsed = kit.parseWifAsTatum?.(text, false);
    parsed?.key.fill(0);
    testnet = parsed?.otherNetwork === true;
    notes.push(missingTestnetNote(testnet, parsed ? "from the WIF's version byte" : 'Tatum KMS derived it as mainnet'));
  }
  if (dryRun) {
    const parsed = kit.parseWifAsTatum
      ? kit.parseWifAsTatum(text, testnet)
      : { key: kit.parsePrivateKey(text, testnet) };
    parsed.key.fill(0);
    return undefined;
  }
  return prepareImportedPrivateKey(vault, kit, testnet, text, e.signatureId, notes);
}

function exportOnlyRow(vault: Vault, e: LegacyEntry, dryRun: boolean): NewWalletEntry | undefined {
  const plain = secretJson(e);
  try {
    if (dryRun) return undefined;
    const publicData = { ...(e.xpub ? { xpub: e.xpub } : {}), ...(e.address ? { address: e.address } : {}) };
    return encryptSecretEntry(
      vault,
      { chain: e.chain, testnet: e.testnet, kind: 'secret', signatureId: e.signatureId, publicData },
      plain,
    );
  } finally {
    plain.fill(0);
  }
}

/**
 * Moves Tatum wallet entries into the hardware-backed store, keeping their signature ids.
 * Never all-or-nothing: a wallet that cannot be imported is listed in `skipped` with the
 * reason and the fix, and every other one is imported. Never half an import either: the
 * importable rows are prepared first and committed in one transaction, so a crash leaves
 * the store as it was. `skipped` may arrive pre-filled with entries the parser refused.
 */
export function importLegacyEntries(
  vault: Vault,
  entries: readonly LegacyEntry[],
  kitFor: (chain: string) => ChainKit | undefined,
  options: {
    dryRun: boolean;
    source: string;
    skipped?: SkippedWallet[];
    onProgress?: (done: number, total: number) => void;
  },
): ImportSummary {
  const skipped = options.skipped ?? [];
  const summary: ImportSummary = {
    imported: {},
    alreadyPresent: 0,
    exportOnly: 0,
    total: entries.length + skipped.length,
    skipped,
    warnings: [],
  };
  const rows: NewWalletEntry[] = [];
  let seen = 0;
  for (const e of entries) {
    options.onProgress?.(seen++, entries.length);
    if (vault.store.hasEntry(e.signatureId)) {
      summary.alreadyPresent++;
      continue;
    }
    const kit = kitFor(e.chain);
    const notes: string[] = [];
    let kind: string;
    let row: NewWalletEntry | undefined;
    try {
      if (kit && e.kind === 'mnemonic' && e.mnemonic) {
        kind = 'mnemonic';
        row = mnemonicRow(vault, kit, e, options.dryRun, notes);
      } else if (kit?.curve === 'ed25519' && !e.mnemonic && (e.secret || e.privateKey)) {
        // One-key ed25519 chains (XLM, ALGO): `secret` (generated wallets) or `privateKey`, into the token.
        kind = 'privateKey';
        row = oneKeyRow(vault, kit, e, options.dryRun);
      } else if (kit && !kit.refusePrivateKeys && e.kind === 'privateKey' && e.privateKey && !e.mnemonic) {
        kind = 'privateKey';
        row = privateKeyRow(vault, kit, e, options.dryRun, notes);
      } else {
        kind = kit ? 'secret' : 'exportOnly';
        row = exportOnlyRow(vault, e, options.dryRun);
        summary.exportOnly++;
      }
    } catch (err) {
      if (!(err instanceof HardkmsError)) throw err;
      skipped.push(skippedFrom(e.signatureId, e.chain, err));
      continue;
    }
    if (row) rows.push(row);
    count(summary, e.chain, kind);
    if (notes.length > 0) summary.warnings.push({ signatureId: e.signatureId, chain: e.chain, warnings: notes });
  }
  const event = {
    event: 'wallet.import' as const,
    subject: options.source,
    result: 'ok' as const,
    details: { dryRun: options.dryRun, partial: summary.skipped.length > 0, ...summary },
  };
  // The import's record is committed with its rows: a kill cannot leave imported wallets unrecorded.
  if (!options.dryRun && rows.length > 0) vault.addEntries(rows, event);
  else vault.record(event);
  return summary;
}
