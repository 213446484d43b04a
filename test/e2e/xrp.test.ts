/**
 * XRP end to end with the built CLI, a real SoftHSM2 token and the fake Tatum API: wallet
 * commands in Tatum's formats (sEd… seeds generated from the token's RNG, s… and sEd…
 * seeds imported, their signing keys in the token), and the daemon signing Tatum's
 * autofilled Payment JSON in the token (CKM_EDDSA for ed25519, ECDSA for secp256k1) and
 * broadcasting tx_blob through /v3/xrp/broadcast. Each blob is decoded by
 * ripple-binary-codec and its signature verified by ripple-keypairs for the Account.
 * Refusals (another account, a wallet of another chain, malformed JSON) reach the error batch.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keypair } from '@stellar/stellar-base';
import { decode, encodeForSigning } from 'ripple-binary-codec';
import { deriveKeypair, verify as rippleVerify } from 'ripple-keypairs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chainKit } from '../../src/chains/kit.js';
import { xrpTxHash } from '../../src/chains/xrp/sign.js';
import { encryptLegacy } from '../../src/vault/legacy-cipher-testing.js';
import { prepareImportedPrivateKey } from '../../src/vault/tatum-wallets.js';
import { runCli } from '../support/cli.js';
import { FakeTatumApi } from '../../scripts/lib/tatum-api-server.js';
import { createTestVault, TEST_PASSWORD, type TestVault } from '../support/vault.js';
import { addressOf, ED_SEED, SECP_ADDRESS, SECP_SEED, xrpPayment } from '../support/xrp.js';
import { addPrivateKey, explain, runDaemon, testKey } from './support.js';

const ISSUER = 'rUCzEr6jrEyMpjhs4wSdQdz4g8Y382NxfM';

function verifyBlob(blob: string, account: string): Record<string, unknown> {
  const tx = decode(blob) as Record<string, string>;
  expect(tx.Account).toBe(account);
  expect(rippleVerify(encodeForSigning(tx), tx.TxnSignature!, tx.SigningPubKey!)).toBe(true);
  return tx;
}

describe('XRP end to end', { timeout: 240_000 }, () => {
  let api: FakeTatumApi;
  let tv: TestVault;
  let ed: string;
  let secp: string;
  let eth: string;
  let xlmLike: string;
  let env: Record<string, string>;
  const cli = (args: string[], input?: string) =>
    runCli([...args, '--path', tv.path], { env, ...(input === undefined ? {} : { input }) });

  beforeAll(async () => {
    tv = await createTestVault({ testnetOnly: true });
    const rows = [ED_SEED, SECP_SEED].map((s) => prepareImportedPrivateKey(tv.vault, chainKit('XRP'), true, s));
    const xlm = prepareImportedPrivateKey(
      tv.vault,
      chainKit('XLM'),
      true,
      Keypair.fromRawEd25519Seed(Buffer.alloc(32, 7)).secret(),
    );
    tv.vault.store.addEntries([...rows, xlm]);
    [ed, secp] = rows.map((r) => r.signatureId) as [string, string];
    xlmLike = xlm.signatureId;
    eth = addPrivateKey(tv.vault, 'ETH', true, testKey(0x42));
    tv.vault.seal('test setup');
    api = await FakeTatumApi.start();
    env = { ...tv.token.env, TATUM_KMS_PASSWORD: TEST_PASSWORD };
  });
  afterAll(async () => {
    await api?.stop();
  });

  const once = () => runDaemon(tv, api, ['--runOnce', '--testnet', '--chain', 'XRP']);
  const errorOf = (id: string) => api.errorReports.filter((e) => e.signatureId === id).map((e) => e.error);
  const blobOf = (id: string) => api.broadcasts.find((b) => b.signatureId === id)?.txData;

  it('signs Payments with an ed25519 and a secp256k1 seed in the token; native, tags and an issued currency', async () => {
    const native = api.queue({
      chain: 'XRP',
      hashes: [ed],
      serializedTransaction: xrpPayment(addressOf(ED_SEED), { SourceTag: 1, DestinationTag: 4294967295 }),
    });
    const token = api.queue({
      chain: 'XRP',
      hashes: [secp],
      serializedTransaction: xrpPayment(SECP_ADDRESS, { Amount: { currency: 'USD', value: '2.5', issuer: ISSUER } }),
    });
    const r = await once();
    expect(r.code, explain(r)).toBe(0);
    expect(
      api.requests.some(
        (q) => q.path === '/v3/xrp/broadcast' && (q.json as { signatureId?: string }).signatureId === native,
      ),
    ).toBe(true);
    const a = verifyBlob(blobOf(native)!, addressOf(ED_SEED));
    expect(a).toMatchObject({
      Amount: '1000000',
      SourceTag: 1,
      DestinationTag: 4294967295,
      SigningPubKey: deriveKeypair(ED_SEED).publicKey,
    });
    const b = verifyBlob(blobOf(token)!, SECP_ADDRESS);
    expect(b).toMatchObject({
      Amount: { currency: 'USD', value: '2.5', issuer: ISSUER },
      SigningPubKey: deriveKeypair(SECP_SEED).publicKey,
    });
    // The fake answers the ledger's transaction id; the journal keeps it.
    expect(api.broadcasts.find((x) => x.signatureId === native)?.txId).toBe(xrpTxHash(blobOf(native)!));
  });

  it('ed25519 signatures made in the token are deterministic: the same payload signs to the same bytes', async () => {
    const st = xrpPayment(addressOf(ED_SEED), { Amount: '77' });
    const first = api.queue({ chain: 'XRP', hashes: [ed], serializedTransaction: st });
    const second = api.queue({ chain: 'XRP', hashes: [ed], serializedTransaction: st });
    const r = await once();
    expect(r.code, explain(r)).toBe(0);
    expect(blobOf(first)).toBeDefined();
    expect(blobOf(second)).toBe(blobOf(first));
  });

  it('refuses, through the error batch: another Account, a wallet of another chain, an XLM key, malformed JSON, a partial payment', async () => {
    const other = api.queue({ chain: 'XRP', hashes: [ed], serializedTransaction: xrpPayment(SECP_ADDRESS) });
    const ethWallet = api.queue({ chain: 'XRP', hashes: [eth, ed], serializedTransaction: xrpPayment(SECP_ADDRESS) });
    const xlmWallet = api.queue({
      chain: 'XRP',
      hashes: [xlmLike, ed],
      serializedTransaction: xrpPayment(addressOf(ED_SEED)),
    });
    const garbage = api.queue({ chain: 'XRP', hashes: [ed], serializedTransaction: '{"Account": "r' });
    const partial = api.queue({
      chain: 'XRP',
      hashes: [ed],
      serializedTransaction: xrpPayment(addressOf(ED_SEED), { Flags: 0x00020000 }),
    });
    const r = await once();
    expect(r.code).not.toBe(0);
    expect(errorOf(other)).toEqual([
      expect.stringMatching(/^TX_PAYLOAD_MISMATCH: XRP payload: Account r\w+ is not the signing wallet's address/),
    ]);
    expect(errorOf(ethWallet)).toEqual([
      expect.stringMatching(/^TX_KEY_NOT_RESOLVED: wallet .* is a ETH wallet; it does not sign XRP transactions/),
    ]);
    expect(errorOf(xlmWallet)).toEqual([
      expect.stringMatching(/^TX_KEY_NOT_RESOLVED: wallet .* is a XLM wallet; it does not sign XRP transactions/),
    ]);
    expect(errorOf(garbage)).toEqual([
      expect.stringMatching(/^TX_PAYLOAD_INVALID: XRP payload: serializedTransaction is not valid JSON/),
    ]);
    expect(errorOf(partial)).toEqual([
      expect.stringMatching(
        /^TX_PAYLOAD_UNSUPPORTED: XRP payload: Payment Flags 131072 are not signed \(a partial payment/,
      ),
    ]);
    for (const id of [other, ethWallet, xlmWallet, garbage, partial]) expect(blobOf(id)).toBeUndefined();
  });

  it("wallet commands in Tatum's formats: generate (sEd…), getmanagedwallet, getaddress, getprivatekey, store s…, export, generatewallet", async () => {
    const g = await cli(['generatemanagedwallet', 'XRP', '--testnet']);
    expect(g.code, g.stderr).toBe(0);
    const gen = g.json() as { signatureId: string; address: string };
    expect(Object.keys(gen)).toEqual(['signatureId', 'address']);
    expect(g.stderr).not.toMatch(/does not sign/);
    const view = (await cli(['getmanagedwallet', gen.signatureId])).json() as Record<string, unknown>;
    expect(Object.keys(view).sort()).toEqual(['address', 'chain', 'secret', 'testnet']);
    expect(view.secret).toMatch(/^sEd/);
    expect(addressOf(view.secret as string)).toBe(gen.address);
    expect((await cli(['getaddress', gen.signatureId, '3'])).json()).toEqual({ address: gen.address });
    expect((await cli(['getprivatekey', gen.signatureId, '0'])).json()).toEqual({ privateKey: view.secret });

    // A generated wallet signs in the daemon too.
    const id = api.queue({ chain: 'XRP', hashes: [gen.signatureId], serializedTransaction: xrpPayment(gen.address) });
    const r = await once();
    expect(blobOf(id), explain(r)).toBeDefined();
    verifyBlob(blobOf(id)!, gen.address);

    const s = await cli(['storemanagedprivatekey', 'XRP', '--testnet'], `${SECP_SEED}\n`);
    expect(s.code, s.stderr).toBe(0);
    const stored = (s.json() as { signatureId: string }).signatureId;
    expect((await cli(['getaddress', stored, '0'])).json()).toEqual({ address: SECP_ADDRESS });
    const exp = (await cli(['export'])).json() as Record<string, Record<string, unknown>>;
    expect(exp[stored]).toEqual({ privateKey: SECP_SEED, chain: 'XRP', testnet: true });
    expect(exp[ed]).toEqual({ privateKey: ED_SEED, chain: 'XRP', testnet: true });

    const hex = await cli(['storemanagedprivatekey', 'XRP', '--testnet'], `${'ab'.repeat(32)}\n`);
    expect(hex.code).not.toBe(0);
    expect(hex.error().error).toMatch(/hex private key; an XRP wallet secret is a family seed/);
    const mn = await cli(['storemanagedwallet', 'XRP', '--testnet'], 'abandon abandon abandon\n');
    expect(mn.error().error).toMatch(/XRP wallets are a single key, not a mnemonic/);

    // Batch keys are sEd… seeds too, one JSON line each, and each signs for its address.
    const batch = await cli(['generatemanagedprivatekeybatch', 'XRP', '2', '--testnet']);
    expect(batch.code, batch.stderr).toBe(0);
    const lines = batch.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { signatureId: string; address: string });
    expect(lines).toHaveLength(2);
    for (const l of lines) {
      const w = (await cli(['getmanagedwallet', l.signatureId])).json() as Record<string, string>;
      expect(w.privateKey ?? w.secret).toMatch(/^sEd/);
      expect(addressOf(w.privateKey ?? w.secret!)).toBe(l.address);
    }

    const echo = await cli(['generatewallet', 'XRP', '--testnet']);
    expect(echo.code, echo.stderr).toBe(0);
    const w = echo.json() as { address: string; secret: string };
    expect(Object.keys(w)).toEqual(['address', 'secret']);
    expect(addressOf(w.secret)).toBe(w.address);
  });

  it('import-legacy moves XRP {address, secret} into the token; an altered address is refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hardkms-xrp-legacy-'));
    const good = {
      'cccc5fc0-2112-4c8a-b8bf-353b86f6cccc': {
        address: addressOf('shHM53KPZ87Gwdqarm1bAmPeXg8Tn'),
        secret: 'shHM53KPZ87Gwdqarm1bAmPeXg8Tn',
        chain: 'XRP',
        testnet: true,
      },
    };
    const file = join(dir, 'tatum.dat');
    writeFileSync(file, encryptLegacy(Buffer.from(JSON.stringify(good)), Buffer.from('legacy-pass')));
    const r = await runCli(['import-legacy', file, '--path', tv.path], {
      env: { ...env, HARDKMS_LEGACY_PASSWORD: 'legacy-pass' },
    });
    expect(r.code, r.stderr).toBe(0);
    expect((await cli(['getmanagedwallet', 'cccc5fc0-2112-4c8a-b8bf-353b86f6cccc'])).json()).toEqual(
      good['cccc5fc0-2112-4c8a-b8bf-353b86f6cccc'],
    );

    const altered = {
      'dddd5fc0-2112-4c8a-b8bf-353b86f6dddd': { address: SECP_ADDRESS, secret: ED_SEED, chain: 'XRP', testnet: true },
    };
    writeFileSync(file, encryptLegacy(Buffer.from(JSON.stringify(altered)), Buffer.from('legacy-pass')));
    const bad = await runCli(['import-legacy', file, '--path', tv.path], {
      env: { ...env, HARDKMS_LEGACY_PASSWORD: 'legacy-pass' },
    });
    // The wallet is skipped and named (exit 3); nothing of it is stored.
    expect(bad.code).toBe(3);
    expect((bad.json() as { skipped: unknown[] }).skipped).toEqual([
      expect.objectContaining({ signatureId: 'dddd5fc0-2112-4c8a-b8bf-353b86f6dddd', code: 'LEGACY_ADDRESS_MISMATCH' }),
    ]);
    expect((await cli(['getaddress', 'dddd5fc0-2112-4c8a-b8bf-353b86f6dddd', '0'])).code).not.toBe(0);
  });
});
