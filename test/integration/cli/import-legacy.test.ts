import { Keypair } from '@solana/web3.js';
import { base58Encode } from '../../../src/chains/keys.js';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { getChainAdapter } from '../../../src/chains/registry.js';
import { mnemonicToSeed } from '../../../src/chains/mnemonic.js';
import { encryptLegacy } from '../../../src/vault/legacy-cipher-testing.js';
import { runCli, type CliResult } from '../../support/cli.js';
import { createTestToken, TEST_PIN } from '../../support/softhsm.js';

const MNEMONIC = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';
const LEGACY_PASSWORD = 'tatum-legacy-pass';
const seed = mnemonicToSeed(Buffer.from(MNEMONIC));

/** A Tatum KMS store: mnemonic and private-key entries, several chains, both nets, and chains hardkms only keeps. */
const TATUM_STORE: Record<string, Record<string, unknown>> = {
  'e3015fc0-2112-4c8a-b8bf-353b86f63ba5': {
    mnemonic: MNEMONIC,
    xpub: getChainAdapter('ETH').xpubFromSeed(seed, false),
    chain: 'ETH',
    testnet: false,
  },
  '11115fc0-2112-4c8a-b8bf-353b86f63111': {
    mnemonic: MNEMONIC,
    xpub: getChainAdapter('LTC').xpubFromSeed(seed, true),
    chain: 'LTC',
    testnet: true,
  },
  '22225fc0-2112-4c8a-b8bf-353b86f63222': {
    privateKey: 'L4p2b9VAf8k5aUahF1JCJUzZkgNEAqLfq8DDdQiyAprQAKSbu8hf',
    chain: 'BTC',
    testnet: false,
  },
  '33335fc0-2112-4c8a-b8bf-353b86f63333': {
    privateKey: 'b5a4cea271ff424d7c31dc12a3e43e401df7a40d7412a15750f3f0b6b5449a28',
    chain: 'TRON',
    testnet: false,
  },
  '44445fc0-2112-4c8a-b8bf-353b86f63444': {
    privateKey: '0xe01fea8a48e2854fdd0255c12b1d704967d9401f11c3f4980006ced8977574dc',
    chain: 'BSC',
    testnet: true,
  },
  '55555fc0-2112-4c8a-b8bf-353b86f63555': {
    address: 'rHb9CJAWyB4rj91VRWn96DkukG4bwdtyTh',
    secret: 'snoPBrXtMeMyMHUVTgbuqAfg1SUTb',
    chain: 'XRP',
    testnet: false,
  },
  '66665fc0-2112-4c8a-b8bf-353b86f63666': {
    mnemonic: MNEMONIC,
    address: 'B9sVeu4rJU12oUrUtzjc6BSNuEXdfvurZkdcaTVkP2LY',
    privateKey: 'osUVKh6rErsyutf8ny6d2zbrhC1bmEDW5RsPMcBdsK3z33USjyvg6HXYh7WhDUTKnmXbtxzjHfUj78FzsGvxbEp',
    chain: 'SOL',
    testnet: false,
  },
  // Tatum's EGLD wallets are the mnemonic alone (v1 generateEgldWallet).
  '77775fc0-2112-4c8a-b8bf-353b86f63777': { mnemonic: MNEMONIC, chain: 'EGLD', testnet: false },
};

describe('hardkms import-legacy: a Tatum wallet.dat moves into the hardware-backed store', () => {
  let env: Record<string, string>;
  let dir: string;
  let path: string;
  let legacyFile: string;
  const cli = (args: string[], extra: Record<string, string> = {}): Promise<CliResult> =>
    runCli([...args, '--path', path], { env: { ...env, ...extra } });

  beforeAll(async () => {
    const token = createTestToken('hardkms', { setProcessEnv: false });
    dir = mkdtempSync(join(tmpdir(), 'hardkms-legacy-'));
    path = join(dir, 'wallet.dat');
    legacyFile = join(dir, 'tatum-wallet.dat');
    // Written with the exact cipher of spec §5.1; openssl decrypts it, proving the format.
    writeFileSync(legacyFile, encryptLegacy(Buffer.from(JSON.stringify(TATUM_STORE)), Buffer.from(LEGACY_PASSWORD)));
    const viaOpenssl = execFileSync('openssl', [
      'enc',
      '-d',
      '-aes-256-cbc',
      '-md',
      'md5',
      '-a',
      '-A',
      '-pass',
      `pass:${LEGACY_PASSWORD}`,
      '-in',
      legacyFile,
    ]);
    expect(JSON.parse(viaOpenssl.toString())).toEqual(TATUM_STORE);
    env = { ...token.env, TATUM_KMS_PASSWORD: 'hardkms-vault-pass', HARDKMS_LEGACY_PASSWORD: LEGACY_PASSWORD };
    expect(
      (
        await runCli(['init', '--allow-password-mainnet', '--path', path], {
          env: { ...env, HARDKMS_TOKEN_PIN: TEST_PIN },
        })
      ).code,
    ).toBe(0);
  });

  it('refuses a wrong password clearly, importing nothing', async () => {
    const r = await cli(['import-legacy', legacyFile], { HARDKMS_LEGACY_PASSWORD: 'not-it' });
    expect(r.code).not.toBe(0);
    expect(r.error()).toMatchObject({
      code: 'LEGACY_WRONG_PASSWORD',
      error: 'Wrong password for the Tatum wallet file.',
    });
    expect(r.stderr).not.toContain('Malformed UTF-8');
    expect((await cli(['export'])).json()).toEqual({});
  });

  it('--dry-run counts per chain and kind and stores nothing', async () => {
    const r = await cli(['import-legacy', legacyFile, '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({
      dryRun: true,
      total: 8,
      imported: {
        ETH: { mnemonic: 1 },
        LTC: { mnemonic: 1 },
        BTC: { privateKey: 1 },
        TRON: { privateKey: 1 },
        XRP: { privateKey: 1 },
        SOL: { mnemonic: 1 },
        EGLD: { mnemonic: 1 },
      },
    });
    expect((await cli(['export'])).json()).toEqual({});
  });

  it('imports losslessly: export equals the original content, ids kept; a second import adds nothing', async () => {
    const r = await cli(['import-legacy', legacyFile]);
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ dryRun: false, total: 8, alreadyPresent: 0, exportOnly: 0 });
    expect((await cli(['export'])).json()).toEqual(TATUM_STORE);
    const again = await cli(['import-legacy', legacyFile]);
    expect(again.json()).toMatchObject({ alreadyPresent: 8, imported: {} });
    expect((await cli(['export'])).json()).toEqual(TATUM_STORE);
    // The imported private key lives in the token: Tatum's API ids keep resolving to the same addresses.
    expect((await cli(['getaddress', 'e3015fc0-2112-4c8a-b8bf-353b86f63ba5', '0'])).json()).toEqual({
      address: '0x9858effd232b4033e47d90003d41ec34ecaeda94',
    });
    // EGLD and SOL mnemonic wallets derive from the mnemonic (Tatum's golden values, spec §4.3).
    expect((await cli(['getaddress', '77775fc0-2112-4c8a-b8bf-353b86f63777', '0'])).json()).toEqual({
      address: 'erd1sqhjrtmsn5yjk6w85099p8v0ly0g8z9pxeqe5dvu5rlf2n7vq3vqytny9g',
    });
    expect((await cli(['getprivatekey', '77775fc0-2112-4c8a-b8bf-353b86f63777', '0'])).json()).toEqual({
      privateKey: '0eb89d816d68610683f209074af218d121a7c7db45d861fbdd959ec662b6404b',
    });
    expect((await cli(['getaddress', '66665fc0-2112-4c8a-b8bf-353b86f63666', '0'])).json()).toEqual({
      address: 'B9sVeu4rJU12oUrUtzjc6BSNuEXdfvurZkdcaTVkP2LY',
    });
  });

  it('refuses a wallet whose xpub does not match its mnemonic (a redirected deposit address), naming it', async () => {
    const tampered = {
      'aaaa5fc0-2112-4c8a-b8bf-353b86f6aaaa': {
        ...TATUM_STORE['e3015fc0-2112-4c8a-b8bf-353b86f63ba5'],
        xpub: getChainAdapter('ETH').xpubFromSeed(seed, true),
      },
    };
    const f = join(dir, 'tampered.dat');
    writeFileSync(f, encryptLegacy(Buffer.from(JSON.stringify(tampered)), Buffer.from(LEGACY_PASSWORD)));
    const r = await cli(['import-legacy', f]);
    expect(r.code).toBe(3);
    const summary = r.json() as { skipped: Array<{ signatureId: string; code: string; reason: string }> };
    expect(summary.skipped).toEqual([
      expect.objectContaining({ signatureId: 'aaaa5fc0-2112-4c8a-b8bf-353b86f6aaaa', code: 'LEGACY_XPUB_MISMATCH' }),
    ]);
    expect(summary.skipped[0]!.reason).toContain("'aaaa5fc0-2112-4c8a-b8bf-353b86f6aaaa'");
    expect((await cli(['getmanagedwallet', 'aaaa5fc0-2112-4c8a-b8bf-353b86f6aaaa'])).code).not.toBe(0);
  });

  it("refuses a SOL wallet whose privateKey is not index 0 of its mnemonic (Tatum's generated SOL wallets are), naming it", async () => {
    const sol = TATUM_STORE['66665fc0-2112-4c8a-b8bf-353b86f63666'];
    const tampered = {
      'bbbb5fc0-2112-4c8a-b8bf-353b86f6bbbb': {
        ...sol,
        privateKey: base58Encode(Keypair.fromSeed(new Uint8Array(32).fill(5)).secretKey),
      },
    };
    const f = join(dir, 'tampered-sol.dat');
    writeFileSync(f, encryptLegacy(Buffer.from(JSON.stringify(tampered)), Buffer.from(LEGACY_PASSWORD)));
    const r = await cli(['import-legacy', f]);
    expect(r.code).toBe(3);
    const summary = r.json() as { skipped: Array<{ signatureId: string; code: string }> };
    expect(summary.skipped).toEqual([
      expect.objectContaining({ signatureId: 'bbbb5fc0-2112-4c8a-b8bf-353b86f6bbbb', code: 'LEGACY_KEY_MISMATCH' }),
    ]);
  });

  it('never writes plaintext: no secret of the Tatum file is in wallet.dat or the audit log', () => {
    for (const f of [path, join(dir, 'audit.log')]) {
      const bytes = readFileSync(f);
      for (const s of [
        MNEMONIC,
        'L4p2b9VAf8k5aUahF1JCJUzZkgNEAqLfq8DDdQiyAprQAKSbu8hf',
        'b5a4cea271ff424d7c31dc12a3e43e40',
        'snoPBrXtMeMyMHUVTgbuqAfg1SUTb',
        'osUVKh6rErsyutf8ny6d2zbr',
      ]) {
        expect(bytes.includes(Buffer.from(s)), `${f} holds a secret`).toBe(false);
      }
    }
  });
});
