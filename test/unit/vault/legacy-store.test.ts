import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decryptLegacy } from '../../../src/vault/legacy-cipher.js';
import { encryptLegacy } from '../../../src/vault/legacy-cipher-testing.js';
import { openLegacyStore, parseLegacyStore, wipeLegacyEntries } from '../../../src/vault/legacy-store.js';
import { serializeLegacyStore } from '../../../src/vault/legacy-store-testing.js';
import { HardkmsError } from '../../../src/errors.js';

const PASSWORD = 'correct horse ☃ battery'; // non-ASCII: the KDF must use UTF-8 bytes
const MNEMONIC = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';

// Shapes written by Tatum KMS (spec §5.2), plus an ignored extra field.
const STORE = {
  '0b0f4dd5-6d0d-4c44-a4e7-4a0d6b3f2f61': {
    mnemonic: MNEMONIC,
    xpub: 'xpub6ELHKXNimKbxMCytPh7EdC2QXx46T9qLDJWGnTraz1H9kMMFdcduoU69wh9cxP12wDxqAAfbaESWGYt5rREsX1J8iR2TEunvzvddduAPYcY',
    chain: 'BTC',
    testnet: false,
  },
  '6f1c2a1e-3f0e-4a53-9a54-2e0f4f0a9a10': {
    privateKey: '0x1ab42cc412b618bdea3a599e3c9bae199ebf030895b039e9db1e30dafb12b727',
    chain: 'ETH',
    testnet: true,
  },
  '9d6d1d0b-1d9a-4c1c-8f15-1b0f0e0c3e2a': {
    address: 'rPT1Sjq2YGrBMTttX4GZHjKu9dyfzbpAYe',
    secret: 'snoPBrXtMeMyMHUVTgbuqAfg1SUTb',
    chain: 'XRP',
    testnet: false,
    note: 'extra fields are ignored',
  },
  'a3c5d1e2-0000-4000-8000-000000000001': {
    mnemonic: MNEMONIC,
    address: 'B9sVeu4rJU12oUrUtzjc6BSNuEXdfvurZkdcaTVkP2LY',
    privateKey: '5Kd3NBUAdUnhyzenEwVLy9pBKxSwXvE9FMPyR4UKZvpe',
    chain: 'SOL',
    testnet: false,
  },
};

const dir = mkdtempSync(join(tmpdir(), 'hardkms-legacy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function openssl(args: string[], input: string): string {
  const env = { ...process.env, HARDKMS_TEST_PW: PASSWORD };
  return execFileSync(
    'openssl',
    ['enc', '-aes-256-cbc', '-md', 'md5', '-a', '-A', '-pass', 'env:HARDKMS_TEST_PW', ...args],
    {
      input,
      env,
      stdio: ['pipe', 'pipe', 'ignore'], // OpenSSL 3 warns about the legacy KDF on stderr
    },
  ).toString('utf8');
}

function errorOf(fn: () => unknown): HardkmsError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(HardkmsError);
    return e as HardkmsError;
  }
  throw new Error('expected a HardkmsError');
}

const pw = () => Buffer.from(PASSWORD, 'utf8');

describe('legacy cipher interoperates with openssl enc', () => {
  it('decrypts what openssl encrypts (Tatum/crypto-js format)', () => {
    const file = openssl(['-e'], JSON.stringify(STORE));
    expect(file.startsWith('U2FsdGVkX1')).toBe(true);
    const plain = decryptLegacy(file, pw());
    expect(JSON.parse(plain.toString('utf8'))).toEqual(STORE);
  });

  it('openssl decrypts what we encrypt', () => {
    const file = encryptLegacy(Buffer.from(JSON.stringify(STORE)), pw());
    expect(file.startsWith('U2FsdGVkX1')).toBe(true);
    const path = join(dir, 'wallet.dat');
    writeFileSync(path, file);
    expect(JSON.parse(openssl(['-d', '-in', path], ''))).toEqual(STORE);
  });

  it('produces byte-identical output to openssl for a fixed salt', () => {
    const salt = Buffer.from('0102030405060708', 'hex');
    const text = JSON.stringify(STORE);
    const ours = Buffer.from(encryptLegacy(Buffer.from(text), pw(), salt), 'base64');
    // OpenSSL 3 leaves out the "Salted__" ‖ salt header when the salt is given with -S.
    const theirs = Buffer.from(openssl(['-e', '-S', salt.toString('hex')], text), 'base64');
    expect(ours.subarray(0, 16)).toEqual(Buffer.concat([Buffer.from('Salted__'), salt]));
    expect(ours.subarray(16).toString('hex')).toBe(theirs.toString('hex'));
  });

  it('uses a fresh salt for every write', () => {
    const a = encryptLegacy(Buffer.from('{}'), pw());
    const b = encryptLegacy(Buffer.from('{}'), pw());
    expect(a).not.toBe(b);
  });

  it('tolerates a line-wrapped file (openssl -a without -A)', () => {
    const file = encryptLegacy(Buffer.from(JSON.stringify(STORE)), pw());
    const wrapped = file.replace(/(.{64})/g, '$1\n') + '\n';
    expect(JSON.parse(decryptLegacy(wrapped, pw()).toString())).toEqual(STORE);
  });
});

describe('wrong password and damaged files', () => {
  const file = encryptLegacy(Buffer.from(JSON.stringify(STORE)), pw());

  it('reports a wrong password as LEGACY_WRONG_PASSWORD, never as a UTF-8 or JSON error', () => {
    // Some wrong keys leave valid-looking PKCS#7 padding (about 1 in 256); try enough to hit that path too.
    for (let i = 0; i < 600; i++) {
      const e = errorOf(() => openLegacyStore(file, Buffer.from(`wrong-${i}`)));
      expect(e.code).toBe('LEGACY_WRONG_PASSWORD');
      expect(e.message).toBe('Wrong password for the Tatum wallet file.');
      expect(e.hint).toMatch(/TATUM_KMS_PASSWORD/);
    }
  });

  it('treats decrypted non-UTF-8, non-JSON and non-object text as a wrong password', () => {
    const binary = encryptLegacy(Buffer.from([0xff, 0xfe, 0x7b, 0x7d]), pw());
    expect(errorOf(() => decryptLegacy(binary, pw())).code).toBe('LEGACY_WRONG_PASSWORD');
    const text = encryptLegacy(Buffer.from('Malformed'), pw());
    expect(errorOf(() => decryptLegacy(text, pw())).code).toBe('LEGACY_WRONG_PASSWORD');
    const braces = encryptLegacy(Buffer.from('{not json}'), pw());
    expect(errorOf(() => openLegacyStore(braces, pw())).code).toBe('LEGACY_WRONG_PASSWORD');
  });

  it('names a file that is not the Tatum format', () => {
    const notBase64 = errorOf(() => decryptLegacy('this is not base64!', pw()));
    expect(notBase64.code).toBe('LEGACY_FORMAT');
    expect(notBase64.message).toBe('The Tatum wallet file is not Base64 text.');
    const noMagic = errorOf(() =>
      decryptLegacy(Buffer.from('NotSalted_12345678901234567890123456789012').toString('base64'), pw()),
    );
    expect(noMagic.code).toBe('LEGACY_FORMAT');
    expect(noMagic.message).toMatch(/"Salted__" header/);
    const truncated = errorOf(() =>
      decryptLegacy(Buffer.from(file, 'base64').subarray(0, 40).toString('base64'), pw()),
    );
    expect(truncated.code).toBe('LEGACY_FORMAT');
    expect(truncated.message).toMatch(/truncated/);
    const headerOnly = errorOf(() => decryptLegacy(Buffer.from('Salted__12345678').toString('base64'), pw()));
    expect(headerOnly.message).toMatch(/truncated/);
  });

  it('reads an empty file as a store without wallets', () => {
    expect(openLegacyStore('', pw())).toEqual([]);
    expect(openLegacyStore('\n', pw())).toEqual([]);
    expect(parseLegacyStore(Buffer.alloc(0))).toEqual([]);
  });

  it.each(['[{"chain": "MARK"}]', '"MARK"', 'null', '7'])(
    'refuses a decrypted file that is not an object of wallets: %s',
    (text) => {
      let e: unknown;
      try {
        parseLegacyStore(Buffer.from(text));
      } catch (x) {
        e = x;
      }
      expect(e).toMatchObject({
        code: 'LEGACY_FORMAT',
        message: 'The Tatum wallet file does not contain a JSON object of wallets.',
      });
    },
  );
});

describe('legacy store entries', () => {
  it('classifies and types the entries like Tatum does', () => {
    const entries = openLegacyStore(openssl(['-e'], JSON.stringify(STORE)), pw());
    expect(entries.map((e) => [e.signatureId, e.chain, e.testnet, e.kind])).toEqual([
      ['0b0f4dd5-6d0d-4c44-a4e7-4a0d6b3f2f61', 'BTC', false, 'mnemonic'],
      ['6f1c2a1e-3f0e-4a53-9a54-2e0f4f0a9a10', 'ETH', true, 'privateKey'],
      ['9d6d1d0b-1d9a-4c1c-8f15-1b0f0e0c3e2a', 'XRP', false, 'secret'],
      ['a3c5d1e2-0000-4000-8000-000000000001', 'SOL', false, 'mnemonic'],
    ]);
    const [btc, eth, xrp, sol] = entries;
    expect(Buffer.isBuffer(btc!.mnemonic)).toBe(true);
    expect(btc!.mnemonic!.toString()).toBe(MNEMONIC);
    expect(btc!.xpub).toBe(STORE['0b0f4dd5-6d0d-4c44-a4e7-4a0d6b3f2f61'].xpub);
    expect(eth!.privateKey!.toString()).toBe(STORE['6f1c2a1e-3f0e-4a53-9a54-2e0f4f0a9a10'].privateKey);
    expect(xrp!.secret!.toString()).toBe('snoPBrXtMeMyMHUVTgbuqAfg1SUTb');
    expect(xrp!.address).toBe('rPT1Sjq2YGrBMTttX4GZHjKu9dyfzbpAYe');
    expect(xrp).not.toHaveProperty('note');
    expect(sol!.privateKey!.toString()).toBe('5Kd3NBUAdUnhyzenEwVLy9pBKxSwXvE9FMPyR4UKZvpe');

    wipeLegacyEntries(entries);
    expect(btc!.mnemonic!.every((b) => b === 0)).toBe(true);
    expect(xrp!.secret!.every((b) => b === 0)).toBe(true);
  });

  it('serializes back to the same JSON object (round trip)', () => {
    const entries = parseLegacyStore(Buffer.from(JSON.stringify(STORE)));
    const again = JSON.parse(serializeLegacyStore(entries).toString('utf8'));
    const expected = structuredClone(STORE) as Record<string, Record<string, unknown>>;
    delete expected['9d6d1d0b-1d9a-4c1c-8f15-1b0f0e0c3e2a']!.note;
    expect(again).toEqual(expected);
    const file = encryptLegacy(serializeLegacyStore(entries), pw());
    expect(JSON.parse(openssl(['-d'], file))).toEqual(expected);
  });

  it('keeps a "__proto__" signature id as an ordinary key', () => {
    const json = '{"__proto__":{"privateKey":"k","chain":"ETH","testnet":false}}';
    const entries = parseLegacyStore(Buffer.from(json));
    expect(entries[0]!.signatureId).toBe('__proto__');
    expect(serializeLegacyStore(entries).toString()).toBe(
      '{"__proto__":{"privateKey":"k","chain":"ETH","testnet":false}}',
    );
  });

  it('refuses duplicate signature ids when serializing', () => {
    const entries = parseLegacyStore(Buffer.from(JSON.stringify(STORE)));
    expect(errorOf(() => serializeLegacyStore([entries[0]!, entries[0]!])).message).toMatch(/appears twice/);
  });

  const bad = (entry: unknown) => errorOf(() => parseLegacyStore(Buffer.from(JSON.stringify({ 'id-1': entry }))));

  it('names the entry and the rule that failed, without the secret', () => {
    const none = bad({ xpub: 'xpub…', chain: 'BTC', testnet: false });
    expect(none.code).toBe('LEGACY_ENTRY_INVALID');
    expect(none.message).toBe("Wallet 'id-1' in the Tatum wallet file has no mnemonic, privateKey or secret.");
    expect(none.hint).toBeTruthy();
    expect(bad({ mnemonic: '', privateKey: null, chain: 'BTC', testnet: false }).message).toMatch(
      /has no mnemonic, privateKey or secret/,
    );
    expect(bad({ mnemonic: MNEMONIC, chain: 'BTC', testnet: 'false' }).message).toBe(
      "Wallet 'id-1' in the Tatum wallet file is invalid: testnet: expected true or false, got a string of 5 characters.",
    );
    expect(bad({ mnemonic: MNEMONIC, testnet: true }).message).toMatch(/invalid: chain: required, but missing/);
    expect(bad({ mnemonic: MNEMONIC, chain: '', testnet: true }).message).toMatch(
      /invalid: chain: expected a chain code/,
    );
    expect(bad({ mnemonic: 42, chain: 'BTC', testnet: true }).message).toMatch(
      /invalid: mnemonic: expected a string, got a number/,
    );
    expect(bad('just a string').message).toMatch(/invalid: expected a JSON object, got a string/);
    const leaked = bad({ mnemonic: MNEMONIC, chain: 'BTC', testnet: 1 });
    expect(leaked.message).not.toContain('abandon');
  });

  it('accepts a missing testnet (marked for the importer to infer), and hands invalid entries to onInvalid instead of throwing', () => {
    const json = JSON.stringify({
      ok: { mnemonic: MNEMONIC, chain: 'BTC' },
      broken: { chain: 'BTC', testnet: false },
      alsoOk: { privateKey: 'k', chain: 'ETH', testnet: true },
    });
    const skipped: unknown[] = [];
    const entries = parseLegacyStore(Buffer.from(json), (s) => skipped.push(s));
    expect(entries.map((e) => [e.signatureId, e.testnet, e.testnetMissing])).toEqual([
      ['ok', false, true],
      ['alsoOk', true, undefined],
    ]);
    expect(skipped).toEqual([
      expect.objectContaining({ signatureId: 'broken', chain: 'BTC', code: 'LEGACY_ENTRY_INVALID' }),
    ]);
    // A missing testnet stays missing in Tatum's JSON.
    expect(JSON.parse(serializeLegacyStore(entries.slice(0, 1)).toString()).ok).not.toHaveProperty('testnet');
  });

  it('refuses a store that is not an object of wallets', () => {
    expect(errorOf(() => parseLegacyStore(Buffer.from('[1,2]'))).code).toBe('LEGACY_FORMAT');
    expect(errorOf(() => parseLegacyStore(Buffer.from('null'))).code).toBe('LEGACY_FORMAT');
  });
});
