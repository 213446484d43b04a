import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ecc from '@bitcoinerlab/secp256k1';
import { BIP32Factory } from 'bip32';
import { mnemonicToSeedSync } from 'bip39';
import { networks, payments } from 'bitcoinjs-lib';
import { ECPairFactory } from 'ecpair';
import { beforeAll, describe, expect, it } from 'vitest';
import { encryptLegacy } from '../../../src/vault/legacy-cipher-testing.js';
import { runCli, type CliResult } from '../../support/cli.js';
import { createTestToken, TEST_PIN } from '../../support/softhsm.js';

/*
 * A Tatum wallet.dat as real ones look after years of use: keys in every form Tatum's
 * signers accepted, fields missing or null, mnemonics typed carelessly, plus entries that
 * cannot be imported. Every expected value is computed here with independent libraries
 * (bip39, bip32, bitcoinjs-lib, ecpair), never with hardkms code.
 */

const MNEMONIC = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';
const TYPED = 'Abandon  abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about ';
const LEGACY_PASSWORD = 'tatum-legacy-pass';
const bip32 = BIP32Factory(ecc);
const ECPair = ECPairFactory(ecc);
const LTC_MAIN = { ...networks.bitcoin, wif: 0xb0, pubKeyHash: 0x30, scriptHash: 0x32 };

function xpubOf(mnemonic: string, path: string): string {
  return bip32.fromSeed(mnemonicToSeedSync(mnemonic)).derivePath(path).neutered().toBase58();
}

const seed = mnemonicToSeedSync(MNEMONIC);
const btcKey0 = bip32.fromSeed(seed).derivePath("m/44'/0'/0'/0/0").privateKey!;
const uncompressedWif = ECPair.fromPrivateKey(btcKey0, { compressed: false, network: networks.bitcoin }).toWIF();
const uncompressedAddress = payments.p2pkh({
  pubkey: ECPair.fromPrivateKey(btcKey0, { compressed: false }).publicKey,
  network: networks.bitcoin,
}).address!;
const ltcMainWif = ECPair.fromPrivateKey(bip32.fromSeed(seed).derivePath("m/44'/2'/0'/0/0").privateKey!, {
  network: LTC_MAIN,
}).toWIF();
const tronNode = bip32.fromSeed(seed).derivePath("m/44'/195'/0'/0");
const tronHexXpub = Buffer.concat([tronNode.publicKey, tronNode.chainCode]).toString('hex');
const typedXpub = xpubOf(TYPED, "m/44'/0'/0'/0");
const typedAddr0 = payments.p2wpkh({ pubkey: bip32.fromBase58(typedXpub).derive(0).publicKey }).address!;

const ID = {
  uncompressed: 'a1115fc0-2112-4c8a-b8bf-353b86f6a111',
  otherNet: 'a2225fc0-2112-4c8a-b8bf-353b86f6a222',
  tronHex: 'a3335fc0-2112-4c8a-b8bf-353b86f6a333',
  noTestnet: 'a4445fc0-2112-4c8a-b8bf-353b86f6a444',
  typed: 'a5555fc0-2112-4c8a-b8bf-353b86f6a555',
  nulls: 'a6665fc0-2112-4c8a-b8bf-353b86f6a666',
  bchUncompressed: 'b1115fc0-2112-4c8a-b8bf-353b86f6b111',
  noSecret: 'b2225fc0-2112-4c8a-b8bf-353b86f6b222',
  tampered: 'b3335fc0-2112-4c8a-b8bf-353b86f6b333',
  badChecksum: 'b4445fc0-2112-4c8a-b8bf-353b86f6b444',
};

const STORE: Record<string, Record<string, unknown>> = {
  [ID.uncompressed]: { privateKey: uncompressedWif, chain: 'BTC', testnet: false },
  // A testnet LTC wallet holding a mainnet WIF: Tatum's bitcore signer took it as is.
  [ID.otherNet]: { privateKey: ltcMainWif, chain: 'LTC', testnet: true },
  [ID.tronHex]: { mnemonic: MNEMONIC, xpub: tronHexXpub, chain: 'TRON', testnet: false },
  // No testnet field; the xpub is the EVM testnet one.
  [ID.noTestnet]: { mnemonic: MNEMONIC, xpub: xpubOf(MNEMONIC, "m/44'/1'/0'/0"), chain: 'ETH' },
  [ID.typed]: { mnemonic: TYPED, xpub: typedXpub, chain: 'BTC', testnet: false },
  [ID.nulls]: {
    privateKey: '0xe01fea8a48e2854fdd0255c12b1d704967d9401f11c3f4980006ced8977574dc',
    address: null,
    xpub: null,
    chain: 'BSC',
  },
  [ID.bchUncompressed]: { privateKey: uncompressedWif, chain: 'BCH', testnet: false },
  [ID.noSecret]: { xpub: null, mnemonic: '', chain: 'BTC', testnet: false },
  [ID.tampered]: { mnemonic: MNEMONIC, xpub: xpubOf(MNEMONIC, "m/44'/1'/0'/0"), chain: 'ETH', testnet: false },
  [ID.badChecksum]: { mnemonic: MNEMONIC.replace(/about$/, 'abandon'), chain: 'LTC', testnet: false },
};

describe('hardkms import-legacy: an awkward real-shaped Tatum wallet.dat', () => {
  let env: Record<string, string>;
  let dir: string;
  let path: string;
  let legacyFile: string;
  const cli = (args: string[]): Promise<CliResult> => runCli([...args, '--path', path], { env });

  beforeAll(async () => {
    const token = createTestToken('hardkms', { setProcessEnv: false });
    dir = mkdtempSync(join(tmpdir(), 'hardkms-legacy-awkward-'));
    path = join(dir, 'wallet.dat');
    legacyFile = join(dir, 'tatum-wallet.dat');
    writeFileSync(legacyFile, encryptLegacy(Buffer.from(JSON.stringify(STORE)), Buffer.from(LEGACY_PASSWORD)));
    env = { ...token.env, TATUM_KMS_PASSWORD: 'hardkms-vault-pass', HARDKMS_LEGACY_PASSWORD: LEGACY_PASSWORD };
    expect(
      (
        await runCli(['init', '--path', path, '--allow-password-mainnet'], {
          env: { ...env, HARDKMS_TOKEN_PIN: TEST_PIN },
        })
      ).code,
    ).toBe(0);
  });

  type Summary = {
    dryRun: boolean;
    total: number;
    alreadyPresent: number;
    imported: Record<string, Record<string, number>>;
    skipped: Array<{ signatureId: string; chain?: string; code: string; reason: string; fix: string }>;
    warnings: Array<{ signatureId: string; warnings: string[] }>;
  };

  function expectSkipped(s: Summary): void {
    const byId = Object.fromEntries(s.skipped.map((x) => [x.signatureId, x]));
    expect(Object.keys(byId).sort()).toEqual([ID.bchUncompressed, ID.noSecret, ID.tampered, ID.badChecksum].sort());
    expect(byId[ID.bchUncompressed]).toMatchObject({
      chain: 'BCH',
      code: 'INVALID_INPUT',
      reason: expect.stringMatching(/uncompressed-WIF/),
    });
    expect(byId[ID.noSecret]).toMatchObject({
      chain: 'BTC',
      code: 'LEGACY_ENTRY_INVALID',
      reason: expect.stringMatching(/no mnemonic, privateKey or secret/),
    });
    expect(byId[ID.tampered]).toMatchObject({ chain: 'ETH', code: 'LEGACY_XPUB_MISMATCH' });
    expect(byId[ID.badChecksum]).toMatchObject({
      chain: 'LTC',
      code: 'INVALID_INPUT',
      reason: expect.stringMatching(/checksum/),
    });
    for (const x of s.skipped) {
      expect(x.fix.length).toBeGreaterThan(10);
      expect(x.reason).not.toContain('abandon');
    }
  }

  it('--dry-run names every wallet it would skip, with reason and fix, and stores nothing', async () => {
    const r = await cli(['import-legacy', legacyFile, '--dry-run']);
    expect(r.code, r.stderr).toBe(3);
    const s = r.json() as Summary;
    expect(s).toMatchObject({ dryRun: true, total: 10 });
    expectSkipped(s);
    expect((await cli(['export'])).json()).toEqual({});
  });

  it('imports every wallet it can, names each one it skipped, exit 3; the second run changes nothing', async () => {
    const r = await cli(['import-legacy', legacyFile]);
    expect(r.code, r.stderr).toBe(3);
    const s = r.json() as Summary;
    expect(s).toMatchObject({
      dryRun: false,
      total: 10,
      alreadyPresent: 0,
      imported: {
        BTC: { privateKey: 1, mnemonic: 1 },
        LTC: { privateKey: 1 },
        TRON: { mnemonic: 1 },
        ETH: { mnemonic: 1 },
        BSC: { privateKey: 1 },
      },
    });
    expectSkipped(s);
    const warned = Object.fromEntries(s.warnings.map((w) => [w.signatureId, w.warnings.join(' | ')]));
    expect(warned[ID.uncompressed]).toMatch(/uncompressed WIF/);
    expect(warned[ID.otherNet]).toMatch(/WIF of the mainnet network in a testnet wallet/);
    expect(warned[ID.noTestnet]).toMatch(/no testnet field.*imported as testnet/);
    expect(warned[ID.nulls]).toMatch(/no testnet field.*imported as mainnet/);
    expect(warned[ID.typed]).toMatch(/upper-case letters.*repeated spaces.*exactly as typed/);
    expect(warned[ID.tronHex]).toMatch(/130-hex/);
    expect(r.stderr).toContain(`wallet '${ID.tampered}' (ETH) NOT imported`);

    const again = await cli(['import-legacy', legacyFile]);
    expect(again.code).toBe(3);
    expect(again.json()).toMatchObject({ alreadyPresent: 6, imported: {} });
  });

  it('keeps each wallet exactly as Tatum stored it: export gives back the same keys, mnemonic text and xpub form', async () => {
    const exported = (await cli(['export'])).json() as Record<string, Record<string, unknown>>;
    expect(Object.keys(exported).sort()).toEqual(
      [ID.uncompressed, ID.otherNet, ID.tronHex, ID.noTestnet, ID.typed, ID.nulls].sort(),
    );
    expect(exported[ID.uncompressed]).toMatchObject({ privateKey: uncompressedWif, chain: 'BTC', testnet: false });
    expect(exported[ID.otherNet]).toMatchObject({ privateKey: ltcMainWif, chain: 'LTC', testnet: true });
    expect(exported[ID.tronHex]).toEqual(STORE[ID.tronHex]);
    expect(exported[ID.typed]).toEqual(STORE[ID.typed]);
    expect(exported[ID.noTestnet]).toEqual({ ...STORE[ID.noTestnet], testnet: true });
    expect(exported[ID.nulls]).toMatchObject({ privateKey: STORE[ID.nulls]!.privateKey, chain: 'BSC', testnet: false });
  });

  it('derives and addresses as Tatum did', async () => {
    const addr = async (id: string, i = 0) =>
      ((await cli(['getaddress', id, String(i)])).json() as { address: string }).address;
    expect(await addr(ID.tronHex)).toBe('TUEZSdKsoDHQMeZwihtdoBiN46zxhGWYdH');
    expect(await addr(ID.tronHex, 1)).toBe('TSeJkUh4Qv67VNFwY8LaAxERygNdy6NQZK');
    // The mnemonic is derived from as typed: not the canonical wallet's bc1qmxrw6… address.
    expect(await addr(ID.typed)).toBe(typedAddr0);
    expect(typedAddr0).not.toBe('bc1qmxrw6qdh5g3ztfcwm0et5l8mvws4eva24kmp8m');
    expect(await addr(ID.noTestnet)).toBe('0xb157e208264ff9edebbcb1d36e66d156df8afa6c');
    expect(await addr(ID.uncompressed)).toBe(uncompressedAddress);
    const key = (await cli(['getprivatekey', ID.typed, '0'])).json() as { privateKey: string };
    const typedKey0 = bip32.fromSeed(mnemonicToSeedSync(TYPED)).derivePath("m/44'/0'/0'/0/0").privateKey!;
    expect(ECPair.fromWIF(key.privateKey).privateKey).toEqual(typedKey0);
  });
});
