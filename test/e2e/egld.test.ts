/**
 * EGLD end to end with the built CLI, a real SoftHSM2 token, the fake Tatum API and the fake
 * MultiversX gateway behind Tatum's /v3/egld/node/{apiKey}: a private-key wallet (signed in
 * the token with CKM_EDDSA) and a mnemonic wallet at an index (m/44'/1'/0'/0'/i' on testnet,
 * derived on the host and wiped) sign Tatum's payload with the gateway's nonce, minimum gas
 * price, chain id and cost estimate, as Tatum's SDK fills them; each signed transaction is
 * verified by @multiversx/sdk-core. A `from` that is not the wallet and a gateway of another
 * network reach the error batch. The wallet commands keep Tatum's `{mnemonic}` format.
 */
import { ed25519 } from '@noble/curves/ed25519';
import { Address, Transaction, TransactionComputer, UserPublicKey } from '@multiversx/sdk-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chainKit } from '../../src/chains/kit.js';
import { mnemonicToSeed } from '../../src/chains/mnemonic.js';
import { prepareImportedPrivateKey } from '../../src/vault/tatum-wallets.js';
import { runCli } from '../support/cli.js';
import { FakeEgldGateway } from '../support/egld-node.js';
import { FakeTatumApi } from '../../scripts/lib/tatum-api-server.js';
import { createTestVault, TEST_PASSWORD, type TestVault } from '../support/vault.js';
import { ABANDON, addMnemonic, explain, runDaemon } from './support.js';

const KEY = new Uint8Array(32).fill(0x31);
const ME = new Address(Buffer.from(ed25519.getPublicKey(KEY))).toBech32();
const TO = new Address(Buffer.from(ed25519.getPublicKey(new Uint8Array(32).fill(0x32)))).toBech32();

async function verified(raw: string, sender: string): Promise<Record<string, unknown>> {
  const plain = JSON.parse(raw) as Record<string, unknown>;
  const tx = Transaction.newFromPlainObject(plain as unknown as Parameters<typeof Transaction.newFromPlainObject>[0]);
  expect(tx.sender.toBech32()).toBe(sender);
  expect(
    await new UserPublicKey(Buffer.from(Address.newFromBech32(sender).getPublicKey())).verify(
      new TransactionComputer().computeBytesForSigning(tx),
      tx.signature,
    ),
  ).toBe(true);
  return plain;
}

describe('EGLD end to end', { timeout: 240_000 }, () => {
  let api: FakeTatumApi;
  let gw: FakeEgldGateway;
  let tv: TestVault;
  let key: string;
  let hd: string;
  let hd3: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    tv = await createTestVault({ testnetOnly: true });
    const kit = chainKit('EGLD');
    const row = prepareImportedPrivateKey(tv.vault, kit, true, Buffer.from(KEY).toString('hex'));
    tv.vault.store.addEntries([row]);
    key = row.signatureId;
    hd = addMnemonic(tv.vault, 'EGLD', true, ABANDON);
    const k3 = kit.privateKeyFromSeed(mnemonicToSeed(Buffer.from(ABANDON)), 3, true);
    hd3 = kit.addressFromPublicKey(Buffer.from(kit.publicKeyFromPrivateKey(k3)), true);
    tv.vault.seal('test setup');
    gw = new FakeEgldGateway();
    gw.nonces.set(ME, 7);
    api = await FakeTatumApi.start({ egld: gw });
    env = { ...tv.token.env, TATUM_KMS_PASSWORD: TEST_PASSWORD };
  });
  afterAll(async () => {
    await api?.stop();
  });

  const once = () => runDaemon(tv, api, ['--runOnce', '--testnet', '--chain', 'EGLD']);
  const posted = (id: string) => api.broadcasts.find((b) => b.signatureId === id)?.txData;
  const errorOf = (id: string) => api.errorReports.filter((e) => e.signatureId === id).map((e) => e.error);
  const st = (o: Record<string, unknown>) =>
    JSON.stringify({ from: ME, to: TO, value: '0.25', gasPrice: 1, gasLimit: 1, ...o });

  it("signs with a key in the token and a mnemonic child at an index, filled from Tatum's EGLD node as Tatum does; sdk-core verifies each", async () => {
    const a = api.queue({ chain: 'EGLD', hashes: [key], serializedTransaction: st({ data: 'invoice 42' }) });
    const b = api.queue({ chain: 'EGLD', hashes: [hd], index: 3, serializedTransaction: st({ from: hd3 }) });
    const r = await once();
    expect(r.code, explain(r)).toBe(0);
    const ta = await verified(posted(a)!, ME);
    // Payload gasPrice/gasLimit are not used: the network minimum and the cost estimate are (50 000 + 1 500 per data byte).
    expect(ta).toMatchObject({
      nonce: 7,
      value: '250000000000000000',
      receiver: TO,
      gasPrice: 1_000_000_000,
      gasLimit: 50_000 + 1_500 * 10,
      chainID: 'D',
      version: 1,
    });
    expect(Buffer.from(ta.data as string, 'base64').toString()).toBe('invoice 42');
    expect(await verified(posted(b)!, hd3)).toMatchObject({ nonce: 0, gasLimit: 50_000 });
    expect(gw.requests.map((q) => q.path)).toEqual(
      expect.arrayContaining(['/network/config', `/address/${ME}/nonce`, '/transaction/cost']),
    );
    expect(api.requests.some((q) => q.path === '/v3/egld/broadcast')).toBe(true);
  });

  it('refuses, through the error batch: a from that is not the wallet, a gateway of another network', async () => {
    const foreign = api.queue({ chain: 'EGLD', hashes: [key], serializedTransaction: st({ from: TO }) });
    const r1 = await once();
    expect(r1.code).not.toBe(0);
    expect(errorOf(foreign)).toEqual([
      expect.stringMatching(/^TX_PAYLOAD_MISMATCH: EGLD payload: from erd1\w+ is not the signing wallet's address/),
    ]);
    api.clearQueue();
    gw.chainID = '1';
    const main = api.queue({ chain: 'EGLD', hashes: [key], serializedTransaction: st({}) });
    const r2 = await once();
    gw.chainID = 'D';
    expect(r2.code).not.toBe(0);
    expect(errorOf(main)).toEqual([
      expect.stringMatching(/^TX_PAYLOAD_MISMATCH: EGLD payload: the node's chain id "1" is not a testnet's/),
    ]);
    expect(posted(foreign)).toBeUndefined();
    expect(posted(main)).toBeUndefined();
  });

  it('generatemanagedwallet EGLD makes a mnemonic wallet ({mnemonic}, as Tatum); getaddress and getprivatekey derive at an index', async () => {
    const cli = (args: string[]) => runCli([...args, '--path', tv.path], { env });
    const g = await cli(['generatemanagedwallet', 'EGLD', '--testnet']);
    expect(g.code, g.stderr).toBe(0);
    expect(g.stderr).not.toMatch(/does not sign/);
    const gen = g.json() as Record<string, unknown>;
    expect(Object.keys(gen)).toEqual(['signatureId']);
    const view = (await cli(['getmanagedwallet', String(gen.signatureId)])).json() as Record<string, unknown>;
    expect(Object.keys(view)).toEqual(['mnemonic', 'chain', 'testnet']);
    expect((await cli(['getaddress', hd, '3'])).json()).toEqual({ address: hd3 });
    const pk = (await cli(['getprivatekey', hd, '3'])).json() as { privateKey: string };
    expect(new Address(Buffer.from(ed25519.getPublicKey(Buffer.from(pk.privateKey, 'hex')))).toBech32()).toBe(hd3);
    const echo = (await cli(['generatewallet', 'EGLD'])).json() as Record<string, unknown>;
    expect(Object.keys(echo)).toEqual(['mnemonic']);
    expect(String(echo.mnemonic).split(' ')).toHaveLength(24);
    // A private key Tatum derived, stored into the token: its address is the key's, and it signs.
    const sp = await runCli(['storemanagedprivatekey', 'EGLD', '--testnet', '--path', tv.path], {
      env,
      input: `${pk.privateKey}\n`,
    });
    expect(sp.code, sp.stderr).toBe(0);
    const spId = (sp.json() as { signatureId: string }).signatureId;
    expect((await cli(['getaddress', spId, '0'])).json()).toEqual({ address: hd3 });
    const id = api.queue({ chain: 'EGLD', hashes: [spId], serializedTransaction: st({ from: hd3 }) });
    const r = await once();
    expect(posted(id), explain(r)).toBeDefined();
    await verified(posted(id)!, hd3);
  });
});
