import { describe, expect, it } from 'vitest';
import { wordlists } from 'bip39';
import { generateMnemonic, mnemonicToSeed, validateMnemonic } from '../../../src/chains/mnemonic.js';
import { HardkmsError } from '../../../src/errors.js';

// Trezor's published BIP39 vectors (python-mnemonic vectors.json), passphrase "TREZOR".
const VECTORS: [string, string, string][] = [
  [
    '00000000000000000000000000000000',
    'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about',
    'c55257c360c07c72029aebc1b53c05ed0362ada38ead3e3e9efa3708e53495531f09a6987599d18264c1e1c92f2cf141630c7a3c4ab7c81b2f001698e7463b04',
  ],
  [
    '7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f',
    'legal winner thank year wave sausage worth useful legal winner thank yellow',
    '2e8905819b8723fe2c1d161860e5ee1830318dbf49a83bd451cfb8440c28bd6fa457fe1296106559a3c80937a1c1069be3a3a5bd381ee6260e8d9739fce1f607',
  ],
  [
    'ffffffffffffffffffffffffffffffffffffffffffffffff',
    'zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo when',
    '0cd6e5d827bb62eb8fc1e262254223817fd068a74b5b449cc2f667c3f1f985a76379b43348d952e2265b4cd129090758b3e3c2c49103b5051aac2eaeb890a528',
  ],
  [
    '0000000000000000000000000000000000000000000000000000000000000000',
    'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon art',
    'bda85446c68413707090a52022edd26a1c9462295029f2e60cd7c4f2bbd3097170af7a4d73245cafa9c3cca8d561a7c3de6f5d4a10be8ed2a5e608d68f92fcc8',
  ],
  [
    'ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
    'zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo vote',
    'dd48c104698c30cfe2b6142103248622fb7bb0ff692eebb00089b32d22484e1613912f0a5b694407be899ffd31ed3992c456cdf60f5d4564b8ba3f05a69890ad',
  ],
  [
    '3e141609b97933b66a060dcddc71fad1d91677db872031e85f4c015c5e7e8982',
    'dignity pass list indicate nasty swamp pool script soccer toe leaf photo multiply desk host tomato cradle drill spread actor shine dismiss champion exotic',
    'ff7f3184df8696d8bef94b6c03114dbee0ef89ff938712301d27ed8336ca89ef9635da20af07d4175f2bf5f3de130f39c9d9e8dd0472489c19b1a020a940da67',
  ],
];

function expectInputError(fn: () => unknown, message: RegExp): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(HardkmsError);
    expect((e as HardkmsError).code).toBe('INVALID_INPUT');
    expect((e as HardkmsError).message).toMatch(message);
    expect((e as HardkmsError).hint).toBeTruthy();
    return;
  }
  throw new Error('expected an InputError');
}

describe('BIP39', () => {
  it('uses the official English word list', () => {
    const list = wordlists.english!;
    expect(list.length).toBe(2048);
    expect([...list].sort()).toEqual(list); // wordIndex relies on sorted order
    expect(list[0]).toBe('abandon');
    expect(list[2047]).toBe('zoo');
  });

  for (const [entropy, words, seed] of VECTORS) {
    it(`Trezor vector ${entropy.slice(0, 8)}… (${words.split(' ').length} words)`, () => {
      expect(generateMnemonic(Buffer.from(entropy, 'hex')).toString('utf8')).toBe(words);
      expect(() => validateMnemonic(words)).not.toThrow();
      expect(() => validateMnemonic(Buffer.from(words))).not.toThrow();
      expect(mnemonicToSeed(Buffer.from(words), 'TREZOR').toString('hex')).toBe(seed);
    });
  }

  it('uses the empty passphrase by default (Tatum)', () => {
    const seed = mnemonicToSeed(Buffer.from(VECTORS[0]![1]));
    expect(seed.toString('hex')).toBe(
      '5eb00bbddcf069084889a8ab9155568165f5c453ccb85e70811aaed6f6da5fc19a5ac40b389cd370d086206dec8aa6c43daea6690f20ad3d8d48b2d2ce9e38e4',
    );
  });

  it('normalizes non-ASCII input to NFKD before hashing', () => {
    // "é" precomposed (U+00E9) and decomposed (e + U+0301) must give the same seed.
    const composed = Buffer.from('caf\u00e9', 'utf8');
    const decomposed = Buffer.from('cafe\u0301', 'utf8');
    expect(mnemonicToSeed(composed).equals(mnemonicToSeed(decomposed))).toBe(true);
  });

  it('generates 24 words from 32 bytes of entropy', () => {
    const m = generateMnemonic(Buffer.alloc(32, 0x5a));
    expect(m.toString().split(' ')).toHaveLength(24);
    expect(() => validateMnemonic(m)).not.toThrow();
  });

  it('refuses entropy of the wrong size', () => {
    expectInputError(() => generateMnemonic(Buffer.alloc(31)), /16, 20, 24, 28 or 32 bytes/);
  });

  const ABOUT = VECTORS[0]![1];
  it('names the word-count rule', () => {
    expectInputError(
      () => validateMnemonic(ABOUT.split(' ').slice(0, 11).join(' ')),
      /has 11 words; BIP39 needs 12, 15, 18, 21 or 24/,
    );
  });
  it('names the unknown word by position, not by content', () => {
    const bad = ABOUT.replace(/about$/, 'abuot');
    try {
      validateMnemonic(bad);
      throw new Error('expected failure');
    } catch (e) {
      expect((e as Error).message).toBe('Word 12 of the mnemonic is not in the BIP39 English word list.');
      expect((e as Error).message).not.toContain('abuot');
    }
    expectInputError(() => validateMnemonic('Abandon' + ABOUT.slice(7)), /^Word 1 of the mnemonic/);
  });
  it('names the checksum rule', () => {
    expectInputError(() => validateMnemonic(ABOUT.replace(/about$/, 'abandon')), /checksum does not match/);
  });
  it('names the separator rules', () => {
    expectInputError(() => validateMnemonic(ABOUT.replace(' ', '  ')), /leading, trailing or repeated spaces/);
    expectInputError(() => validateMnemonic(ABOUT + ' '), /leading, trailing or repeated spaces/);
    expectInputError(() => validateMnemonic(ABOUT + '\n'), /tab or line break/);
    expectInputError(() => validateMnemonic(''), /is empty/);
  });
});
