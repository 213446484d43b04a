import { pbkdf2Sync } from 'node:crypto';
import { sha256 } from '@noble/hashes/sha256';
import { englishWords } from './bip39-english.js';
import { InputError } from '../errors.js';

/**
 * BIP39 (English) on byte buffers. A JS string cannot be wiped and the garbage collector
 * may copy it around the heap, so mnemonics travel as UTF-8 Buffers that the caller
 * zeroes; words are looked up by comparing bytes, never by building per-word strings.
 */

const SPACE = 0x20;
const VALID_WORD_COUNTS = [12, 15, 18, 21, 24];
const HINT = 'Give the 24 (or 12/15/18/21) BIP39 English words in lowercase, separated by single spaces.';

let wordBytes: readonly Buffer[] | undefined;

/** The list as bytes, made on first use (most commands never read a mnemonic). */
function englishWordBytes(): readonly Buffer[] {
  if (wordBytes === undefined) {
    const list = englishWords().map((w) => Buffer.from(w, 'utf8'));
    if (list.length !== 2048) throw new Error('BIP39 English word list is not 2048 words');
    wordBytes = list;
  }
  return wordBytes;
}

/** Index of `word` in the (sorted) English list, or -1. */
function wordIndex(word: Uint8Array): number {
  const list = englishWordBytes();
  let lo = 0;
  let hi = list.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const c = Buffer.compare(list[mid]!, word);
    if (c === 0) return mid;
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/**
 * Mnemonic from entropy (Tatum uses 32 bytes → 24 words; 16…32 bytes in steps of 4 are
 * accepted for test vectors). Returns the words as UTF-8 bytes joined by single spaces;
 * the caller zeroes the result.
 */
export function generateMnemonic(entropy: Uint8Array): Buffer {
  if (entropy.length < 16 || entropy.length > 32 || entropy.length % 4 !== 0) {
    throw new InputError(
      'BIP39 entropy must be 16, 20, 24, 28 or 32 bytes.',
      'Use 32 random bytes (24 words), as Tatum does.',
    );
  }
  const checksumBits = entropy.length / 4;
  const hash = sha256(entropy);
  const bits = new Uint8Array(entropy.length + 1);
  bits.set(entropy);
  bits[entropy.length] = hash[0]!;
  const wordCount = ((entropy.length * 8 + checksumBits) / 11) | 0;
  const indexes = new Array<number>(wordCount).fill(0);
  try {
    for (let w = 0; w < wordCount; w++) {
      let idx = 0;
      for (let b = 0; b < 11; b++) {
        const bit = w * 11 + b;
        idx = (idx << 1) | ((bits[bit >> 3]! >> (7 - (bit & 7))) & 1);
      }
      indexes[w] = idx;
    }
    const list = englishWordBytes();
    const length = indexes.reduce((n, i) => n + list[i]!.length, wordCount - 1);
    const out = Buffer.alloc(length);
    let pos = 0;
    indexes.forEach((i, w) => {
      if (w > 0) out[pos++] = SPACE;
      pos += list[i]!.copy(out, pos);
    });
    return out;
  } finally {
    bits.fill(0);
    hash.fill(0);
    indexes.fill(0);
  }
}

/**
 * Checks a BIP39 English mnemonic and throws an InputError naming the rule that failed:
 * separators, word count, unknown word (by position — the word itself is secret and
 * stays out of the message), checksum. Accepts the words as a string or UTF-8 bytes.
 */
export function validateMnemonic(input: string | Uint8Array): void {
  if (typeof input !== 'string') return checkMnemonicBytes(input);
  const bytes = Buffer.from(input, 'utf8');
  try {
    checkMnemonicBytes(bytes);
  } finally {
    bytes.fill(0);
  }
}

function checkMnemonicBytes(bytes: Uint8Array): void {
  mnemonicEntropy(bytes).fill(0);
}

/**
 * The BIP39 entropy of a mnemonic given as UTF-8 bytes, checked as validateMnemonic checks it
 * (same errors); a new buffer the caller zeroes.
 */
export function mnemonicEntropy(bytes: Uint8Array): Uint8Array {
  const words: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i <= bytes.length; i++) {
    if (i === bytes.length || bytes[i] === SPACE) {
      words.push(bytes.subarray(start, i));
      start = i + 1;
    } else if (bytes[i] === 0x09 || bytes[i] === 0x0a || bytes[i] === 0x0d) {
      throw new InputError('The mnemonic contains a tab or line break.', HINT);
    }
  }
  if (bytes.length === 0) throw new InputError('The mnemonic is empty.', HINT);
  if (words.some((w) => w.length === 0)) {
    throw new InputError('The mnemonic has leading, trailing or repeated spaces.', HINT);
  }
  if (!VALID_WORD_COUNTS.includes(words.length)) {
    throw new InputError(`The mnemonic has ${words.length} words; BIP39 needs 12, 15, 18, 21 or 24.`, HINT);
  }
  const indexes = words.map(wordIndex);
  try {
    const bad = indexes.indexOf(-1);
    if (bad >= 0) {
      throw new InputError(`Word ${bad + 1} of the mnemonic is not in the BIP39 English word list.`, HINT);
    }
    const totalBits = words.length * 11;
    const checksumBits = totalBits / 33;
    const entropy = new Uint8Array(((totalBits - checksumBits) / 8) | 0);
    let expected = 0;
    let actual = 0;
    try {
      for (let bit = 0; bit < totalBits; bit++) {
        const v = (indexes[(bit / 11) | 0]! >> (10 - (bit % 11))) & 1;
        if (bit < entropy.length * 8) entropy[bit >> 3]! |= v << (7 - (bit & 7));
        else actual = (actual << 1) | v;
      }
      const hash = sha256(entropy);
      expected = hash[0]! >> (8 - checksumBits);
      hash.fill(0);
      if (expected !== actual) {
        throw new InputError('The mnemonic checksum does not match: a word is wrong or the order is.', HINT);
      }
      return entropy;
    } catch (e) {
      entropy.fill(0);
      throw e;
    } finally {
      expected = actual = 0;
    }
  } finally {
    indexes.fill(0);
  }
}

const isBlank = (b: number): boolean => b === SPACE || b === 0x09 || b === 0x0a || b === 0x0d;

/** The words in lowercase with single spaces (a new buffer the caller zeroes). */
function canonicalMnemonic(typed: Uint8Array): Buffer {
  let n = 0;
  let pendingSpace = false;
  const out = Buffer.alloc(typed.length);
  for (const b of typed) {
    if (isBlank(b)) {
      pendingSpace = n > 0;
      continue;
    }
    if (pendingSpace) out[n++] = SPACE;
    pendingSpace = false;
    out[n++] = b >= 0x41 && b <= 0x5a ? b + 0x20 : b;
  }
  const result = Buffer.alloc(n);
  out.copy(result, 0, 0, n);
  out.fill(0);
  return result;
}

/**
 * A mnemonic as the user typed it (or as a Tatum store holds it). Tatum never normalised:
 * bip39's mnemonicToSeed hashes the string as given, so "Abandon  abandon …" is a different
 * wallet from "abandon abandon …". The canonical form must be valid BIP39 (a typo is still
 * caught); the typed form is what gets stored and derived from. Returns what differs, for a
 * warning (never a word of the mnemonic).
 */
export function validateTypedMnemonic(typed: Uint8Array): string[] {
  const canonical = canonicalMnemonic(typed);
  try {
    validateMnemonic(canonical);
    if (Buffer.compare(canonical, typed) === 0) return [];
    const notes: string[] = [];
    if (typed.some((b) => b >= 0x41 && b <= 0x5a)) notes.push('upper-case letters');
    if (typed.some((b) => b === 0x09 || b === 0x0a || b === 0x0d)) notes.push('tabs or line breaks');
    let spaces = isBlank(typed[0] ?? 0) || isBlank(typed[typed.length - 1] ?? 0);
    for (let i = 1; i < typed.length && !spaces; i++) spaces = isBlank(typed[i]!) && isBlank(typed[i - 1]!);
    if (spaces) notes.push('leading, trailing or repeated spaces');
    return [
      `the mnemonic has ${notes.join(', ')}: Tatum KMS derives from the text exactly as typed, and so does hardkms, so this wallet's keys and addresses differ from the same words in lowercase with single spaces (other BIP39 wallets)`,
    ];
  } finally {
    canonical.fill(0);
  }
}

/** True if every byte is 7-bit ASCII: NFKD leaves such text unchanged. */
function isAscii(bytes: Uint8Array): boolean {
  for (const b of bytes) if (b > 0x7f) return false;
  return true;
}

/**
 * BIP39 seed: PBKDF2-HMAC-SHA512(NFKD(mnemonic), "mnemonic" ‖ NFKD(passphrase), 2048, 64).
 * pbkdf2Sync takes the password as a Buffer, so the mnemonic never has to become a JS
 * string. For ASCII input (every English mnemonic) NFKD is the identity; only non-ASCII
 * input is normalized through a temporary string. The bytes are used exactly as given,
 * without collapsing whitespace, because that is what Tatum (bip39 mnemonicToSeedSync)
 * did with the mnemonics it stored. Tatum uses the empty passphrase. The caller zeroes
 * the returned seed.
 */
export function mnemonicToSeed(mnemonic: Uint8Array, passphrase = ''): Buffer {
  const normalized = isAscii(mnemonic)
    ? mnemonic
    : Buffer.from(
        Buffer.from(mnemonic.buffer, mnemonic.byteOffset, mnemonic.byteLength).toString('utf8').normalize('NFKD'),
        'utf8',
      );
  try {
    return pbkdf2Sync(normalized, Buffer.from(`mnemonic${passphrase.normalize('NFKD')}`, 'utf8'), 2048, 64, 'sha512');
  } finally {
    if (normalized !== mnemonic) normalized.fill(0);
  }
}
