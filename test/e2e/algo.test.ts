/**
 * ALGO end to end with the built CLI, a real SoftHSM2 token and the fake Tatum API: the
 * daemon signs Tatum's algosdk-1.16 JSON (payment and ASA transfer) in the token
 * (CKM_EDDSA) and broadcasts the msgpack hex through /v3/algorand/broadcast; algosdk
 * decodes each one and its signature verifies for the sender. A wallet generated in the
 * token signs too; refusals (another sender, the other network) reach the error batch.
 */
import { ed25519 } from '@noble/curves/ed25519';
import algosdk from 'algosdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chainKit } from '../../src/chains/kit.js';
import { prepareImportedPrivateKey } from '../../src/vault/tatum-wallets.js';
import { runCli } from '../support/cli.js';
import { algoPayload } from '../support/algo.js';
import { FakeTatumApi } from '../../scripts/lib/tatum-api-server.js';
import { createTestVault, TEST_PASSWORD, type TestVault } from '../support/vault.js';
import { explain, runDaemon } from './support.js';

const SEED = new Uint8Array(32).fill(5);
const ME = algosdk.encodeAddress(ed25519.getPublicKey(SEED));
const DEST = algosdk.encodeAddress(ed25519.getPublicKey(new Uint8Array(32).fill(6)));
const VICTIM = algosdk.encodeAddress(ed25519.getPublicKey(new Uint8Array(32).fill(0x55)));

function verified(hex: string, sender: string): algosdk.SignedTransaction {
  const stx = algosdk.decodeSignedTransaction(Uint8Array.from(Buffer.from(hex, 'hex')));
  expect(stx.txn.sender.toString()).toBe(sender);
  expect(ed25519.verify(stx.sig!, stx.txn.bytesToSign(), algosdk.decodeAddress(sender).publicKey)).toBe(true);
  return stx;
}

describe('ALGO end to end', { timeout: 240_000 }, () => {
  let api: FakeTatumApi;
  let tv: TestVault;
  let algo: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    tv = await createTestVault({ testnetOnly: true });
    const spec = chainKit('ALGO');
    const row = prepareImportedPrivateKey(tv.vault, spec, true, spec.formatPrivateKey(SEED, true));
    tv.vault.store.addEntries([row]);
    algo = row.signatureId;
    tv.vault.seal('test setup');
    api = await FakeTatumApi.start();
    env = { ...tv.token.env, TATUM_KMS_PASSWORD: TEST_PASSWORD };
  });
  afterAll(async () => {
    await api?.stop();
  });

  const once = () => runDaemon(tv, api, ['--runOnce', '--testnet', '--chain', 'ALGO']);
  const blobOf = (id: string) => api.broadcasts.find((b) => b.signatureId === id)?.txData;
  const errorOf = (id: string) => api.errorReports.filter((e) => e.signatureId === id).map((e) => e.error);

  it('signs a payment and an ASA transfer in the token; algosdk verifies both for the sender; deterministic', async () => {
    const pay = api.queue({
      chain: 'ALGO',
      hashes: [algo],
      serializedTransaction: algoPayload({ from: ME, to: DEST, amount: 2_000_000 }),
    });
    const asa = api.queue({
      chain: 'ALGO',
      hashes: [algo],
      serializedTransaction: algoPayload({ from: ME, to: DEST, type: 'axfer', amount: 5, assetIndex: 31566704 }),
    });
    const twice = api.queue({
      chain: 'ALGO',
      hashes: [algo],
      serializedTransaction: algoPayload({ from: ME, to: DEST, amount: 2_000_000 }),
    });
    const r = await once();
    expect(r.code, explain(r)).toBe(0);
    expect(
      api.requests.some(
        (q) => q.path === '/v3/algorand/broadcast' && (q.json as { signatureId?: string }).signatureId === pay,
      ),
    ).toBe(true);
    expect(verified(blobOf(pay)!, ME).txn.payment?.amount).toBe(2_000_000n);
    const t = verified(blobOf(asa)!, ME).txn;
    expect(t.assetTransfer).toMatchObject({ assetIndex: 31566704n, amount: 5n });
    expect(t.fee).toBeGreaterThan(200_000n); // Tatum's per-byte reading of fee: 1000, under the 1 ALGO built-in limit
    expect(blobOf(twice)).toBe(blobOf(pay));
  });

  it('refuses, through the error batch: another sender, a mainnet transaction on a testnet daemon', async () => {
    const other = api.queue({
      chain: 'ALGO',
      hashes: [algo],
      serializedTransaction: algoPayload({ from: VICTIM, to: DEST }),
    });
    const main = api.queue({
      chain: 'ALGO',
      hashes: [algo],
      serializedTransaction: algoPayload({ from: ME, to: DEST, testnet: false }),
    });
    const r = await once();
    expect(r.code).not.toBe(0);
    expect(errorOf(other)).toEqual([
      expect.stringMatching(/^TX_PAYLOAD_MISMATCH: ALGO payload: the sender \w+ is not the signing wallet's address/),
    ]);
    expect(errorOf(main)).toEqual([
      // The network is named by its kind, never quoted from the payload (493cf83).
      expect.stringMatching(
        /^TX_PAYLOAD_MISMATCH: ALGO payload: genesisID is not testnet-v1\.0 \(got a string of 12 characters\)/,
      ),
    ]);
    expect(blobOf(other)).toBeUndefined();
    expect(blobOf(main)).toBeUndefined();
  });

  it('generatemanagedwallet ALGO makes the key in the token; getmanagedwallet shows {address, secret}; it signs in the daemon', async () => {
    const g = await runCli(['generatemanagedwallet', 'ALGO', '--testnet', '--path', tv.path], { env });
    expect(g.code, g.stderr).toBe(0);
    expect(g.stderr).not.toMatch(/does not sign/);
    const gen = g.json() as { signatureId: string; address: string };
    expect(algosdk.isValidAddress(gen.address)).toBe(true);
    const view = (await runCli(['getmanagedwallet', gen.signatureId, '--path', tv.path], { env })).json() as Record<
      string,
      unknown
    >;
    expect(Object.keys(view).sort()).toEqual(['address', 'chain', 'secret', 'testnet']);
    expect(view.secret).toMatch(/^[A-Z2-7]{103}$/);
    const id = api.queue({
      chain: 'ALGO',
      hashes: [gen.signatureId],
      serializedTransaction: algoPayload({ from: gen.address, to: DEST }),
    });
    const r = await once();
    expect(blobOf(id), explain(r)).toBeDefined();
    verified(blobOf(id)!, gen.address);
  });
});
