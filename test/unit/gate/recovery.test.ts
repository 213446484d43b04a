import { randomBytes } from 'node:crypto';
import { wordlists } from 'bip39';
import { describe, expect, it } from 'vitest';
import { recoveryWordsBuffer } from '../../../src/gate/recovery.js';
import { decodeRecoveryWords, encodeRecoveryWords } from '../../../src/gate/recovery-testing.js';

const WORDS = wordlists.english!;

describe('recovery words', () => {
  it('round-trips shares of several sizes', () => {
    for (const len of [2, 33, 49, 64, 255]) {
      const share = randomBytes(len);
      const words = encodeRecoveryWords(share);
      expect(words).toHaveLength(Math.ceil(((len + 6) * 8) / 11));
      for (const w of words) expect(WORDS).toContain(w);
      expect(decodeRecoveryWords(words).equals(share)).toBe(true);
      expect(decodeRecoveryWords(words.join('  ').toUpperCase()).equals(share)).toBe(true);
    }
  });

  it('names the position of an unknown word, never the word (errors may reach a log)', () => {
    const words = encodeRecoveryWords(randomBytes(49));
    const bad = [...words];
    bad[4] = 'abandonn';
    expect(() => decodeRecoveryWords(bad)).toThrow(/^Word 5 is not in the BIP39 English word list\.$/);
    try {
      decodeRecoveryWords(bad);
      expect.unreachable();
    } catch (e) {
      expect((e as { code: string }).code).toBe('RECOVERY_WORD_UNKNOWN');
      expect(JSON.stringify({ m: (e as Error).message, h: (e as { hint: string }).hint })).not.toMatch(/abandon/);
    }
  });

  it('reads typed bytes as a sheet shows them (numbers, any case, extra spaces) and gives the same share', () => {
    const share = randomBytes(49);
    const sheet = recoveryWordsBuffer(share, 6);
    expect(sheet.toString('ascii')).toMatch(/^ {3}1\. [a-z]+/);
    expect(decodeRecoveryWords(sheet).equals(share)).toBe(true);
    const typed = Buffer.from(
      `  ${encodeRecoveryWords(share)
        .map((w, i) => `${i + 1}) ${w.toUpperCase()}`)
        .join('   ')}\r\n`,
    );
    expect(decodeRecoveryWords(typed).equals(share)).toBe(true);
    expect(recoveryWordsBuffer(share).toString('ascii')).toBe(encodeRecoveryWords(share).join(' '));
  });

  it('detects a substituted word and names its position', () => {
    const words = encodeRecoveryWords(randomBytes(49));
    const bad = [...words];
    const idx = WORDS.indexOf(bad[10]!);
    bad[10] = WORDS[(idx + 1) % WORDS.length]!;
    expect(() => decodeRecoveryWords(bad)).toThrow(/word 11 is probably mistyped\.$/);
  });

  it('detects swapped words and a missing word', () => {
    const words = encodeRecoveryWords(randomBytes(49));
    const swapped = [...words];
    let i = 5;
    while (swapped[i] === swapped[i + 1]) i++;
    [swapped[i], swapped[i + 1]] = [swapped[i + 1]!, swapped[i]!];
    expect(() => decodeRecoveryWords(swapped)).toThrow(expect.objectContaining({ code: 'RECOVERY_CHECKSUM' }));
    expect(() => decodeRecoveryWords(words.slice(0, -1))).toThrow(/has \d+ words; \d+ were given/);
    expect(() => decodeRecoveryWords('')).toThrow(/No recovery words/);
  });
});
