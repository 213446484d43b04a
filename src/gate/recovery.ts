import { createHash } from 'node:crypto';
import { wordlists } from 'bip39';
import { HardkmsError } from '../errors.js';

/**
 * Recovery shares as words from the BIP39 English list (2048 words, 11 bits each).
 *
 *   payload = version (1 byte, = 1) ‖ length L (1 byte) ‖ share (L bytes)
 *             ‖ checksum = SHA-256("hardkms recovery share" ‖ version ‖ L ‖ share)[0..4]
 *   words   = payload read as big-endian 11-bit groups, zero bits padded at the end
 *
 * A 32-bit checksum catches any typo or swapped words (miss rate 2^-32). These are NOT
 * BIP39 mnemonics (no wallet can import them): only the word list is shared, because
 * its words are distinct in their first four letters and operators know it.
 */
const WORDS: readonly string[] = wordlists.english!;
const INDEX = new Map(WORDS.map((w, i) => [w, i]));
const VERSION = 1;
const CHECKSUM_BYTES = 4;
const HEADER_BYTES = 2;

export function encodeRecoveryWords(share: Uint8Array): string[] {
  if (share.length < 2 || share.length > 255) {
    throw new HardkmsError('GATE_SHAMIR_INVALID', `A recovery share must be 2 to 255 bytes (got ${share.length}).`);
  }
  const body = Buffer.concat([Buffer.from([VERSION, share.length]), share]);
  const payload = Buffer.concat([body, checksum(body)]);
  try {
    const words: string[] = [];
    const nWords = wordCount(payload.length);
    for (let w = 0; w < nWords; w++) words.push(WORDS[readBits(payload, w * 11, 11)]!);
    return words;
  } finally {
    body.fill(0);
    payload.fill(0);
  }
}

/** Words (array, or one string split on whitespace) back to the share; the caller wipes it. */
export function decodeRecoveryWords(input: string | readonly string[]): Buffer {
  const words = (typeof input === 'string' ? input.split(/\s+/) : input.flatMap((w) => w.split(/\s+/)))
    .map((w) => w.trim().toLowerCase())
    .filter((w) => w !== '');
  if (words.length === 0) {
    throw new HardkmsError('RECOVERY_FORMAT', 'No recovery words were given.', { hint: 'Type the words of one recovery share, separated by spaces.' });
  }
  const indices = words.map((w, i) => {
    const idx = INDEX.get(w);
    if (idx === undefined) throw unknownWord(w, i);
    return idx;
  });
  const payload = wordsToBytes(indices);
  try {
    if (payload[0] !== VERSION) {
      throw new HardkmsError('RECOVERY_FORMAT', 'These words are not a hardkms recovery share (unknown format version), or the first words are mistyped.', {
        hint: 'Check the first two words against the printed sheet.',
      });
    }
    const len = payload[1]!;
    const total = HEADER_BYTES + len + CHECKSUM_BYTES;
    const expected = wordCount(total);
    if (words.length !== expected) {
      throw new HardkmsError('RECOVERY_FORMAT', `A recovery share of this size has ${expected} words; ${words.length} were given.`, {
        hint: words.length < expected ? 'A word is missing: check the sheet line by line.' : 'There are extra words: give one share at a time.',
      });
    }
    if (!checksumOk(payload, len) || !paddingZero(payload, total, words.length)) {
      const suspect = findSingleTypo(indices, len);
      throw new HardkmsError(
        'RECOVERY_CHECKSUM',
        suspect === undefined
          ? 'The recovery words do not pass their checksum: a word is mistyped or two words are swapped.'
          : `The recovery words do not pass their checksum: word ${suspect + 1} ("${words[suspect]}") is probably mistyped.`,
        { hint: 'Compare each word with the printed sheet, in order.' },
      );
    }
    return Buffer.from(payload.subarray(HEADER_BYTES, HEADER_BYTES + len));
  } finally {
    payload.fill(0);
  }
}

function unknownWord(word: string, position: number): HardkmsError {
  const near = word.length >= 3 ? WORDS.filter((w) => w.startsWith(word.slice(0, Math.min(4, word.length)))).slice(0, 4) : [];
  return new HardkmsError('RECOVERY_WORD_UNKNOWN', `Word ${position + 1} ("${word}") is not in the BIP39 English word list.`, {
    hint: near.length > 0 ? `Did you mean ${near.map((w) => `"${w}"`).join(' or ')}?` : 'Compare it with the printed sheet.',
  });
}

/** If exactly one position can be changed to make the checksum pass, that is the typo. */
function findSingleTypo(indices: readonly number[], len: number): number | undefined {
  const total = HEADER_BYTES + len + CHECKSUM_BYTES;
  const found = new Set<number>();
  const trial = [...indices];
  for (let pos = 0; pos < indices.length; pos++) {
    for (let alt = 0; alt < WORDS.length; alt++) {
      if (alt === indices[pos]) continue;
      trial[pos] = alt;
      const p = wordsToBytes(trial);
      const ok = p[0] === VERSION && p[1] === len && checksumOk(p, len) && paddingZero(p, total, trial.length);
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
