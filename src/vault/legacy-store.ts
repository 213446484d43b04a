import { HardkmsError, shownText } from '../errors.js';
import { expecting, isPlainObject, jsonObject, parseOrThrow, v } from '../validate.js';
import { decryptLegacy, wrongLegacyPassword } from './legacy-cipher.js';

/**
 * The plaintext of a Tatum wallet.dat (spec §5.2): one JSON object, signature id → entry.
 * Entries are validated once, here, and handed on typed, with secrets as Buffers that
 * the caller wipes (wipeLegacyEntries).
 *
 * Limit: JSON.parse can only produce JS strings, so while parsing (and in the tests'
 * serializeLegacyStore) the plaintext and each secret exist briefly as immutable strings
 * that cannot be zeroed; we keep no reference to them and copy the secrets into Buffers
 * straight away. A streaming byte-level JSON parser would avoid this; for a one-off
 * import of a file that already sits on disk encrypted under a weak KDF, it is not worth
 * its own attack surface.
 */

type LegacyKind = 'mnemonic' | 'privateKey' | 'secret';

export interface LegacyEntry {
  /** The JSON key; Tatum's API refers to the wallet by it, so it is kept verbatim. */
  signatureId: string;
  /** Tatum currency code as written (may be a chain hardkms does not support, e.g. SOL). */
  chain: string;
  testnet: boolean;
  /**
   * The entry had no `testnet` field. Tatum's daemon compares it strictly and so never
   * polled such a wallet; its CLI derived as mainnet. The importer infers the network.
   */
  testnetMissing?: true;
  /** Tatum's classification: mnemonic if present, else privateKey, else secret. */
  kind: LegacyKind;
  mnemonic?: Buffer;
  privateKey?: Buffer;
  /** XRP/XLM/ALGO wallets store `secret` (some stores use it in place of privateKey). */
  secret?: Buffer;
  xpub?: string;
  address?: string;
}

const ENTRY_HINT =
  'Fix or remove that entry in a decrypted copy of the Tatum store, or export it again from Tatum KMS.';

export function entryError(id: string, problem: string): HardkmsError {
  return new HardkmsError('LEGACY_ENTRY_INVALID', `Wallet '${shownText(id)}' in the Tatum wallet file ${problem}.`, {
    hint: ENTRY_HINT,
  });
}

/** Copies a string into a Buffer outside Node's shared pool, so wiping it clears the only copy we own. */
export function secretBuffer(s: string): Buffer {
  const b = Buffer.alloc(Buffer.byteLength(s, 'utf8'));
  b.write(s, 'utf8');
  return b;
}

/** Tatum tests secrets by truthiness: a missing, null or empty value counts as absent. */
const optionalString = v.pipe(
  v.nullish(v.string(expecting('a string'))),
  v.transform((s) => (s === '' || s === null ? undefined : s)),
);

/** One entry as Tatum KMS writes it. A reason names the field, never its value (it may be the secret). */
const legacyEntry = jsonObject(
  {
    chain: v.pipe(
      v.string(expecting('a chain code such as "BTC"')),
      v.minLength(1, expecting('a chain code such as "BTC"')),
    ),
    testnet: v.optional(v.boolean(expecting('true or false'))),
    mnemonic: optionalString,
    privateKey: optionalString,
    secret: optionalString,
    xpub: optionalString,
    address: optionalString,
  },
  'a JSON object',
);

function parseEntry(id: string, value: unknown): LegacyEntry {
  if (id.length === 0) throw entryError(id, 'has an empty signature id');
  const e = parseOrThrow(legacyEntry, value, (what) => entryError(id, `is invalid: ${what}`));
  const { mnemonic, privateKey, secret, xpub, address } = e;
  const kind: LegacyKind | undefined =
    mnemonic !== undefined
      ? 'mnemonic'
      : privateKey !== undefined
        ? 'privateKey'
        : secret !== undefined
          ? 'secret'
          : undefined;
  if (kind === undefined) throw entryError(id, 'has no mnemonic, privateKey or secret');

  const entry: LegacyEntry = { signatureId: id, chain: e.chain, testnet: e.testnet === true, kind };
  if (e.testnet === undefined) entry.testnetMissing = true;
  if (mnemonic !== undefined) entry.mnemonic = secretBuffer(mnemonic);
  if (privateKey !== undefined) entry.privateKey = secretBuffer(privateKey);
  if (secret !== undefined) entry.secret = secretBuffer(secret);
  if (xpub !== undefined) entry.xpub = xpub;
  if (address !== undefined) entry.address = address;
  return entry;
}

/** A wallet of the Tatum file that was not imported, and why; never holds a secret. */
export interface SkippedWallet {
  signatureId: string;
  chain?: string;
  code: string;
  reason: string;
  fix: string;
}

export function skippedFrom(signatureId: string, chain: string | undefined, e: unknown): SkippedWallet {
  if (e instanceof HardkmsError) {
    return {
      signatureId: shownText(signatureId),
      ...(chain ? { chain: shownText(chain) } : {}),
      code: e.code,
      reason: e.message,
      fix: e.hint ?? ENTRY_HINT,
    };
  }
  throw e;
}

/**
 * Parses and validates the decrypted store. Empty plaintext means no wallets. Plaintext
 * that is not JSON means the password was wrong (the cipher has no MAC). Entries come
 * back in file order. An invalid entry is handed to `onInvalid` and left out when given
 * (import-legacy imports what it can); without it, the first one throws and the entries
 * parsed so far are wiped.
 */
export function parseLegacyStore(plain: Buffer, onInvalid?: (skipped: SkippedWallet) => void): LegacyEntry[] {
  if (plain.every((b) => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d)) return [];
  let root: unknown;
  try {
    root = JSON.parse(plain.toString('utf8'));
  } catch {
    throw wrongLegacyPassword();
  }
  if (!isPlainObject(root)) {
    throw new HardkmsError('LEGACY_FORMAT', 'The Tatum wallet file does not contain a JSON object of wallets.', {
      hint: 'The file decrypted, but is not a Tatum KMS store; check that you gave the right file.',
    });
  }
  const entries: LegacyEntry[] = [];
  try {
    for (const [id, value] of Object.entries(root)) {
      try {
        entries.push(parseEntry(id, value));
      } catch (e) {
        if (!onInvalid) throw e;
        const chain = isPlainObject(value) && typeof value.chain === 'string' ? value.chain : undefined;
        onInvalid(skippedFrom(id, chain, e));
      }
    }
    return entries;
  } catch (e) {
    wipeLegacyEntries(entries);
    throw e;
  }
}

/** decryptLegacy + parseLegacyStore, wiping the plaintext. */
export function openLegacyStore(
  fileText: string,
  password: Buffer,
  onInvalid?: (skipped: SkippedWallet) => void,
): LegacyEntry[] {
  const plain = decryptLegacy(fileText, password);
  try {
    return parseLegacyStore(plain, onInvalid);
  } finally {
    plain.fill(0);
  }
}

export function wipeLegacyEntries(entries: readonly LegacyEntry[]): void {
  for (const e of entries) {
    e.mnemonic?.fill(0);
    e.privateKey?.fill(0);
    e.secret?.fill(0);
  }
}
