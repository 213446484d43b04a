/**
 * A signed transaction the network will never mine (issue 11 item 5), on a real Hardhat
 * node behind the Tatum-compatible server: the node's "nonce too low" (relayed by Tatum in
 * its 403 body) stops the re-sending, the error batch says TX_NEVER_MINABLE every cycle,
 * and only `hardkms journal release` (unsealed, audited) allows a fresh signature, which
 * is then mined. A transaction mined meanwhile is recognised as broadcast, never released.
 */
import { computeAddress, hexlify, Transaction, Wallet } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHardhatNode, type HardhatNode } from '../../scripts/lib/hardhat-node.js';
import { FakeTatumApi } from '../../scripts/lib/tatum-api-server.js';
import { runCli } from '../support/cli.js';
import { createTestVault, type TestVault } from '../support/vault.js';
import { addPrivateKey, auditRecords, compressedPub, daemonEnv, explain, runDaemon, testKey } from './support.js';

const ETHER = 10n ** 18n;

describe('daemon: a signed transaction that can never be mined', () => {
  let node: HardhatNode;
  let api: FakeTatumApi;
  let tv: TestVault;
  let walletId: string;
  const key = testKey(0x63);
  const from = computeAddress(hexlify(compressedPub(key)));
  const to = Wallet.createRandom().address;
  const env = { HARDKMS_CHAIN_ID_ETH: '31337', HARDKMS_RPC_ETH: '' };
  const daemon = () =>
    runDaemon(tv, api, ['--runOnce', '--testnet', '--chain', 'ETH'], { ...env, HARDKMS_RPC_ETH: node.url });
  const release = (id: string) => runCli(['journal', 'release', id, '--path', tv.path], { env: daemonEnv(tv, api) });
  const sentFor = (id: string) => api.broadcasts.filter((b) => b.signatureId === id).length;

  beforeAll(async () => {
    tv = await createTestVault({ testnetOnly: true });
    walletId = addPrivateKey(tv.vault, 'ETH', true, key);
    tv.vault.seal('test setup');
    node = await startHardhatNode();
    api = await FakeTatumApi.start({ nodes: { ETH: { kind: 'evm', url: node.url } } });
    await (await node.signer(1).sendTransaction({ to: from, value: 10n * ETHER })).wait();
  });

  afterAll(async () => {
    await api?.stop();
    await node?.stop();
  });

  it('stops re-sending after "nonce too low", reports TX_NEVER_MINABLE each cycle; journal release allows a fresh signature that is mined', async () => {
    // The account's nonce 0 is used elsewhere (e.g. by the old Tatum KMS) before the pending tx is signed.
    const gasPrice = (await node.rpc.gasPrice()) * 2n;
    const elsewhere = Transaction.from({ to, value: 1n, nonce: 0, gasLimit: 21000n, gasPrice, chainId: 31337n });
    elsewhere.signature = new Wallet(hexlify(key)).signingKey.sign(elsewhere.unsignedHash);
    await node.rpc.sendRawTransaction(elsewhere.serialized);
    const id = api.queue({
      chain: 'ETH',
      hashes: [walletId],
      serializedTransaction: JSON.stringify({ to, value: '1000', gasPrice: gasPrice.toString(), gas: 21000, nonce: 0 }),
    });

    const first = await daemon();
    expect(sentFor(id), explain(first)).toBe(1);
    const report = () => api.errorReports.filter((e) => e.signatureId === id);
    expect(report()).toHaveLength(1);
    expect(report()[0]!.error).toMatch(
      /^TX_NEVER_MINABLE: .*nonce was already used.*Nonce too low.*hardkms journal release/s,
    );

    const second = await daemon();
    expect(sentFor(id), explain(second)).toBe(1); // not re-sent
    expect(report()).toHaveLength(2); // reported again: Tatum keeps it pending
    expect(second.stderr).not.toMatch(/re-broadcasting/);

    const rel = await release(id);
    expect(rel.code, rel.stderr).toBe(0);
    expect(rel.json()).toMatchObject({
      pendingId: id,
      chain: 'ETH',
      released: true,
      rawTxHash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    const audited = auditRecords(tv).filter((r) => r.event === 'journal.release');
    expect(audited).toEqual([
      expect.objectContaining({ subject: id, result: 'ok', actor: expect.stringContaining('cli:journal.release') }),
    ]);

    // The application rebuilds the payload without the stale nonce; the next cycle signs it afresh.
    api.update(id, {
      serializedTransaction: JSON.stringify({ to, value: '1000', gasPrice: gasPrice.toString(), gas: 21000 }),
    });
    const third = await daemon();
    expect(third.code, explain(third)).toBe(0);
    const last = api.broadcasts.filter((b) => b.signatureId === id).at(-1)!;
    expect(last.error).toBeUndefined();
    const tx = Transaction.from(last.txData);
    expect(tx.from).toBe(from);
    expect(tx.nonce).toBe(1);
    expect((await node.rpc.getTransactionReceipt(last.txId!))?.status).toBe(1);
  });

  it('refuses to release a transaction that may still be mined (broadcast, or never refused for good): nothing changes', async () => {
    const id = api.queue({
      chain: 'ETH',
      hashes: [walletId],
      serializedTransaction: JSON.stringify({ to, value: '5', gas: 21000 }),
    });
    const r = await daemon();
    expect(r.code, explain(r)).toBe(0);
    expect(api.pending(id)?.txId).toBeDefined();
    const rel = await release(id);
    expect(rel.code).not.toBe(0);
    expect(rel.error()).toMatchObject({
      code: 'JOURNAL_NOT_RELEASABLE',
      error: expect.stringMatching(/is broadcast, not refused for good/),
    });
    const unknown = await release('0123456789abcdef01234567');
    expect(unknown.error().code).toBe('JOURNAL_NOT_RELEASABLE');
    expect(auditRecords(tv).filter((x) => x.event === 'journal.release' && x.result === 'denied')).toHaveLength(2);
    const again = await daemon();
    expect(sentFor(id), explain(again)).toBe(1);
  });

  it('a "nonce too low" for the very transaction, mined after an answer was lost, counts as broadcast', async () => {
    const id = api.queue({
      chain: 'ETH',
      hashes: [walletId],
      serializedTransaction: JSON.stringify({ to, value: '6', gas: 21000 }),
    });
    // The broadcast's answer is lost: the signed transaction stays journaled, re-sent next cycle.
    api.failNext({ kind: 'status', status: 502, body: '{"message":"Bad gateway"}' }, 1, {
      method: 'POST',
      path: '/v3/ethereum/broadcast',
    });
    const lost = await daemon();
    const req = api
      .requestsTo('/v3/ethereum/broadcast')
      .filter((q) => (q.json as { signatureId?: string })?.signatureId === id);
    expect(req, explain(lost)).toHaveLength(1);
    // ...but it reached the network anyway.
    const raw = (req[0]!.json as { txData: string }).txData;
    const hash = await node.rpc.sendRawTransaction(raw);
    expect((await node.rpc.getTransactionReceipt(hash))?.status).toBe(1);
    const r = await daemon();
    expect(r.code, explain(r)).toBe(0);
    expect(api.errorReports.filter((e) => e.signatureId === id && /NEVER_MINABLE/.test(e.error))).toEqual([]);
    const rec = auditRecords(tv).filter((x) => x.event === 'broadcast' && x.subject === id && x.result === 'ok');
    expect(rec.at(-1)?.details).toMatchObject({ via: 'already-mined', txId: hash });
  });
});
