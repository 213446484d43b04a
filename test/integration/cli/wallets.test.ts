import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ecc from '@bitcoinerlab/secp256k1';
import { payments } from 'bitcoinjs-lib';
import { ECPairFactory } from 'ecpair';
import { BIP32Factory } from 'bip32';
import { mnemonicToSeedSync } from 'bip39';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../../support/cli.js';
import { createTestToken, TEST_PIN, type TestToken } from '../../support/softhsm.js';

const MNEMONIC = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';
const ETH_KEY0 = '0x1ab42cc412b618bdea3a599e3c9bae199ebf030895b039e9db1e30dafb12b727';
const BTC_KEY0 = 'L4p2b9VAf8k5aUahF1JCJUzZkgNEAqLfq8DDdQiyAprQAKSbu8hf';
const PASSWORD = 'Pw9fK3Zq7xLm2vQ8';

describe('Tatum-compatible wallet commands, as a process against SoftHSM2', () => {
  let token: TestToken;
  let dir: string;
  let path: string;
  let env: Record<string, string>;
  const cli = (args: string[], input?: string, extraEnv: Record<string, string> = {}): Promise<CliResult> =>
    runCli([...args, '--path', path], { env: { ...env, ...extraEnv }, ...(input !== undefined ? { input } : {}) });

  beforeAll(async () => {
    token = createTestToken('hardkms', { setProcessEnv: false });
    dir = mkdtempSync(join(tmpdir(), 'hardkms-wallets-'));
    path = join(dir, 'wallet.dat');
    env = { ...token.env, TATUM_KMS_PASSWORD: PASSWORD };
    const init = await runCli(['init', '--allow-password-mainnet', '--path', path], {
      env: { ...env, HARDKMS_TOKEN_PIN: TEST_PIN },
    });
    expect(init.code).toBe(0);
  });

  let ethId = '';
  it('storemanagedwallet reads the mnemonic on stdin and gives Tatum’s xpub; getaddress and getprivatekey match the golden vectors', async () => {
    const r = await cli(['storemanagedwallet', 'ETH'], `${MNEMONIC}\n`);
    expect(r.code).toBe(0);
    const out = r.json() as { signatureId: string; xpub: string };
    expect(out.signatureId).toMatch(/^[0-9a-f-]{36}$/);
    expect(out.xpub).toBe(
      'xpub6EF8jXqFeFEW5bwMU7RpQtHkzE4KJxcqJtvkCjJumzW8CPpacXkb92ek4WzLQXjL93HycJwTPUAcuNxCqFPKKU5m5Z2Vq4nCyh5CyPeBFFr',
    );
    ethId = out.signatureId;
    expect((await cli(['getaddress', ethId, '1'])).json()).toEqual({
      address: '0x6fac4d18c912343bf86fa7049364dd4e424ab9c0',
    });
    expect((await cli(['getprivatekey', ethId, '0'])).json()).toEqual({ privateKey: ETH_KEY0 });
    expect((await cli(['getmanagedwallet', ethId])).json()).toEqual({
      mnemonic: MNEMONIC,
      xpub: out.xpub,
      chain: 'ETH',
      testnet: false,
    });
  });

  it("accepts Tatum's shared flags on every command (--testnet first), kebab-case and --flag=value as Tatum users type them", async () => {
    for (const args of [
      ['getmanagedwallet', ethId, '--testnet'],
      ['getprivatekey', ethId, '0', '--testnet'],
      ['getaddress', ethId, '0', '--testnet', '--chain', 'ETH'],
      ['export', '--testnet', '--run-once', '--external-url=http://127.0.0.1:9/x', '--externalUrlMethod=post'],
      ['checkconfig', '--testnet', '--api-key=t-0123456789abcdef', '--period=5'],
      ['report', ethId, '--testnet', '--wallets', ethId],
    ]) {
      const r = await cli(args);
      expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(0);
      expect(r.stderr).not.toContain('unknown option');
    }
  });

  it('hardkms with no command prints its help on stdout and exits 0, as Tatum KMS does', async () => {
    const r = await runCli([], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: hardkms/);
    expect(r.stdout).toContain('getmanagedwallet');
  });

  it('testnet wallets use the testnet paths (BTC tb1 addresses)', async () => {
    const r = await cli(['storemanagedwallet', 'BTC', '--testnet'], `${MNEMONIC}\n`);
    const id = (r.json() as { signatureId: string }).signatureId;
    expect((await cli(['getaddress', id, '0'])).json()).toEqual({
      address: 'tb1q8gk5z3dy7zv9ywe7synlrk58elz4hrne29cpdj',
    });
  });

  it('generatemanagedwallet prints signatureId and xpub only', async () => {
    const r = await cli(['generatemanagedwallet', 'LTC']);
    expect(r.code).toBe(0);
    const out = r.json() as Record<string, string>;
    expect(Object.keys(out).sort()).toEqual(['signatureId', 'xpub']);
    expect(out.xpub).toMatch(/^Ltub/);
  });

  it('storemanagedprivatekey wraps the key in the token; export shows it back in Tatum’s format', async () => {
    const r = await cli(['storemanagedprivatekey', 'BTC'], `${BTC_KEY0}\n`);
    expect(r.code).toBe(0);
    const { signatureId } = r.json() as { signatureId: string };
    expect((await cli(['getmanagedwallet', signatureId])).json()).toEqual({
      privateKey: BTC_KEY0,
      chain: 'BTC',
      testnet: false,
    });
    const exported = (await cli(['export'])).json() as Record<string, Record<string, unknown>>;
    expect(exported[signatureId]).toEqual({ privateKey: BTC_KEY0, chain: 'BTC', testnet: false });
    expect(exported[ethId]).toMatchObject({ mnemonic: MNEMONIC, chain: 'ETH' });
  });

  it('generatemanagedprivatekeybatch prints one compact JSON line per key', async () => {
    const r = await cli(['generatemanagedprivatekeybatch', 'ETH', '3']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    for (const l of lines)
      expect(JSON.parse(l)).toEqual({
        signatureId: expect.stringMatching(/^[0-9a-f-]{36}$/),
        address: expect.stringMatching(/^0x[0-9a-f]{40}$/),
      });
  });

  it('generatemanagedprivatekeybatch BTC prints P2WPKH (bech32) addresses of the stored keys, as Tatum does', async () => {
    const r = await cli(['generatemanagedprivatekeybatch', 'BTC', '2']);
    expect(r.code).toBe(0);
    for (const l of r.stdout.trim().split('\n')) {
      const { signatureId, address } = JSON.parse(l) as { signatureId: string; address: string };
      expect(address).toMatch(/^bc1q[0-9a-z]{38}$/);
      const { privateKey } = (await cli(['getmanagedwallet', signatureId])).json() as { privateKey: string };
      const pub = ECPairFactory(ecc).fromWIF(privateKey).publicKey;
      expect(payments.p2wpkh({ pubkey: Uint8Array.from(pub) }).address).toBe(address);
    }
  });

  it('storemanagedwallet stores the mnemonic exactly as typed and derives from it as Tatum does, with a warning', async () => {
    const typed = ` Abandon  abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon ABOUT`;
    const r = await cli(['storemanagedwallet', 'BTC'], `${typed}\n`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/upper-case letters.*leading, trailing or repeated spaces.*exactly as typed/);
    // Tatum's bip39.mnemonicToSeed hashes the text as given (independent libraries here).
    const expected = BIP32Factory(ecc)
      .fromSeed(mnemonicToSeedSync(typed))
      .derivePath("m/44'/0'/0'/0")
      .neutered()
      .toBase58();
    const { signatureId, xpub } = r.json() as { signatureId: string; xpub: string };
    expect(xpub).toBe(expected);
    expect(((await cli(['getmanagedwallet', signatureId])).json() as { mnemonic: string }).mnemonic).toBe(typed);
  });

  it('storemanagedprivatekey keeps an uncompressed WIF as typed; its address is the uncompressed P2PKH one', async () => {
    const key = ECPairFactory(ecc).fromWIF(BTC_KEY0).privateKey!;
    const wif = ECPairFactory(ecc).fromPrivateKey(key, { compressed: false }).toWIF();
    const r = await cli(['storemanagedprivatekey', 'BTC'], `${wif}\n`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/uncompressed WIF/);
    const { signatureId } = r.json() as { signatureId: string };
    expect(((await cli(['getmanagedwallet', signatureId])).json() as { privateKey: string }).privateKey).toBe(wif);
    const uncompressedPub = ECPairFactory(ecc).fromPrivateKey(key, { compressed: false }).publicKey;
    expect(((await cli(['getaddress', signatureId, '0'])).json() as { address: string }).address).toBe(
      payments.p2pkh({ pubkey: uncompressedPub }).address,
    );
  });

  it('generatewallet prints a fresh mnemonic and xpub, storing nothing', async () => {
    const before = (await cli(['export'])).json() as Record<string, unknown>;
    const r = await cli(['generatewallet', 'BTC']);
    const out = r.json() as { mnemonic: string; xpub: string };
    expect(out.mnemonic.split(' ')).toHaveLength(24);
    expect(out.xpub).toMatch(/^xpub/);
    expect(Object.keys((await cli(['export'])).json() as object)).toEqual(Object.keys(before));
  });

  it('removewallet removes; the id is then unknown', async () => {
    const { signatureId } = (await cli(['storemanagedprivatekey', 'ETH'], `${ETH_KEY0}\n`)).json() as {
      signatureId: string;
    };
    expect((await cli(['removewallet', signatureId])).code).toBe(0);
    const r = await cli(['getmanagedwallet', signatureId]);
    expect(r.code).not.toBe(0);
    expect(r.error()).toMatchObject({
      error: `No such wallet for signatureId '${signatureId}'.`,
      code: 'WALLET_NOT_FOUND',
    });
  });

  it('report and checkconfig never show a character of a secret', async () => {
    const r = await cli(['report', `${ethId},missing-id`]);
    expect(r.json()).toMatchObject({
      wallets: { [ethId]: { type: 'MNEMONIC', chain: 'ETH', testnet: false } },
      warnings: expect.arrayContaining(["No such wallet for signatureId 'missing-id'."]),
    });
    const c = await cli(['checkconfig'], undefined, { TATUM_API_KEY: 'Ak7Qz9Xw3Rt5Yp1U' });
    expect(c.stdout).toContain('TATUM_KMS_PASSWORD: set (hidden)');
    expect(c.stdout).toContain('TATUM_API_KEY: set (hidden)');
    // Tatum shows the first six characters; we show none: no 4-character piece of either secret appears.
    for (const secret of [PASSWORD, 'Ak7Qz9Xw3Rt5Yp1U']) {
      for (let i = 0; i + 4 <= secret.length; i++) expect(c.stdout + r.stdout).not.toContain(secret.slice(i, i + 4));
    }
  });

  const errors: Array<[string, string[], string | undefined, string, RegExp]> = [
    [
      'an unknown chain',
      ['generatemanagedwallet', 'FOO'],
      undefined,
      'UNSUPPORTED_CHAIN',
      /^Unsupported chain 'FOO'\. Unsupported blockchain\.$/,
    ],
    [
      'an unknown signature id',
      ['getaddress', 'no-such-id', '0'],
      undefined,
      'WALLET_NOT_FOUND',
      /^No such wallet for signatureId 'no-such-id'\.$/,
    ],
    [
      'a mnemonic with a bad checksum',
      ['storemanagedwallet', 'ETH'],
      `${MNEMONIC.replace(/about$/, 'abandon')}\n`,
      'INVALID_INPUT',
      /checksum/i,
    ],
    [
      'a mnemonic with an unknown word',
      ['storemanagedwallet', 'ETH'],
      `${MNEMONIC.replace(/^abandon/, 'abandonn')}\n`,
      'INVALID_INPUT',
      /word 1/i,
    ],
    [
      'a private key out of range',
      ['storemanagedprivatekey', 'ETH'],
      `0x${'f'.repeat(64)}\n`,
      'INVALID_INPUT',
      /range/i,
    ],
    // WIF of the other network is accepted (Tatum's signer took it); WIF of another chain is not.
    [
      'a WIF of another chain',
      ['storemanagedprivatekey', 'BTC', '--testnet'],
      'T5b4RiWRs7XG8xZ2bCHBoJcn4JrpMTbGRFYXgoZHd7nD8izwqhMK\n',
      'INVALID_INPUT',
      /version byte 0xb0, which BTC does not use/i,
    ],
    ['no secret on stdin', ['storemanagedprivatekey', 'ETH'], '', 'INVALID_INPUT', /^No private key was given\.$/],
    ['a bad index', ['getaddress', 'x', '-1'], undefined, 'INVALID_INPUT', /index '-1'/],
  ];
  for (const [what, args, input, code, text] of errors) {
    it(`refuses ${what} with a clear error and a non-zero exit`, async () => {
      const before = readFileSync(path);
      const r = await cli(args, input);
      expect(r.code).not.toBe(0);
      expect(r.error().code).toBe(code);
      expect(r.error().error).toMatch(text);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(readFileSync(path).length).toBe(before.length);
    });
  }

  it('a private-key wallet asked for an index is refused in clear words', async () => {
    const { signatureId } = (await cli(['storemanagedprivatekey', 'ETH'], `${ETH_KEY0}\n`)).json() as {
      signatureId: string;
    };
    const r = await cli(['getprivatekey', signatureId, '3']);
    expect(r.code).not.toBe(0);
    expect(r.error().error).toMatch(/holds a single private key, not a mnemonic/);
  });

  it('the wrong password is refused, nothing changes, and the attempt is audited', async () => {
    const before = readFileSync(path);
    const r = await cli(['export'], undefined, { TATUM_KMS_PASSWORD: 'not the password' });
    expect(r.code).not.toBe(0);
    expect(r.error()).toMatchObject({ error: 'Wrong password.', code: 'WRONG_PASSWORD' });
    expect(r.stdout).toBe('');
    expect(before.length).toBeGreaterThan(0);
    const log = readFileSync(join(dir, 'audit.log'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; result: string });
    expect(log.at(-1)).toMatchObject({ event: 'unseal', result: 'fail' });
  });

  it('secret-printing commands are audited; afterwards no file holds a secret in clear', async () => {
    const log = readFileSync(join(dir, 'audit.log'), 'utf8');
    expect(log).toContain('"command":"getmanagedwallet"');
    expect(log).toContain('"command":"getprivatekey"');
    expect(log).toContain('"command":"export"');
    const needles = [MNEMONIC, ETH_KEY0.slice(2), BTC_KEY0, 'abandon abandon'];
    const files = [
      ...readdirSync(dir).map((f) => join(dir, f)),
      ...readdirSync(token.tokenDir, { recursive: true }).map((f) => join(token.tokenDir, String(f))),
    ];
    for (const f of files) {
      let bytes: Buffer;
      try {
        bytes = readFileSync(f);
      } catch {
        continue; // directories
      }
      for (const n of needles) expect(bytes.includes(Buffer.from(n)), `${f} holds a secret`).toBe(false);
    }
  });
});
