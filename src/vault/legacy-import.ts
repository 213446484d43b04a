import { HardkmsError } from '../errors.js';
import type { NewWalletEntry } from './entries.js';
import type { LegacyEntry } from './legacy-store.js';
import { prepareImportedPrivateKey, type ChainKit } from './managed.js';
import type { Vault } from './vault.js';
import { encryptSecretEntry } from './wallets.js';

export interface ImportSummary {
  /** Per chain and kind, what was (or, with dry-run, would be) imported. */
  imported: Record<string, Record<string, number>>;
  /** Signature ids already in the store: left as they are (import is idempotent). */
  alreadyPresent: number;
  /** Entries kept for export only: chains hardkms does not sign for (SOL, XRP, …). */
  exportOnly: number;
  total: number;
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

/**
 * An XLM/ALGO entry: the key is parsed, its address must be the one the file records (an
 * unauthenticated file could pair a key with someone else's deposit address), and the key
 * goes into the token. Exported afterwards in the same field (`secret` or `privateKey`).
 */
function importOneKey(vault: Vault, kit: ChainKit, e: LegacyEntry, dryRun: boolean): NewWalletEntry | undefined {
  const field = e.secret ? 'secret' : 'privateKey';
  const text = (e.secret ?? e.privateKey)!.toString('utf8');
  const seed = kit.parsePrivateKey(text, e.testnet);
  try {
    const address = kit.addressFromPublicKey(kit.publicKeyFromPrivateKey(seed), e.testnet);
    if (e.address && e.address !== address) {
      throw new HardkmsError(
        'LEGACY_ADDRESS_MISMATCH',
        `The address stored for wallet '${e.signatureId}' is not the one its ${field} gives: the Tatum file was altered. Nothing was imported.`,
        { hint: 'Compare the entry with a backup of the Tatum store before importing.' },
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
 * Moves Tatum wallet entries into the hardware-backed store, keeping their signature ids.
 * Private keys of chains we sign for are imported into the token and wrapped; mnemonics
 * are encrypted by the data key, and their stored xpub must match the one derived from
 * the mnemonic (a legacy file is unauthenticated: a swapped xpub would redirect deposits).
 * Everything is prepared first and committed in one transaction: all or nothing.
 */
export function importLegacyEntries(
  vault: Vault,
  entries: readonly LegacyEntry[],
  kitFor: (chain: string) => ChainKit | undefined,
  options: { dryRun: boolean },
): ImportSummary {
  const summary: ImportSummary = { imported: {}, alreadyPresent: 0, exportOnly: 0, total: entries.length };
  const rows: NewWalletEntry[] = [];
  for (const e of entries) {
    if (vault.store.hasEntry(e.signatureId)) {
      summary.alreadyPresent++;
      continue;
    }
    const kit = kitFor(e.chain);
    const publicData = { ...(e.xpub ? { xpub: e.xpub } : {}), ...(e.address ? { address: e.address } : {}) };
    if (kit && e.kind === 'mnemonic' && e.mnemonic) {
      kit.validateMnemonic(e.mnemonic);
      const seed = kit.mnemonicToSeed(e.mnemonic);
      let xpub: string;
      try {
        xpub = kit.xpubFromSeed(seed, e.testnet);
      } finally {
        seed.fill(0);
      }
      if (e.xpub && e.xpub !== xpub) {
        throw new HardkmsError(
          'LEGACY_XPUB_MISMATCH',
          `The xpub stored for wallet '${e.signatureId}' is not the one its mnemonic derives: the Tatum file was altered. Nothing was imported.`,
          {
            hint: 'Compare the entry with a backup of the Tatum store before importing.',
          },
        );
      }
      if (!options.dryRun)
        rows.push(
          encryptSecretEntry(
            vault,
            { chain: e.chain, testnet: e.testnet, kind: 'mnemonic', signatureId: e.signatureId, publicData: { ...publicData, xpub } },
            e.mnemonic,
          ),
        );
      count(summary, e.chain, 'mnemonic');
    } else if (kit?.curve === 'ed25519' && !e.mnemonic && (e.secret || e.privateKey)) {
      // One-key ed25519 chains (XLM, ALGO): `secret` (generated wallets) or `privateKey`, into the token.
      const row = importOneKey(vault, kit, e, options.dryRun);
      if (row) rows.push(row);
      count(summary, e.chain, 'privateKey');
    } else if (kit && e.kind === 'privateKey' && e.privateKey && !e.mnemonic) {
      const text = e.privateKey.toString('utf8');
      if (options.dryRun) kit.parsePrivateKey(text, e.testnet).fill(0);
      else rows.push(prepareImportedPrivateKey(vault, kit, e.testnet, text, e.signatureId));
      count(summary, e.chain, 'privateKey');
    } else {
      const plain = secretJson(e);
      try {
        if (!options.dryRun)
          rows.push(encryptSecretEntry(vault, { chain: e.chain, testnet: e.testnet, kind: 'secret', signatureId: e.signatureId, publicData }, plain));
      } finally {
        plain.fill(0);
      }
      summary.exportOnly++;
      count(summary, e.chain, kit ? 'secret' : 'exportOnly');
    }
  }
  if (!options.dryRun && rows.length > 0) vault.store.addEntries(rows);
  return summary;
}
