/**
 * VET end to end with the built CLI, a real SoftHSM2 token, the fake Tatum API and a fake
 * VeChain node (HARDKMS_RPC_VET): a private-key wallet (signed in the token) and a mnemonic
 * wallet at an index (m/44'/1'/0'/0/i on testnet, derived on the host: Tatum cannot sign
 * those at all) sign Tatum's payload; gas is the estimate (50000 in the payload → 21000),
 * blockRef the node's best block, the nonce from the token's RNG when absent. Each raw tx
 * is decoded by thor-devkit and its origin recovered from the signature. A payload for the
 * other network reaches the error batch.
 */
import { Transaction } from 'thor-devkit';
import { computeAddress, hexlify } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getChainAdapter } from '../../src/chains/registry.js';
import { mnemonicToSeed } from '../../src/chains/mnemonic.js';
import { FakeTatumApi } from '../../scripts/lib/tatum-api-server.js';
import { FakeVetNode } from '../support/vet-node.js';
import { createTestVault, type TestVault } from '../support/vault.js';
import { ABANDON, addMnemonic, addPrivateKey, compressedPub, explain, runDaemon, testKey } from './support.js';

const TO = '0x1111111111111111111111111111111111111111';

describe('VET end to end', { timeout: 240_000 }, () => {
  let api: FakeTatumApi;
  let node: FakeVetNode;
  let tv: TestVault;
  let key: string;
  let hd: string;

  beforeAll(async () => {
    tv = await createTestVault({ testnetOnly: true });
    key = addPrivateKey(tv.vault, 'VET', true, testKey(0x42));
    hd = addMnemonic(tv.vault, 'VET', true, ABANDON);
    tv.vault.seal('test setup');
    api = await FakeTatumApi.start();
    node = await FakeVetNode.start();
  });
  afterAll(async () => {
    await api?.stop();
    await node?.stop();
  });

  const once = () => runDaemon(tv, api, ['--runOnce', '--testnet', '--chain', 'VET'], { HARDKMS_RPC_VET: node.url });
  const txOf = (id: string) => {
    const raw = api.broadcasts.find((b) => b.signatureId === id)?.txData;
    return raw === undefined ? undefined : Transaction.decode(Buffer.from(raw.slice(2), 'hex'));
  };

  it('signs with a private key in the token and a mnemonic child; thor-devkit recovers each wallet; gas, blockRef, nonce as Tatum fills them', async () => {
    const st = JSON.stringify({ from: 0, to: TO, value: '1000000000000000000', gas: '50000' });
    const a = api.queue({ chain: 'VET', hashes: [key], serializedTransaction: st });
    const b = api.queue({ chain: 'VET', hashes: [key], serializedTransaction: st });
    const c = api.queue({ chain: 'VET', hashes: [hd], index: 3, serializedTransaction: st });
    const r = await once();
    expect(r.code, explain(r)).toBe(0);
    expect(api.requests.some((q) => q.path === '/v3/vet/broadcast')).toBe(true);
    const ta = txOf(a)!;
    expect(ta.origin).toBe(computeAddress(hexlify(compressedPub(testKey(0x42)))).toLowerCase());
    expect(ta.body).toMatchObject({
      chainTag: 0x27,
      gas: 21000,
      blockRef: node.bestId.slice(0, 18),
      expiration: 720,
      dependsOn: null,
    });
    expect(BigInt(ta.body.clauses[0]!.value)).toBe(10n ** 18n);
    // No nonce in the payload: each gets one from the token's RNG.
    expect(txOf(b)!.body.nonce).not.toBe(ta.body.nonce);
    const child = getChainAdapter('VET').privateKeyFromSeed(mnemonicToSeed(Buffer.from(ABANDON)), 3, true);
    expect(txOf(c)!.origin).toBe(computeAddress(hexlify(compressedPub(child))).toLowerCase());
    expect(node.requests.some((q) => q.path === '/accounts/*')).toBe(true);
  });

  it('a contract call pays intrinsic + VM gas + 15000; a payload for mainnet (chainTag 0x4a) is refused through the error batch', async () => {
    node.gasUsed = 30_000;
    const data = '0xa9059cbb' + '00'.repeat(12) + '22'.repeat(20) + 5n.toString(16).padStart(64, '0');
    const call = api.queue({
      chain: 'VET',
      hashes: [key],
      serializedTransaction: JSON.stringify({ from: 0, to: TO, value: '0', data, gas: 1 }),
    });
    const main = api.queue({
      chain: 'VET',
      hashes: [key],
      serializedTransaction: JSON.stringify({ to: TO, value: '1', chainTag: 74 }),
    });
    const r = await once();
    node.gasUsed = 0;
    expect(r.code).not.toBe(0);
    const intrinsic = Transaction.intrinsicGas([{ to: TO, value: 0, data }]);
    expect(txOf(call)!.body.gas).toBe(intrinsic + 30_000 + 15_000);
    expect(api.errorReports.filter((e) => e.signatureId === main).map((e) => e.error)).toEqual([
      // The payload's tag is not quoted back (493cf83).
      expect.stringMatching(/^TX_PAYLOAD_MISMATCH: VET payload: chainTag is not this testnet daemon's 0x27: /),
    ]);
    expect(txOf(main)).toBeUndefined();
  });
});
