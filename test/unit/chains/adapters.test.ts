import { describe, expect, it } from 'vitest';
import { BIP32_TPUB, BIP32_XPUB } from '../../../src/chains/networks.js';
import {
  base58CheckDecode,
  base58CheckEncode,
  bip32,
  publicKeyFromPrivateKey,
  xpubAtPath,
} from '../../../src/chains/keys.js';
import { mnemonicToSeed } from '../../../src/chains/mnemonic.js';
import { getChainAdapter, isSupportedChain, SUPPORTED_CHAINS } from '../../../src/chains/registry.js';
import { decodeCashAddress } from '../../../src/chains/bch/derive-testing.js';
import { HardkmsError } from '../../../src/errors.js';

const seed = mnemonicToSeed(
  Buffer.from('abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about'),
);

function errorOf(fn: () => unknown): HardkmsError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(HardkmsError);
    return e as HardkmsError;
  }
  throw new Error('expected a HardkmsError');
}

describe('BIP32 test vector 1 (seed 000102…0f)', () => {
  const v1 = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');
  const cases: [string, string][] = [
    [
      'm',
      'xpub661MyMwAqRbcFtXgS5sYJABqqG9YLmC4Q1Rdap9gSE8NqtwybGhePY2gZ29ESFjqJoCu1Rupje8YtGqsefD265TMg7usUDFdp6W1EGMcet8',
    ],
    [
      "m/0'",
      'xpub68Gmy5EdvgibQVfPdqkBBCHxA5htiqg55crXYuXoQRKfDBFA1WEjWgP6LHhwBZeNK1VTsfTFUHCdrfp1bgwQ9xv5ski8PX9rL2dZXvgGDnw',
    ],
    [
      "m/0'/1/2'",
      'xpub6D4BDPcP2GT577Vvch3R8wDkScZWzQzMMUm3PWbmWvVJrZwQY4VUNgqFJPMM3No2dFDFGTsxxpG5uJh7n7epu4trkrX7x7DogT5Uv6fcLW5',
    ],
    [
      "m/0'/1/2'/2/1000000000",
      'xpub6H1LXWLaKsWFhvm6RVpEL9P4KfRZSW7abD2ttkWP3SSQvnyA8FSVqNTEcYFgJS2UaFcxupHiYkro49S8yGasTvXEYBVPamhGW6cFJodrTHy',
    ],
  ];
  for (const [path, xpub] of cases) {
    it(path, () => expect(xpubAtPath(v1, path, BIP32_XPUB)).toBe(xpub));
  }
});

describe('registry', () => {
  it('has one adapter per supported chain, with the right family', () => {
    expect([...SUPPORTED_CHAINS].sort()).toEqual(
      ['BCH', 'BSC', 'BTC', 'CELO', 'DOGE', 'ETH', 'KCS', 'KLAY', 'LTC', 'MATIC', 'ONE', 'TRON', 'VET', 'XDC'].sort(),
    );
    for (const c of SUPPORTED_CHAINS) expect(getChainAdapter(c).chain).toBe(c);
    expect(getChainAdapter('BTC').family).toBe('utxo');
    expect(getChainAdapter('DOGE').family).toBe('utxo');
    expect(getChainAdapter('BCH').family).toBe('bch');
    expect(getChainAdapter('VET').family).toBe('evm');
    expect(getChainAdapter('TRON').family).toBe('tron');
  });
  it('refuses unknown and lowercase chain codes', () => {
    const e = errorOf(() => getChainAdapter('SOL'));
    expect(e.code).toBe('UNSUPPORTED_CHAIN');
    expect(e.message).toBe("Unsupported chain 'SOL'. Unsupported blockchain.");
    expect(e.hint).toBe('Supported: BTC, LTC, DOGE, BCH, ETH, BSC, MATIC, CELO, KLAY, ONE, XDC, KCS, TRON, VET.');
    expect(errorOf(() => getChainAdapter('eth')).code).toBe('UNSUPPORTED_CHAIN');
    expect(errorOf(() => getChainAdapter('X\n\u0000Y')).message).toBe(
      "Unsupported chain 'X??Y'. Unsupported blockchain.",
    );
    expect(isSupportedChain('ETH')).toBe(true);
    expect(isSupportedChain('SOL')).toBe(false);
  });
});

describe('derivation paths and §4.2 exceptions', () => {
  it("uses the change level, with m/44'/1'/0'/0 on testnet", () => {
    expect(getChainAdapter('BTC').derivationPath(false)).toBe("m/44'/0'/0'/0");
    expect(getChainAdapter('BTC').derivationPath(true)).toBe("m/44'/1'/0'/0");
    expect(getChainAdapter('LTC').derivationPath(false)).toBe("m/44'/2'/0'/0");
    expect(getChainAdapter('DOGE').derivationPath(false)).toBe("m/44'/3'/0'/0");
    expect(getChainAdapter('CELO').derivationPath(false)).toBe("m/44'/52752'/0'/0");
    expect(getChainAdapter('KCS').derivationPath(false)).toBe("m/44'/60'/0'/0");
    expect(getChainAdapter('VET').derivationPath(true)).toBe("m/44'/1'/0'/0");
  });
  it('BCH testnet uses the mainnet path (same keys, tpub serialization)', () => {
    const bch = getChainAdapter('BCH');
    expect(bch.derivationPath(true)).toBe("m/44'/145'/0'/0");
    const main = bip32().fromBase58(bch.xpubFromSeed(seed, false));
    const test = bip32().fromBase58(bch.xpubFromSeed(seed, true), { wif: 0xef, bip32: BIP32_TPUB });
    expect(Buffer.from(test.publicKey)).toEqual(Buffer.from(main.publicKey));
    expect(bch.xpubFromSeed(seed, true).startsWith('tpub')).toBe(true);
  });
  it('TRON ignores the testnet flag', () => {
    const tron = getChainAdapter('TRON');
    expect(tron.derivationPath(true)).toBe("m/44'/195'/0'/0");
    expect(tron.xpubFromSeed(seed, true)).toBe(tron.xpubFromSeed(seed, false));
  });
  it('DOGE mainnet xpubs use Bitcoin versions', () => {
    expect(getChainAdapter('DOGE').xpubFromSeed(seed, false).startsWith('xpub')).toBe(true);
  });
});

describe('addresses from public keys', () => {
  it('BTC private-key wallets report P2PKH; the key also owns the P2WPKH xpub address', () => {
    const btc = getChainAdapter('BTC');
    const d = btc.privateKeyFromSeed(seed, 0, false);
    const pub = publicKeyFromPrivateKey(d);
    // BIP44 m/44'/0'/0'/0/0 of this mnemonic, a widely published value.
    expect(btc.addressFromPublicKey(pub, false)).toBe('1LqBGSKuX5yYUonjxT5qGfpUsXKYYWeabA');
    expect(btc.addressesFromPublicKey(pub, false)).toEqual([
      '1LqBGSKuX5yYUonjxT5qGfpUsXKYYWeabA',
      'bc1qmxrw6qdh5g3ztfcwm0et5l8mvws4eva24kmp8m',
    ]);
  });
  it('every chain: the address of key i equals the xpub child i', () => {
    for (const chain of SUPPORTED_CHAINS) {
      for (const testnet of [false, true]) {
        const a = getChainAdapter(chain);
        const xpub = a.xpubFromSeed(seed, testnet);
        for (const i of [0, 7]) {
          const pub = publicKeyFromPrivateKey(a.privateKeyFromSeed(seed, i, testnet));
          expect(a.addressesFromPublicKey(pub, testnet)).toContain(a.addressFromXpub(xpub, i, testnet));
          expect(a.addressesFromPublicKey(pub, testnet)[0]).toBe(a.addressFromPublicKey(pub, testnet));
        }
      }
    }
  });
  it('refuses a public key that is not a compressed point', () => {
    const bad = Uint8Array.from([2, ...new Array(32).fill(0xff)]); // x ≥ p: not on the curve
    expect(errorOf(() => getChainAdapter('ETH').addressFromPublicKey(bad, false)).message).toMatch(
      /compressed secp256k1 public key/,
    );
    expect(errorOf(() => getChainAdapter('BTC').addressFromPublicKey(new Uint8Array(65), false)).code).toBe(
      'INVALID_INPUT',
    );
  });
  it('decodes CashAddr with network checks', () => {
    const addr = 'bitcoincash:qqyx49mu0kkn9ftfj6hje6g2wfer34yfnq5tahq3q6';
    expect(decodeCashAddress(addr, false).type).toBe('P2PKH');
    expect(decodeCashAddress(addr.split(':')[1]!, false).hash).toHaveLength(20);
    expect(errorOf(() => decodeCashAddress(addr, true)).message).toMatch(/is a bitcoincash address, expected bchtest/);
    expect(errorOf(() => decodeCashAddress(addr.slice(0, -1) + 'x', false)).message).toMatch(/not a valid CashAddr/);
  });
});

describe('extended public key input', () => {
  const btc = getChainAdapter('BTC');
  const mainXpub = btc.xpubFromSeed(seed, false);
  it('refuses an xpub of the wrong network, naming the expected prefix', () => {
    const e = errorOf(() => btc.addressFromXpub(btc.xpubFromSeed(seed, true), 0, false));
    expect(e.message).toBe('The extended public key has version 0x043587cf, but BTC mainnet uses xpub (0x0488b21e).');
    expect(errorOf(() => getChainAdapter('LTC').addressFromXpub(mainXpub, 0, false)).message).toMatch(
      /LTC mainnet uses Ltub/,
    );
    expect(
      errorOf(() => getChainAdapter('ETH').addressFromXpub(btc.xpubFromSeed(seed, true), 0, true)).message,
    ).toMatch(/ETH testnet uses xpub/);
  });
  it('refuses an extended private key', () => {
    const xprv = bip32().fromSeed(seed).derivePath("m/44'/0'/0'/0").toBase58();
    const e = errorOf(() => btc.addressFromXpub(xprv, 0, false));
    expect(e.message).toBe('An extended private key was given where the extended public key for BTC mainnet belongs.');
    expect(e.message).not.toContain(xprv.slice(4, 20));
  });
  it('names checksum, alphabet and length failures', () => {
    const typo = mainXpub.slice(0, 50) + (mainXpub[50] === 'a' ? 'b' : 'a') + mainXpub.slice(51);
    expect(errorOf(() => btc.addressFromXpub(typo, 0, false)).message).toMatch(/fails its Base58Check checksum/);
    expect(errorOf(() => btc.addressFromXpub('xpub0OIl', 0, false)).message).toMatch(/not Base58/);
    expect(errorOf(() => btc.addressFromXpub(base58CheckEncode(new Uint8Array(40)), 0, false)).message).toMatch(
      /wrong length/,
    );
  });
  it("accepts TRON's legacy 130-hex form (pubkey ‖ chain code)", () => {
    const tron = getChainAdapter('TRON');
    const node = bip32().fromBase58(tron.xpubFromSeed(seed, false));
    const hex = Buffer.from(node.publicKey).toString('hex') + Buffer.from(node.chainCode).toString('hex');
    expect(hex).toHaveLength(130);
    expect(tron.addressFromXpub(hex, 0, false)).toBe('TUEZSdKsoDHQMeZwihtdoBiN46zxhGWYdH');
    expect(tron.addressFromXpub(hex.toUpperCase(), 1, true)).toBe('TSeJkUh4Qv67VNFwY8LaAxERygNdy6NQZK');
    expect(errorOf(() => tron.addressFromXpub('04' + hex.slice(2), 0, false)).message).toMatch(
      /valid compressed public key/,
    );
  });
  it('refuses indexes outside 0 … 2^31-1', () => {
    for (const i of [-1, 1.5, 2 ** 31, Number.NaN]) {
      expect(errorOf(() => btc.addressFromXpub(mainXpub, i, false)).message).toMatch(/out of range/);
      expect(errorOf(() => btc.privateKeyFromSeed(seed, i, false)).message).toMatch(/out of range/);
    }
    expect(btc.addressFromXpub(mainXpub, 2 ** 31 - 1, false)).toMatch(/^bc1q/);
  });
});

describe('private key formats', () => {
  const btc = getChainAdapter('BTC');
  const key0Main = 'L4p2b9VAf8k5aUahF1JCJUzZkgNEAqLfq8DDdQiyAprQAKSbu8hf';
  const key0Test = 'cV6NTLu255SZ5iCNkVHezNGDH5qv6CanJpgBPqYgJU13NNKJhRs1';
  const wifOf = (bytes: number[]) => base58CheckEncode(Uint8Array.from(bytes));
  const N = Buffer.from('fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141', 'hex');

  it('WIF: names the network mismatch', () => {
    const e = errorOf(() => btc.parsePrivateKey(key0Test, false));
    expect(e.message).toBe('The private key has WIF version byte 0xef, but BTC mainnet uses 0x80.');
    expect(e.message).not.toContain(key0Test);
    expect(errorOf(() => getChainAdapter('DOGE').parsePrivateKey(key0Test, true)).message).toMatch(
      /0xef, but DOGE testnet uses 0xf1/,
    );
  });
  it('WIF: names checksum, alphabet, compression and range failures', () => {
    const typo = key0Main.slice(0, -1) + (key0Main.endsWith('f') ? 'g' : 'f');
    expect(errorOf(() => btc.parsePrivateKey(typo, false)).message).toBe(
      'The BTC mainnet private key fails its Base58Check checksum (mistyped?).',
    );
    expect(
      errorOf(() => btc.parsePrivateKey('L4p2b9VAf8k5aUahF1JCJUzZkgNEAqLfq8DDdQiyAprQAKSbu8h0', false)).message,
    ).toMatch(/contains a character that is not Base58/);
    expect(errorOf(() => btc.parsePrivateKey(wifOf([0x80, ...new Array(32).fill(1)]), false)).message).toMatch(
      /uncompressed-WIF key, which hardkms does not support/,
    );
    expect(errorOf(() => btc.parsePrivateKey(wifOf([0x80, ...new Array(32).fill(0), 1]), false)).message).toMatch(
      /out of range for secp256k1/,
    );
    expect(errorOf(() => btc.parsePrivateKey(wifOf([0x80, ...N, 1]), false)).message).toMatch(/out of range/);
    expect(errorOf(() => btc.parsePrivateKey(wifOf([0x80, 1, 2, 3]), false)).message).toMatch(
      /wrong length or compression flag/,
    );
    expect(errorOf(() => btc.parsePrivateKey('', false)).message).toMatch(/is empty/);
  });
  it('hex keys: 0x optional on input, exact on output', () => {
    const eth = getChainAdapter('ETH');
    const hex = '1ab42cc412b618bdea3a599e3c9bae199ebf030895b039e9db1e30dafb12b727';
    expect(eth.formatPrivateKey(eth.parsePrivateKey(hex, false), false)).toBe('0x' + hex);
    expect(eth.formatPrivateKey(eth.parsePrivateKey('0x' + hex.toUpperCase(), false), false)).toBe('0x' + hex);
    const tron = getChainAdapter('TRON');
    expect(tron.formatPrivateKey(tron.parsePrivateKey('0x' + hex, false), false)).toBe(hex);
  });
  it('hex keys: names length, alphabet and range failures', () => {
    const eth = getChainAdapter('ETH');
    expect(errorOf(() => eth.parsePrivateKey('0x' + 'ab'.repeat(31) + 'a', false)).message).toBe(
      'The ETH mainnet private key must be 64 hex digits (got 63).',
    );
    expect(errorOf(() => eth.parsePrivateKey('0x' + 'ab'.repeat(31) + 'ag', false)).message).toBe(
      'The ETH mainnet private key contains a character that is not a hex digit.',
    );
    expect(errorOf(() => eth.parsePrivateKey('00'.repeat(32), false)).message).toMatch(/out of range for secp256k1/);
    expect(errorOf(() => getChainAdapter('TRON').parsePrivateKey(N.toString('hex'), false)).message).toMatch(
      /TRON private key is out of range/,
    );
    expect(errorOf(() => eth.formatPrivateKey(new Uint8Array(32), false)).message).toMatch(/out of range/);
  });
});

describe('Base58Check', () => {
  it('round-trips and keeps leading zero bytes', () => {
    const payload = Uint8Array.from([0, 0, 1, 2, 255]);
    const s = base58CheckEncode(payload);
    expect(s.startsWith('11')).toBe(true);
    expect(Buffer.from(base58CheckDecode(s))).toEqual(Buffer.from(payload));
  });
});
