/**
 * Which stored keys sign a pending transaction (spec §3.1), as references: the wallet
 * entry, the derivation index for mnemonic wallets, and the public key. Public keys come
 * from public data (the stored public key, or the child of the stored xpub), so resolving
 * touches no secret; the token is asked only when a digest is signed (signing-keys.ts).
 *
 * Rules, as Tatum KMS applies them:
 * 1. `hashes`: each id found in the vault is a resolved wallet (any chain).
 * 2. `signatures[{id, index}]`: a mnemonic wallet derives at `index` (with the entry's own
 *    chain and net); a private-key wallet is used as is; a mnemonic wallet with a null
 *    index is skipped (noted), as Tatum logs and skips it.
 * 3. Single-signer chains (EVM, TRON) use the first resolved wallet: a mnemonic wallet at
 *    the top-level `index` when there is one, derived on the path of the PENDING
 *    TRANSACTION's chain (a MATIC transaction naming an ETH mnemonic wallet derives at
 *    m/44'/966'/0'/0/index on mainnet, as Tatum does), else its key from rule 2, else a
 *    private key. When the two chains' paths differ the stored xpub cannot give the public
 *    key, so `derivePublicKey` (the vault, audited by the caller) derives it.
 * 4. UTXO transfers: every key from rules 1-2 (mnemonic wallets listed in `hashes` have no
 *    key without an index, as in Tatum); BCH keeps one key per listed wallet, in order,
 *    because it matches keys to inputs by position when it cannot tell by script.
 * 5. UTXO off-chain withdrawals: the first wallet's mnemonic, at each
 *    `withdrawalResponses[].address.derivationKey` (BCH: one per input, in order).
 * 6. ADA (§3.1 rule 8): every resolved wallet's key; a withdrawal only signatures[] (mnemonic at index);
 *    ADA wallets are mnemonics, so each key is a signatures[{id, index}] entry (ada-signing-keys.ts).
 * Beyond Tatum: a wallet of the other net (testnet vs mainnet) is never used, and an id
 * that is not in the vault is named in the error when no key could be resolved.
 */
import * as bcrypto from 'bitcoinjs-lib/src/crypto';
import { HardkmsError, shownText } from '../../errors.js';
import type { ChainFamily } from '../../chains/types.js';
import { getChainAdapter, isSupportedChain } from '../../chains/registry.js';
import { base58CheckDecode, bip32, childPublicKey, parseHexXpub } from '../../chains/keys.js';
import {
  offchainDerivationIndexes,
  offchainWithdrawalInputs,
  p2pkhScript,
  p2shScript,
  p2wpkhScript,
} from '../../chains/utxo/key-scripts.js';
import { uncompressedPublicKey } from '../../chains/digest-signer.js';
import type { WalletEntry } from '../../vault/entries.js';
import type { PendingTransaction } from '../source/pending.js';
import { adaRefs } from './ada-signing-keys.js';

export interface KeyRef {
  entry: WalletEntry;
  /** Derivation index (mnemonic wallets only). */
  index?: number;
  /** Chain whose derivation path the index is taken on, when it is not the entry's own (§3.1 rule 3). */
  deriveChain?: string;
  /** 33-byte compressed public key. */
  publicKey: Uint8Array;
}

interface ResolvedKeys {
  /** Keys in signing order; may repeat (BCH positional). */
  refs: KeyRef[];
  /** Distinct signature ids whose keys are used. */
  signatureIds: string[];
  /** Wallets skipped (not errors), for the log: e.g. a signatures[] entry with a null index. */
  notes: string[];
}

interface ResolveOptions {
  /**
   * Public key of `entry`'s mnemonic at `path/index` of `chain`'s derivation path. Needed only
   * for rule 3 across chains whose paths differ; touches the secret, so the caller audits it.
   */
  derivePublicKey?: (entry: WalletEntry, chain: string, index: number) => Uint8Array;
}

const KEY_NOT_RESOLVED = 'TX_KEY_NOT_RESOLVED';

type EntryLookup = (signatureId: string) => WalletEntry | undefined;

export function resolveKeys(
  pending: PendingTransaction,
  family: ChainFamily,
  testnet: boolean,
  lookup: EntryLookup,
  options: ResolveOptions = {},
): ResolvedKeys {
  const notes: string[] = [];
  const missing: string[] = [];
  const otherNet: string[] = [];
  const find = (id: string): WalletEntry | undefined => {
    const e = lookup(id);
    if (e === undefined) missing.push(id);
    else if (e.testnet !== testnet) otherNet.push(id);
    else return e;
    return undefined;
  };
  const fromHashes: WalletEntry[] = [];
  for (const id of pending.hashes) {
    const e = find(id);
    if (e !== undefined) fromHashes.push(e);
  }
  const fromSignatures: { entry: WalletEntry; index: number | undefined }[] = [];
  for (const s of pending.signatures ?? []) {
    const e = find(s.id);
    if (e === undefined) continue;
    if (s.index === null && e.kind === 'mnemonic') {
      notes.push(`signatures[] names mnemonic wallet ${e.signatureId} without an index; that wallet is skipped`);
      continue;
    }
    fromSignatures.push({ entry: e, index: s.index ?? undefined });
  }
  const fail = (why: string): never => {
    const parts = [why];
    if (missing.length > 0) parts.push(`not in this vault: ${shortList(missing)}`);
    if (otherNet.length > 0)
      parts.push(
        `${testnet ? 'mainnet' : 'testnet'} wallets, not used by a ${testnet ? 'testnet' : 'mainnet'} daemon: ${shortList(otherNet)}`,
      );
    throw new HardkmsError(KEY_NOT_RESOLVED, `pending ${pending.id}: ${parts.join('; ')}`, {
      hint: 'Check hashes/signatures of the pending transaction against the wallets in this vault (hardkms export lists them) and the --testnet flag.',
    });
  };

  let refs: KeyRef[];
  const offchain = pending.withdrawalId !== undefined && (family === 'utxo' || family === 'bch');
  if (offchain) {
    const first = fromHashes[0] ?? fromSignatures[0]?.entry;
    if (first === undefined) return fail('no wallet to sign the withdrawal with');
    if (first.kind !== 'mnemonic')
      return fail(
        `withdrawals are signed with a mnemonic wallet's derived keys, but ${first.signatureId} is a ${first.kind} wallet`,
      );
    if (pending.withdrawalResponses === undefined)
      return fail('a withdrawal (withdrawalId set) needs withdrawalResponses');
    const indexes =
      family === 'bch'
        ? offchainWithdrawalInputs(pending.chain, pending.withdrawalResponses).map((w) => w.derivationIndex)
        : offchainDerivationIndexes(pending.chain, pending.withdrawalResponses);
    refs = indexes.map((i) => mnemonicRef(first, i));
  } else if (family === 'evm' || family === 'tron') {
    // wallets[0] in Tatum's order: hashes first, then signatures.
    const first = fromHashes[0] ?? fromSignatures[0]?.entry;
    const sigIndex = fromHashes[0] === undefined ? fromSignatures[0]?.index : undefined;
    if (first === undefined) return fail('no wallet to sign with');
    if (first.kind === 'mnemonic' && pending.index !== undefined)
      refs = [txChainRef(first, pending.chain, pending.index, options)];
    else if (first.kind === 'mnemonic' && sigIndex !== undefined) refs = [mnemonicRef(first, sigIndex)];
    else if (first.kind === 'mnemonic')
      return fail(
        `wallet ${first.signatureId} is a mnemonic wallet but the transaction has no index to derive the key at`,
      );
    else refs = [privateKeyRef(first)];
  } else if (family === 'xlm' || family === 'algo' || family === 'xrp') {
    // §3.1 rule 6: wallets[0]'s secret (one key per wallet; XRP s… seeds are secp256k1 keys).
    const first = fromHashes[0] ?? fromSignatures[0]?.entry;
    if (first === undefined) return fail('no wallet to sign with');
    refs = [
      family === 'xrp' && first.kind === 'privateKey' && first.publicData.keyType !== 'ed25519'
        ? privateKeyRef(first)
        : ed25519Ref(first),
    ];
    if (first.chain !== pending.chain) {
      // The same key may exist on two chains, but a wallet stored for another chain was never meant to sign here.
      throw new HardkmsError(
        KEY_NOT_RESOLVED,
        `wallet ${first.signatureId} is a ${first.chain} wallet; it does not sign ${pending.chain} transactions`,
        {
          hint: 'The pending transaction names a wallet of another chain.',
        },
      );
    }
  } else if (family === 'egld') {
    // Single-signer (§3.1 rule 3): wallets[0], a mnemonic wallet at the top-level index (or its signatures[] index).
    const first = fromHashes[0] ?? fromSignatures[0]?.entry;
    const sigIndex = fromHashes[0] === undefined ? fromSignatures[0]?.index : undefined;
    if (first === undefined) return fail('no wallet to sign with');
    const index = pending.index ?? sigIndex;
    if (first.kind === 'mnemonic' && index === undefined)
      return fail(
        `wallet ${first.signatureId} is a mnemonic wallet but the transaction has no index to derive the key at`,
      );
    refs = solRefs(pending, [], [{ entry: first, index }], options);
  } else if (family === 'sol') {
    refs = solRefs(pending, fromHashes, fromSignatures, options);
    if (refs.length === 0) return fail('no wallet to sign with');
  } else if (family === 'ada') {
    // §3.1 rule 8: every resolved wallet's key; a withdrawal only signatures[] (mnemonic@index).
    refs = adaRefs(pending.chain, fromHashes, fromSignatures, pending.withdrawalId !== undefined);
    if (refs.length === 0) {
      return fail('ADA wallets are mnemonics: name each one with its derivation index in signatures[{id, index}]');
    }
  } else {
    refs = [];
    for (const e of fromHashes) if (e.kind === 'privateKey') refs.push(privateKeyRef(e));
    for (const s of fromSignatures)
      refs.push(
        s.entry.kind === 'mnemonic' && s.index !== undefined ? mnemonicRef(s.entry, s.index) : privateKeyRef(s.entry),
      );
    if (refs.length === 0) {
      const mnemonics = fromHashes.filter((e) => e.kind === 'mnemonic').map((e) => e.signatureId);
      return fail(
        mnemonics.length > 0
          ? `mnemonic wallets listed in hashes (${mnemonics.join(', ')}) need signatures[{id, index}] to name the derivation index`
          : 'no key to sign with',
      );
    }
  }
  return { refs, signatureIds: [...new Set(refs.map((r) => r.entry.signatureId))], notes };
}

/**
 * §3.1 rule 7: every resolved wallet signs a SOL transaction (sender, fee payer, …), each
 * key once. Beyond Tatum (which cannot derive SOL mnemonics at all): a mnemonic wallet
 * signs at its signatures[] index, else the top-level index, else index 0, whose key is the
 * privateKey of Tatum's generated SOL wallets. SLIP-0010 has no public derivation, so the
 * public key of a mnemonic child comes from `derivePublicKey` (the vault, audited).
 */
function solRefs(
  pending: PendingTransaction,
  fromHashes: readonly WalletEntry[],
  fromSignatures: readonly { entry: WalletEntry; index: number | undefined }[],
  options: ResolveOptions,
): KeyRef[] {
  const refs: KeyRef[] = [];
  const add = (entry: WalletEntry, index: number | undefined): void => {
    if (entry.chain !== pending.chain) {
      throw new HardkmsError(
        KEY_NOT_RESOLVED,
        `wallet ${entry.signatureId} is a ${entry.chain} wallet; it does not sign ${pending.chain} transactions`,
        {
          hint: 'The pending transaction names a wallet of another chain.',
        },
      );
    }
    let ref: KeyRef;
    if (entry.kind === 'mnemonic') {
      if (options.derivePublicKey === undefined) {
        throw new HardkmsError(
          KEY_NOT_RESOLVED,
          `mnemonic wallet ${entry.signatureId} needs its key derived, and no deriver was given`,
          {
            hint: 'This is a bug in the caller; report it.',
          },
        );
      }
      const i = index ?? 0;
      ref = { entry, index: i, publicKey: options.derivePublicKey(entry, pending.chain, i) };
    } else ref = ed25519Ref(entry);
    if (!refs.some((r) => Buffer.from(r.publicKey).equals(Buffer.from(ref.publicKey)))) refs.push(ref);
  };
  for (const e of fromHashes) add(e, e.kind === 'mnemonic' ? pending.index : undefined);
  for (const s of fromSignatures) add(s.entry, s.index);
  return refs;
}

/**
 * Rule 3: the top-level index derives on the pending transaction's chain. Same path as the
 * entry's own chain (ETH and BSC on mainnet, every EVM testnet): the stored xpub gives the
 * key. Another path: only the mnemonic can, through options.derivePublicKey.
 */
function txChainRef(entry: WalletEntry, txChain: string, index: number, options: ResolveOptions): KeyRef {
  if (txChain === entry.chain || !isSupportedChain(txChain) || !isSupportedChain(entry.chain))
    return mnemonicRef(entry, index);
  const samePath =
    getChainAdapter(txChain).derivationPath(entry.testnet) ===
    getChainAdapter(entry.chain).derivationPath(entry.testnet);
  if (samePath) return { ...mnemonicRef(entry, index), deriveChain: txChain };
  if (options.derivePublicKey === undefined) {
    throw new HardkmsError(
      KEY_NOT_RESOLVED,
      `wallet ${entry.signatureId} (${entry.chain}) must be derived on ${txChain}'s path, and no deriver was given`,
      {
        hint: 'This is a bug in the caller; report it.',
      },
    );
  }
  return { entry, index, deriveChain: txChain, publicKey: options.derivePublicKey(entry, txChain, index) };
}

/** Ids for a message: at most 5, each cut to 64 printable characters (they come from the API). */
function shortList(ids: readonly string[]): string {
  const unique = [...new Set(ids)];
  const shown = unique.slice(0, 5).map((id) => shownText(id));
  return unique.length > 5 ? `${shown.join(', ')} and ${unique.length - 5} more` : shown.join(', ');
}

/** An ed25519 key stored in the token (XLM, ALGO); a secp256k1 or mnemonic wallet is refused by name. */
function ed25519Ref(entry: WalletEntry): KeyRef {
  const hex = entry.publicData.publicKey;
  if (
    entry.kind !== 'privateKey' ||
    entry.publicData.keyType !== 'ed25519' ||
    hex === undefined ||
    !/^[0-9a-fA-F]{64}$/.test(hex)
  ) {
    throw new HardkmsError(
      KEY_NOT_RESOLVED,
      `wallet ${entry.signatureId} (${entry.chain}, ${entry.kind}) is not an ed25519 key wallet; it cannot sign this transaction`,
      {
        hint: 'The pending transaction names a wallet of another chain or kind.',
      },
    );
  }
  return { entry, publicKey: Uint8Array.from(Buffer.from(hex, 'hex')) };
}

function privateKeyRef(entry: WalletEntry): KeyRef {
  if (entry.kind !== 'privateKey') {
    throw new HardkmsError(
      KEY_NOT_RESOLVED,
      `wallet ${entry.signatureId} holds a ${entry.kind}, which hardkms does not sign with for this chain`,
    );
  }
  const hex = entry.publicData.publicKey;
  if (hex === undefined || !/^0[23][0-9a-fA-F]{64}$/.test(hex)) {
    throw new HardkmsError(KEY_NOT_RESOLVED, `wallet ${entry.signatureId} has no stored public key`, {
      hint: 'Re-import the key with hardkms storemanagedprivatekey.',
    });
  }
  return { entry, publicKey: Uint8Array.from(Buffer.from(hex, 'hex')) };
}

function mnemonicRef(entry: WalletEntry, index: number): KeyRef {
  if (entry.kind !== 'mnemonic') return privateKeyRef(entry);
  const xpub = entry.publicData.xpub;
  if (xpub === undefined)
    throw new HardkmsError(KEY_NOT_RESOLVED, `mnemonic wallet ${entry.signatureId} has no stored xpub`);
  return { entry, index, publicKey: childPublicKeyFromXpub(xpub, index) };
}

/**
 * Public key of child `index` under an xpub of any serialization version (xpub, tpub,
 * Ltub, ttub, …) or Tatum's 130-hex TRON form. Versions do not matter here: the key and
 * chain code do, and the stored xpub was checked when the wallet was stored.
 */
export function childPublicKeyFromXpub(xpub: string, index: number): Uint8Array {
  const t = xpub.trim();
  if (/^[0-9a-fA-F]{130}$/.test(t)) return childPublicKey(parseHexXpub(t, 'the wallet'), index);
  let payload: Uint8Array;
  try {
    payload = base58CheckDecode(t);
  } catch (e) {
    throw new HardkmsError(KEY_NOT_RESOLVED, `the stored xpub ${(e as Error).message}`);
  }
  if (payload.length !== 78 || (payload[45] !== 0x02 && payload[45] !== 0x03)) {
    throw new HardkmsError(KEY_NOT_RESOLVED, 'the stored xpub is not an extended public key');
  }
  const node = bip32().fromPublicKey(
    Uint8Array.from(payload.subarray(45, 78)),
    Uint8Array.from(payload.subarray(13, 45)),
  );
  return childPublicKey(node, index);
}

/** Output scripts (hex) a set of keys can spend: P2PKH, P2WPKH, P2SH-P2WPKH; change detection for the policy. */
export function ownScripts(publicKeys: readonly Uint8Array[]): Set<string> {
  const out = new Set<string>();
  const hex = (script: Uint8Array) => Buffer.from(script).toString('hex');
  for (const pub of publicKeys) {
    const wpkh = p2wpkhScript(bcrypto.hash160(pub));
    out.add(hex(p2pkhScript(bcrypto.hash160(pub))));
    out.add(hex(wpkh));
    out.add(hex(p2shScript(wpkh)));
    out.add(hex(p2pkhScript(bcrypto.hash160(uncompressedPublicKey(pub)))));
  }
  return out;
}
