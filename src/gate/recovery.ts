import { createHash } from 'node:crypto';
import { englishWords } from '../chains/bip39-english.js';
import { HardkmsError } from '../errors.js';

/**
 * Recovery shares as words from the BIP39 English list (2048 words, 11 bits each).
 *
 *   payload = format (1 byte) ‖ length L (1 byte) ‖ body (L bytes)
 *             ‖ checksum = SHA-256("hardkms recovery share" ‖ format ‖ L ‖ body)[0..4]
 *   format 1: body = the raw Shamir share
 *   format 2: body = the share bound to its operator's passphrase (recovery-mask.ts)
 *   words   = payload read as big-endian 11-bit groups, zero bits padded at the end
 *
 * A 32-bit checksum catches any typo or swapped words (miss rate 2^-32). These are NOT
 * BIP39 mnemonics (no wallet can import them): only the word list is shared, because
 * its words are distinct in their first four letters and operators know it.
 */
/** 1: a raw share; 2: a share masked with its operator's passphrase. */
export type RecoveryFormat = 1 | 2;
const FORMATS: readonly number[] = [1, 2];
const CHECKSUM_BYTES = 4;
const HEADER_BYTES = 2;

export interface RecoverySheet {
  format: RecoveryFormat;
  body: Buffer;
}

/**
 * The share's words as bytes, never as a JS string (a string cannot be wiped): `perLine`
 * words a line, each numbered ("  1. abandon   2. ability ..."), or all on one line
 * separated by spaces (perLine 0). The caller wipes the result.
 */
export function recoveryWordsBuffer(share: Uint8Array, perLine = 0, format: RecoveryFormat = 1): Buffer {
  const indices = shareIndices(share, format);
  const parts: Buffer[] = [];
  const words = englishWords();
  indices.forEach((idx, w) => {
    const word = words[idx]!;
    if (perLine === 0) {
      parts.push(Buffer.from(w === 0 ? word : ` ${word}`, 'ascii'));
      return;
    }
    const lead = w % perLine === 0 ? (w === 0 ? '  ' : '\n  ') : ' ';
    const last = w === indices.length - 1 || (w + 1) % perLine === 0;
    parts.push(Buffer.from(`${lead}${String(w + 1).padStart(2)}. ${last ? word : word.padEnd(9)}`, 'ascii'));
  });
  indices.fill(0);
  const out = Buffer.concat(parts);
  for (const p of parts) p.fill(0);
  return out;
}

/** The word-list indices of a share's sheet: format, length, share and checksum, 11 bits a word. */
export function shareIndices(share: Uint8Array, format: RecoveryFormat): number[] {
  if (share.length < 2 || share.length > 255) {
    throw new HardkmsError('GATE_SHAMIR_INVALID', `A recovery share must be 2 to 255 bytes (got ${share.length}).`);
  }
  const body = Buffer.concat([Buffer.from([format, share.length]), share]);
  const payload = Buffer.concat([body, checksum(body)]);
  try {
    const indices: number[] = [];
    const nWords = wordCount(payload.length);
    for (let w = 0; w < nWords; w++) indices.push(readBits(payload, w * 11, 11));
    return indices;
  } finally {
    body.fill(0);
    payload.fill(0);
  }
}

/**
 * Words back to the sheet (format and body); the caller wipes the body. Typed lines come in as bytes and are read
 * as bytes (sheet numbering such as "1." or "12)" skipped), so the words never become JS
 * strings. Errors name a word's position, never the word: they may reach a log.
 */
export function decodeRecoverySheet(input: string | readonly string[] | Uint8Array): RecoverySheet {
  const indices =
    input instanceof Uint8Array
      ? wordIndices(input, false)
      : wordIndices(Buffer.from(typeof input === 'string' ? input : input.join(' '), 'utf8'), true);
  try {
    return shareFromIndices(indices);
  } finally {
    indices.fill(0);
  }
}

function shareFromIndices(indices: number[]): RecoverySheet {
  if (indices.length === 0) {
    throw new HardkmsError('RECOVERY_FORMAT', 'No recovery words were given.', {
      hint: 'Type the words of one recovery share, separated by spaces.',
    });
  }
  const payload = wordsToBytes(indices);
  try {
    const format = payload[0]!;
    if (!FORMATS.includes(format)) {
      throw new HardkmsError(
        'RECOVERY_FORMAT',
        'These words are not a hardkms recovery share (unknown format version), or the first words are mistyped.',
        {
          hint: 'Check the first two words against the sheet.',
        },
      );
    }
    const len = payload[1]!;
    const total = HEADER_BYTES + len + CHECKSUM_BYTES;
    const expected = wordCount(total);
    if (indices.length !== expected) {
      throw new HardkmsError(
        'RECOVERY_FORMAT',
        `A recovery share of this size has ${expected} words; ${indices.length} were given.`,
        {
          hint:
            indices.length < expected
              ? 'A word is missing: check the sheet line by line.'
              : 'There are extra words: give one share at a time.',
        },
      );
    }
    if (!checksumOk(payload, len) || !paddingZero(payload, total, indices.length)) {
      const suspect = findSingleTypo(indices, format, len);
      throw new HardkmsError(
        'RECOVERY_CHECKSUM',
        suspect === undefined
          ? 'The recovery words do not pass their checksum: a word is mistyped or two words are swapped.'
          : `The recovery words do not pass their checksum: word ${suspect + 1} is probably mistyped.`,
        { hint: 'Compare each word with the sheet, in order.' },
      );
    }
    return { format: format as RecoveryFormat, body: Buffer.from(payload.subarray(HEADER_BYTES, HEADER_BYTES + len)) };
  } finally {
    payload.fill(0);
  }
}

/** Indices of the whitespace-separated words of `text` (any case); `wipe`: `text` is our copy, wiped after. */
function wordIndices(text: Uint8Array, wipe: boolean): number[] {
  const out: number[] = [];
  try {
    for (let i = 0; i < text.length;) {
      while (i < text.length && isSpace(text[i]!)) i++;
      const start = i;
      while (i < text.length && !isSpace(text[i]!)) i++;
      if (i === start || isNumbering(text, start, i)) continue;
      const idx = lookup(text, start, i);
      if (idx < 0) {
        const n = out.length + 1;
        throw new HardkmsError('RECOVERY_WORD_UNKNOWN', `Word ${n} is not in the BIP39 English word list.`, {
          hint: `Compare word ${n} with the sheet: every word is from the BIP39 English list.`,
        });
      }
      out.push(idx);
    }
    return out;
  } catch (e) {
    out.fill(0);
    throw e;
  } finally {
    if (wipe) text.fill(0);
  }
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

/** "1", "12.", "3)" or "4:" as printed before each word on a sheet. */
function isNumbering(text: Uint8Array, start: number, end: number): boolean {
  let i = start;
  while (i < end && text[i]! >= 0x30 && text[i]! <= 0x39) i++;
  if (i === start) return false;
  return i === end || (i === end - 1 && (text[i] === 0x2e || text[i] === 0x29 || text[i] === 0x3a));
}

/** Binary search of the sorted lower-case list, comparing bytes: no string is made of the typed word. */
function lookup(text: Uint8Array, start: number, end: number): number {
  const words = englishWords();
  let lo = 0;
  let hi = words.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const c = compare(words[mid]!, text, start, end);
    if (c === 0) return mid;
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

function compare(word: string, text: Uint8Array, start: number, end: number): number {
  const n = end - start;
  for (let k = 0; k < Math.min(word.length, n); k++) {
    let b = text[start + k]!;
    if (b >= 0x41 && b <= 0x5a) b += 0x20;
    const d = word.charCodeAt(k) - b;
    if (d !== 0) return d;
  }
  return word.length - n;
}

/** If exactly one position can be changed to make the checksum pass, that is the typo. */
function findSingleTypo(indices: readonly number[], format: number, len: number): number | undefined {
  const total = HEADER_BYTES + len + CHECKSUM_BYTES;
  const found = new Set<number>();
  const trial = [...indices];
  for (let pos = 0; pos < indices.length; pos++) {
    for (let alt = 0; alt < englishWords().length; alt++) {
      if (alt === indices[pos]) continue;
      trial[pos] = alt;
      const p = wordsToBytes(trial);
      const ok = p[0] === format && p[1] === len && checksumOk(p, len) && paddingZero(p, total, trial.length);
      p.fill(0);
      if (ok) found.add(pos);
    }
    trial[pos] = indices[pos]!;
    if (found.size > 1) return undefined;
  }
  return found.size === 1 ? [...found][0] : undefined;
}

function checksum(body: Buffer): Buffer {
  return createHash('sha256').update('hardkms recovery share').update(body).digest().subarray(0, CHECKSUM_BYTES);
}

function checksumOk(payload: Buffer, len: number): boolean {
  const bodyEnd = HEADER_BYTES + len;
  if (payload.length < bodyEnd + CHECKSUM_BYTES) return false;
  return checksum(payload.subarray(0, bodyEnd)).equals(payload.subarray(bodyEnd, bodyEnd + CHECKSUM_BYTES));
}

/** Bits after the payload (to fill the last word) must be zero. */
function paddingZero(payload: Buffer, total: number, nWords: number): boolean {
  const bits = nWords * 11;
  for (let b = total * 8; b < bits; b++) if (readBits(payload, b, 1) !== 0) return false;
  return true;
}

function wordCount(bytes: number): number {
  return Math.ceil((bytes * 8) / 11);
}

function wordsToBytes(indices: readonly number[]): Buffer {
  const out = Buffer.alloc(Math.ceil((indices.length * 11) / 8));
  indices.forEach((v, w) => {
    for (let k = 0; k < 11; k++) {
      if ((v >> (10 - k)) & 1) {
        const bit = w * 11 + k;
        out[bit >> 3] = out[bit >> 3]! | (0x80 >> (bit & 7));
      }
    }
  });
  return out;
}

function readBits(buf: Buffer, start: number, count: number): number {
  let v = 0;
  for (let k = 0; k < count; k++) {
    const bit = start + k;
    const byte = bit >> 3 < buf.length ? buf[bit >> 3]! : 0;
    v = (v << 1) | ((byte >> (7 - (bit & 7))) & 1);
  }
  return v;
}
