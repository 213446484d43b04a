/**
 * XLM end to end with the built CLI, a real SoftHSM2 token and the fake Tatum API: wallet
 * commands in Tatum's formats (generated in the token, S… secrets imported into it,
 * import-legacy), and the daemon signing in the token (CKM_EDDSA) and broadcasting through
 * /v3/xlm/broadcast; each signed envelope parsed by @stellar/stellar-base and its signature
 * verified for the source account. Refusals reach the error batch.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519';
import {
  Asset,
  Keypair,
  Networks,
  Operation,
  StrKey,
  TransactionBuilder,
  type Transaction,
} from '@stellar/stellar-base';
import algosdk from 'algosdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chainKit } from '../../src/chains/kit.js';
import { encryptLegacy } from '../../src/vault/legacy-cipher-testing.js';
import { prepareImportedPrivateKey } from '../../src/vault/tatum-wallets.js';
import { runCli } from '../support/cli.js';
import { FakeTatumApi } from '../../scripts/lib/tatum-api-server.js';
import { createTestVault, TEST_PASSWORD, type TestVault } from '../support/vault.js';
import { xlmEnvelope } from '../support/xlm.js';
import { addPrivateKey, explain, runDaemon, testKey } from './support.js';

const SEED = Buffer.alloc(32, 7); // the default source account of xlmEnvelope()
const ME = Keypair.fromRawEd25519Seed(SEED);
const DEST = Keypair.fromRawEd25519Seed(Buffer.alloc(32, 9)).publicKey();
const VICTIM = Keypair.fromRawEd25519Seed(Buffer.alloc(32, 0x55));

describe('XLM end to end', { timeout: 240_000 }, () => {
  let api: FakeTatumApi;
  let tv: TestVault;
  let xlm: string;
  let eth: string;
  let env: Record<string, string>;
  const cli = (args: string[], input?: string) =>
    runCli([...args, '--path', tv.path], { env, ...(input === undefined ? {} : { input }) });

  beforeAll(async () => {
    tv = await createTestVault({ testnetOnly: true });
    const row = prepareImportedPrivateKey(tv.vault, chainKit('XLM'), true, ME.secret());
    tv.vault.store.addEntries([row]);
    xlm = row.signatureId;
    eth = addPrivateKey(tv.vault, 'ETH', true, testKey(0x42));
    tv.vault.seal('test setup');
    api = await FakeTatumApi.start();
    env = { ...tv.token.env, TATUM_KMS_PASSWORD: TEST_PASSWORD };
  });
  afterAll(async () => {
    await api?.stop();
  });

  const once = () => runDaemon(tv, api, ['--runOnce', '--testnet', '--chain', 'XLM']);
  const errorOf = (id: string) => api.errorReports.filter((e) => e.signatureId === id).map((e) => e.error);

  it('signs a payment in the token and broadcasts the envelope; Stellar verifies the signature for the source account', async () => {
    const st = xlmEnvelope(Operation.payment({ destination: DEST, asset: Asset.native(), amount: '3.25' }));
    const id = api.queue({ chain: 'XLM', hashes: [xlm], serializedTransaction: st });
    const r = await once();
    expect(r.code, explain(r)).toBe(0);
    const b = api.broadcasts.find((x) => x.signatureId === id);
    expect(b?.chain).toBe('XLM');
    expect(
      api.requests.some(
        (q) => q.path === '/v3/xlm/broadcast' && (q.json as { signatureId?: string }).signatureId === id,
      ),
    ).toBe(true);
    const tx = TransactionBuilder.fromXDR(b!.txData, Networks.TESTNET) as Transaction;
    expect(tx.source).toBe(ME.publicKey());
    expect(tx.signatures).toHaveLength(1);
    expect(ME.verify(tx.hash(), tx.signatures[0]!.signature())).toBe(true);
    // Deterministic: the token's signature is RFC 8032's.
    expect(Buffer.from(tx.signatures[0]!.signature())).toEqual(Buffer.from(ed25519.sign(tx.hash(), SEED)));
    expect(tx.operations[0]).toMatchObject({ type: 'payment', destination: DEST, amount: '3.2500000' });
  });

  it('refuses, through the error batch: another source account, an already-signed envelope, a secp256k1 wallet', async () => {
    const fromVictim = api.queue({
      chain: 'XLM',
      hashes: [xlm],
      serializedTransaction: xlmEnvelope(Operation.payment({ destination: DEST, asset: Asset.native(), amount: '1' }), {
        source: VICTIM.publicKey(),
      }),
    });
    const signedTx = TransactionBuilder.fromXDR(
      xlmEnvelope(Operation.payment({ destination: DEST, asset: Asset.native(), amount: '1' })),
      Networks.TESTNET,
    );
    signedTx.sign(VICTIM);
    const already = api.queue({
      chain: 'XLM',
      hashes: [xlm],
      serializedTransaction: signedTx.toEnvelope().toXDR('base64'),
    });
    const wrongKind = api.queue({
      chain: 'XLM',
      hashes: [eth, xlm],
      serializedTransaction: xlmEnvelope(Operation.payment({ destination: DEST, asset: Asset.native(), amount: '1' })),
    });
    const r = await once();
    expect(r.code).not.toBe(0);
    expect(errorOf(fromVictim)).toEqual([
      expect.stringMatching(
        /^TX_PAYLOAD_MISMATCH: XLM payload: the source account G\w+ is not the signing wallet's account/,
      ),
    ]);
    expect(errorOf(already)).toEqual([
      expect.stringMatching(/^TX_PAYLOAD_UNSUPPORTED: XLM payload: the envelope already carries 1 signature/),
    ]);
    expect(errorOf(wrongKind)).toEqual([expect.stringMatching(/^TX_KEY_NOT_RESOLVED: .*is not an ed25519 key wallet/)]);
    for (const id of [fromVictim, already, wrongKind])
      expect(api.broadcasts.some((b) => b.signatureId === id)).toBe(false);
  });

  it("wallet commands in Tatum's formats: generate in the token, getmanagedwallet, getaddress, getprivatekey, store, export", async () => {
    const g = await cli(['generatemanagedwallet', 'XLM', '--testnet']);
    expect(g.code, g.stderr).toBe(0);
    const gen = g.json() as { signatureId: string; address: string };
    expect(Object.keys(gen)).toEqual(['signatureId', 'address']);
    expect(StrKey.isValidEd25519PublicKey(gen.address)).toBe(true);
    expect(g.stderr).not.toMatch(/does not sign/);

    const w = await cli(['getmanagedwallet', gen.signatureId]);
    expect(w.code, w.stderr).toBe(0);
    const view = w.json() as Record<string, unknown>;
    expect(Object.keys(view).sort()).toEqual(['address', 'chain', 'secret', 'testnet']);
    expect(Keypair.fromSecret(view.secret as string).publicKey()).toBe(gen.address);
    expect(view).toMatchObject({ address: gen.address, chain: 'XLM', testnet: true });
    expect((await cli(['getaddress', gen.signatureId, '5'])).json()).toEqual({ address: gen.address });
    expect((await cli(['getprivatekey', gen.signatureId, '0'])).json()).toEqual({ privateKey: view.secret });

    const other = Keypair.random();
    const s = await cli(['storemanagedprivatekey', 'XLM', '--testnet'], `${other.secret()}\n`);
    expect(s.code, s.stderr).toBe(0);
    const stored = (s.json() as { signatureId: string }).signatureId;
    const exp = (await cli(['export'])).json() as Record<string, Record<string, unknown>>;
    expect(exp[stored]).toEqual({ privateKey: other.secret(), chain: 'XLM', testnet: true });
    expect(exp[xlm]).toEqual({ privateKey: ME.secret(), chain: 'XLM', testnet: true });

    const bad = await cli(['storemanagedprivatekey', 'XLM', '--testnet'], `${other.publicKey()}\n`);
    expect(bad.code).not.toBe(0);
    expect(bad.error().error).toMatch(/XLM secret is 56 characters: S/);
    const mn = await cli(['storemanagedwallet', 'XLM', '--testnet'], 'abandon abandon abandon\n');
    expect(mn.code).not.toBe(0);
    expect(mn.error().error).toMatch(/XLM wallets are a single key, not a mnemonic/);
  });

  it('a generated wallet signs in the daemon too', async () => {
    const g = (await cli(['generatemanagedwallet', 'XLM', '--testnet'])).json() as {
      signatureId: string;
      address: string;
    };
    const id = api.queue({
      chain: 'XLM',
      hashes: [g.signatureId],
      serializedTransaction: xlmEnvelope(Operation.createAccount({ destination: DEST, startingBalance: '2' }), {
        source: g.address,
      }),
    });
    const r = await once();
    expect(
      api.broadcasts.some((b) => b.signatureId === id),
      explain(r),
    ).toBe(true);
    const tx = TransactionBuilder.fromXDR(
      api.broadcasts.find((b) => b.signatureId === id)!.txData,
      Networks.TESTNET,
    ) as Transaction;
    expect(Keypair.fromPublicKey(g.address).verify(tx.hash(), tx.signatures[0]!.signature())).toBe(true);
  });

  it('ALGO secrets round-trip: algosdk account in, same base32 secret and address out', async () => {
    const acct = algosdk.generateAccount();
    const secret = Buffer.from(acct.sk).toString('base64'); // not Tatum's form: refused
    const refused = await cli(['storemanagedprivatekey', 'ALGO', '--testnet'], `${secret}\n`);
    expect(refused.code).not.toBe(0);
    const b32 = base32(acct.sk);
    const s = await cli(['storemanagedprivatekey', 'ALGO', '--testnet'], `${b32}\n`);
    expect(s.code, s.stderr).toBe(0);
    expect(s.stderr).not.toMatch(/does not sign/);
    const id = (s.json() as { signatureId: string }).signatureId;
    expect((await cli(['getaddress', id, '0'])).json()).toEqual({ address: acct.addr.toString() });
    expect(((await cli(['getmanagedwallet', id])).json() as { privateKey: string }).privateKey).toBe(b32);
  });

  it('import-legacy moves XLM {address, secret} into the token; an altered address is refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hardkms-xlm-legacy-'));
    const kp = Keypair.random();
    const good = {
      'aaaa5fc0-2112-4c8a-b8bf-353b86f6aaaa': {
        address: kp.publicKey(),
        secret: kp.secret(),
        chain: 'XLM',
        testnet: true,
      },
    };
    const file = join(dir, 'tatum.dat');
    writeFileSync(file, encryptLegacy(Buffer.from(JSON.stringify(good)), Buffer.from('legacy-pass')));
    const r = await runCli(['import-legacy', file, '--path', tv.path], {
      env: { ...env, HARDKMS_LEGACY_PASSWORD: 'legacy-pass' },
    });
    expect(r.code, r.stderr).toBe(0);
    const view = (await cli(['getmanagedwallet', 'aaaa5fc0-2112-4c8a-b8bf-353b86f6aaaa'])).json();
    expect(view).toEqual(good['aaaa5fc0-2112-4c8a-b8bf-353b86f6aaaa']);

    const altered = {
      'bbbb5fc0-2112-4c8a-b8bf-353b86f6bbbb': {
        address: VICTIM.publicKey(),
        secret: Keypair.random().secret(),
        chain: 'XLM',
        testnet: true,
      },
    };
    writeFileSync(file, encryptLegacy(Buffer.from(JSON.stringify(altered)), Buffer.from('legacy-pass')));
    const bad = await runCli(['import-legacy', file, '--path', tv.path], {
      env: { ...env, HARDKMS_LEGACY_PASSWORD: 'legacy-pass' },
    });
    // The wallet is skipped and named (exit 3); nothing of it is stored.
    expect(bad.code).toBe(3);
    expect((bad.json() as { skipped: unknown[] }).skipped).toEqual([
      expect.objectContaining({ signatureId: 'bbbb5fc0-2112-4c8a-b8bf-353b86f6bbbb', code: 'LEGACY_ADDRESS_MISMATCH' }),
    ]);
    expect((await cli(['getaddress', 'bbbb5fc0-2112-4c8a-b8bf-353b86f6bbbb', '0'])).code).not.toBe(0);
  });
});

function base32(bytes: Uint8Array): string {
  const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let out = '';
  let bits = 0;
  let v = 0;
  for (const b of bytes) {
    v = ((v << 8) | b) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += A[(v >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return bits > 0 ? out + A[(v << (5 - bits)) & 31] : out;
}
