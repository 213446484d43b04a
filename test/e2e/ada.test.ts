/**
 * ADA end to end with the built CLI, a real SoftHSM2 token, the fake Tatum API and the fake
 * Cardano Rosetta behind Tatum's /v3/blockchain/node/cardano-preprod/{apiKey}: the wallet
 * commands keep Tatum's v2 cardano format ({mnemonic, xpub}, Tatum's own SDK vectors), ADA
 * private keys are refused (no token holds a BIP32-Ed25519 key) and kept for export only by
 * import-legacy, and the daemon signs through Rosetta's construction flow; a Rosetta node
 * that answers another transaction, or an error, reaches the error batch and nothing is
 * broadcast. The signed transactions are checked by cardano-serialization-lib.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import C from '@emurgo/cardano-serialization-lib-nodejs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encryptLegacy } from '../../src/vault/legacy-cipher-testing.js';
import { runCli } from '../support/cli.js';
import { cborEncode, decodeSignedEnvelope, FakeCardanoRosetta } from '../support/ada-rosetta.js';
import { FakeTatumApi } from '../../scripts/lib/tatum-api-server.js';
import { createTestVault, TEST_PASSWORD, type TestVault } from '../support/vault.js';
import { addMnemonic, explain, runDaemon } from './support.js';
import { tatumOps, TO, TXH } from '../support/ada-payloads.js';

// Tatum's SDK test mnemonic and its cardano wallet test's expectations (tatum-js v2).
const MNEMONIC =
  'kit erase harsh crawl taste rebel bus ocean traffic vast undo street patrol around network deputy wage usage aware void float snake baby sister';
const XPUB =
  'a6058635d8b12cbcfa4019dbb50c03807179dd62dfed792e74f380947061203b9fb72a5546ed22efc0798b4cc6fb33867fd209e350d101941807f3e7b5c1fe42';
const KEY0 =
  '8873d5e84af86978f03b63d9ffc9c6f940bd8501d32e91980c904e8d81c305507dc95992faa5aefccb263b28b411eda2dde7882d922742663804a69d78182e34';
const ADDR0 = 'addr_test1vzfp68vn36ze5yz7x7evracmasuptjmz99qk4j23gun3pcqhlevq5';
// Tatum's SDK operations (test/support/ada-payloads.ts) from ADDR0, its change back to ADDR0 after a 0.2 ADA fee.
function ops(value = '1000000'): string {
  const changeValue = String(10_000_000 - Number(value) - 200_000);
  return JSON.stringify(tatumOps({ from: ADDR0, value, changeValue }));
}

describe('ADA end to end', { timeout: 240_000 }, () => {
  let api: FakeTatumApi;
  let rosetta: FakeCardanoRosetta;
  let tv: TestVault;
  let hd: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    tv = await createTestVault({ testnetOnly: true });
    hd = addMnemonic(tv.vault, 'ADA', true, MNEMONIC);
    tv.vault.seal('test setup');
    rosetta = new FakeCardanoRosetta();
    api = await FakeTatumApi.start({ ada: rosetta });
    env = { ...tv.token.env, TATUM_KMS_PASSWORD: TEST_PASSWORD };
  });
  afterAll(async () => {
    await api?.stop();
  });

  const cli = (args: string[], input?: string) =>
    runCli([...args, '--path', tv.path], { env, ...(input === undefined ? {} : { input }) });
  const once = () => runDaemon(tv, api, ['--runOnce', '--testnet', '--chain', 'ADA']);
  const posted = (id: string) => api.broadcasts.find((b) => b.signatureId === id)?.txData;
  const errorOf = (id: string) => api.errorReports.filter((e) => e.signatureId === id).map((e) => e.error);

  it("keeps Tatum's v2 cardano wallet format: storemanagedwallet gives Tatum's xpub, getaddress and getprivatekey its index-0 address and key", async () => {
    const s = await cli(['storemanagedwallet', 'ADA', '--testnet'], `${MNEMONIC}\n`);
    expect(s.code, s.stderr).toBe(0);
    expect(s.stderr).not.toMatch(/does not sign/);
    const id = (s.json() as { signatureId: string; xpub: string }).signatureId;
    expect(s.json()).toEqual({ signatureId: id, xpub: XPUB });
    expect((await cli(['getaddress', id, '0'])).json()).toEqual({ address: ADDR0 });
    expect((await cli(['getprivatekey', id, '0'])).json()).toEqual({ privateKey: KEY0 });
    expect((await cli(['getmanagedwallet', id])).json()).toEqual({
      mnemonic: MNEMONIC,
      xpub: XPUB,
      chain: 'ADA',
      testnet: true,
    });
    const g = await cli(['generatemanagedwallet', 'ADA', '--testnet']);
    expect(g.code, g.stderr).toBe(0);
    const gen = g.json() as { signatureId: string; xpub: string };
    expect(gen.xpub).toMatch(/^[0-9a-f]{128}$/);
    const exported = (await cli(['export'])).json() as Record<string, Record<string, unknown>>;
    expect(Object.keys(exported[gen.signatureId]!)).toEqual(['mnemonic', 'xpub', 'chain', 'testnet']);
    // The address from the xpub is the library's enterprise address of the child key.
    const pub = C.Bip32PublicKey.from_hex(gen.xpub).derive(4).to_raw_key();
    const libAddr = C.EnterpriseAddress.new(0, C.Credential.from_keyhash(pub.hash())).to_address().to_bech32(undefined);
    expect((await cli(['getaddress', gen.signatureId, '4'])).json()).toEqual({ address: libAddr });
  });

  it('refuses ADA private keys (no token holds a BIP32-Ed25519 key) and a mnemonic Tatum could not read, with exit code 2 and nothing stored', async () => {
    const before = Object.keys((await cli(['export'])).json() as object).length;
    const sp = await cli(['storemanagedprivatekey', 'ADA', '--testnet'], `${KEY0}\n`);
    expect(sp.code).toBe(2);
    expect(sp.error().error).toMatch(/does not store ADA private keys/);
    const b = await cli(['generatemanagedprivatekeybatch', 'ADA', '2', '--testnet']);
    expect(b.code).toBe(2);
    expect(b.error().error).toMatch(/does not store ADA private keys/);
    const m = await cli(['storemanagedwallet', 'ADA', '--testnet'], `${MNEMONIC.toUpperCase()}\n`);
    expect(m.code).toBe(2);
    expect(m.error().error).toMatch(/exactly as BIP39 lists them/);
    expect(Object.keys((await cli(['export'])).json() as object)).toHaveLength(before);
  });

  it('import-legacy: an ADA mnemonic wallet is imported (its xpub checked), an ADA private-key entry is kept for export only', async () => {
    const file = join(dirname(tv.path), 'ada-legacy.dat');
    const plain = {
      'a1111111-0000-4000-8000-000000000001': { mnemonic: MNEMONIC, xpub: XPUB, chain: 'ADA', testnet: true },
      'a1111111-0000-4000-8000-000000000002': { privateKey: KEY0, chain: 'ADA', testnet: true },
    };
    writeFileSync(file, encryptLegacy(Buffer.from(JSON.stringify(plain)), Buffer.from('legacy-pass')));
    const r = await runCli(['import-legacy', file, '--path', tv.path], {
      env: { ...env, HARDKMS_LEGACY_PASSWORD: 'legacy-pass' },
    });
    expect(r.code, r.stderr).toBe(0);
    expect((await cli(['getaddress', 'a1111111-0000-4000-8000-000000000001', '0'])).json()).toEqual({ address: ADDR0 });
    expect((await cli(['getmanagedwallet', 'a1111111-0000-4000-8000-000000000002'])).json()).toEqual({
      privateKey: KEY0,
      chain: 'ADA',
      testnet: true,
    });
    const altered = {
      'a1111111-0000-4000-8000-000000000003': {
        mnemonic: MNEMONIC,
        xpub: XPUB.replace(/^a6/, 'a7'),
        chain: 'ADA',
        testnet: true,
      },
    };
    writeFileSync(file, encryptLegacy(Buffer.from(JSON.stringify(altered)), Buffer.from('legacy-pass')));
    const bad = await runCli(['import-legacy', file, '--path', tv.path], {
      env: { ...env, HARDKMS_LEGACY_PASSWORD: 'legacy-pass' },
    });
    expect(`${bad.stdout}${bad.stderr}`).toMatch(/LEGACY_XPUB_MISMATCH|not the one its mnemonic derives/);
    expect((await cli(['getmanagedwallet', 'a1111111-0000-4000-8000-000000000003'])).code).not.toBe(0);
  });

  it("signs through Tatum's Rosetta (preprocess, metadata, payloads, combine) and broadcasts the envelope; the library verifies the witness; a second cycle does not sign again", async () => {
    const id = api.queue({
      chain: 'ADA',
      hashes: [hd],
      signatures: [{ id: hd, index: 0 }],
      serializedTransaction: ops(),
    });
    const seen = rosetta.requests.length;
    const r = await once();
    expect(r.code, explain(r)).toBe(0);
    expect(rosetta.requests.slice(seen).map((q) => q.endpoint)).toEqual([
      'preprocess',
      'metadata',
      'payloads',
      'combine',
    ]);
    expect(api.requests.some((q) => q.path.startsWith('/v3/blockchain/node/cardano-preprod/'))).toBe(true);
    const tx = decodeSignedEnvelope(posted(id)!);
    const w = tx.witness_set().vkeys()!.get(0);
    expect(w.vkey().public_key().verify(tx.transaction_hash().to_bytes(), w.signature())).toBe(true);
    expect(w.vkey().public_key().hash().to_hex()).toBe(
      C.Address.from_bech32(ADDR0).payment_cred()!.to_keyhash()!.to_hex(),
    );
    expect(api.requests.filter((q) => q.path === '/v3/ada/broadcast')).toHaveLength(1);
    const again = rosetta.requests.length;
    await once();
    expect(rosetta.requests.length).toBe(again);
  });

  it('reports, through the error batch, a Rosetta node that answers another transaction or an error; nothing is broadcast', async () => {
    api.clearQueue();
    rosetta.tamper = (endpoint, answer) => {
      if (endpoint !== 'payloads') return answer;
      // A body paying the recipient more than the operations say, with the payload hash recomputed.
      const inputs = C.TransactionInputs.new();
      inputs.add(C.TransactionInput.new(C.TransactionHash.from_hex(TXH), 0));
      const outputs = C.TransactionOutputs.new();
      outputs.add(C.TransactionOutput.new(C.Address.from_bech32(TO), C.Value.new(C.BigNum.from_str('9000000'))));
      const body = C.TransactionBody.new(inputs, outputs, C.BigNum.from_str('1000000'), 50_001_000);
      const hash = C.FixedTransaction.new_from_body_bytes(body.to_bytes()).transaction_hash().to_hex();
      return {
        unsigned_transaction: cborEncode([body.to_hex(), {}]).toString('hex'),
        payloads: [{ account_identifier: { address: ADDR0 }, hex_bytes: hash, signature_type: 'ed25519' }],
      };
    };
    const lie = api.queue({
      chain: 'ADA',
      hashes: [hd],
      signatures: [{ id: hd, index: 0 }],
      serializedTransaction: ops('2000000'),
    });
    const r1 = await once();
    rosetta.tamper = undefined;
    expect(r1.code).not.toBe(0);
    expect(errorOf(lie)).toEqual([
      expect.stringMatching(
        /^TX_PAYLOAD_MISMATCH: ADA payload: the Rosetta node's unsigned transaction pays a fee of 1000000/,
      ),
    ]);
    api.clearQueue();
    rosetta.network = 'mainnet';
    const down = api.queue({
      chain: 'ADA',
      hashes: [hd],
      signatures: [{ id: hd, index: 0 }],
      serializedTransaction: ops('3000000'),
    });
    const r2 = await once();
    rosetta.network = 'preprod';
    expect(r2.code).not.toBe(0);
    expect(errorOf(down)).toEqual([expect.stringMatching(/No cardano-preprod node/)]);
    expect(posted(lie)).toBeUndefined();
    expect(posted(down)).toBeUndefined();
  });
});
