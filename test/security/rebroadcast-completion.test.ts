/**
 * Issue 16, exactly-once acceptance: before a signed transaction in the journal is sent
 * again, the signer asks Tatum (`GET /v3/kms/{id}`, spec §2.3 txId, §2.7) whether the pending
 * transaction is already completed. A signer killed after Tatum accepted its broadcast but
 * before its journal recorded it leaves a signed row; the next signer (another daemon, or the
 * same one restarted) records the completion instead of a second accepted broadcast.
 *
 * Real parts: a SoftHSM2 token, a wallet.dat vault, the processor as the daemon composes it,
 * and the Tatum-compatible HTTP server of scripts/lib/tatum-api-server.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TatumBroadcaster, type Broadcaster } from '../../src/signer/sinks/broadcast.js';
import { pinnedChainId } from '../../src/signer/pipeline/chain-ids.js';
import { NodeEvmFiller } from '../../src/signer/pipeline/evm-fill.js';
import { Journal } from '../../src/signer/pipeline/journal.js';
import { PendingProcessor } from '../../src/signer/pipeline/process-pending.js';
import type { PendingTransaction } from '../../src/signer/source/pending.js';
import { TatumClient } from '../../src/signer/source/tatum-client.js';
import { FakeTatumApi } from '../../scripts/lib/tatum-api-server.js';
import { createTestVault, type TestVault } from '../support/vault.js';
import { addPrivateKey, auditRecords, testKey } from '../e2e/support.js';

const A = '0x1111111111111111111111111111111111111111';
/** Far beyond any claim's lease or hold: the signer that held the row is long gone. */
const MUCH_LATER = 60 * 60_000;

describe('a signed transaction is sent again only when Tatum has not completed its pending id', () => {
  let tv: TestVault;
  let api: FakeTatumApi;
  let tatum: TatumClient;
  let wallet: string;
  let nonce = 0;
  const logs: { level: string; message: string }[] = [];

  beforeAll(async () => {
    tv = await createTestVault({ testnetOnly: true });
    wallet = addPrivateKey(tv.vault, 'ETH', true, testKey(0x5a));
    api = await FakeTatumApi.start();
    tatum = new TatumClient({ baseUrl: api.url, apiKey: api.apiKey, clientVersion: 'rebroadcast-test' });
  });
  afterAll(async () => {
    tatum?.close();
    await api?.stop();
    tv?.vault.seal('test end');
  });

  function pending(): PendingTransaction {
    const serializedTransaction = JSON.stringify({
      to: A,
      value: '7',
      gasPrice: '1000000000',
      gas: 21000,
      nonce: nonce++,
    });
    const id = api.queue({ chain: 'ETH', hashes: [wallet], serializedTransaction });
    return { id, chain: 'ETH', hashes: [wallet], serializedTransaction };
  }

  function processor(options: { broadcaster?: Broadcaster; later?: boolean } = {}): PendingProcessor {
    const offset = options.later === true ? MUCH_LATER : 0;
    return new PendingProcessor({
      vault: tv.vault,
      journal: new Journal(tv.vault.store, () => new Date(Date.now() + offset)),
      testnet: true,
      broadcaster: options.broadcaster ?? new TatumBroadcaster(tatum),
      evm: new NodeEvmFiller((c) => pinnedChainId(c as 'ETH', true, {}), new Map()),
      log: (level, message) => logs.push({ level, message }),
    });
  }

  /** A signer that dies once Tatum accepted its broadcast: its journal never hears of it. */
  function diesAfterAccept(): Broadcaster {
    const real = new TatumBroadcaster(tatum);
    return { send: async (p, raw) => (await real.send(p, raw), new Promise<never>(() => {})) };
  }

  const accepted = (id: string) => api.broadcasts.filter((b) => b.signatureId === id && b.txId !== undefined);
  const gets = (id: string) => api.requestsTo(`/v3/kms/${id}`).filter((r) => r.method === 'GET');
  const row = (id: string) => new Journal(tv.vault.store).get(id);

  async function signedAndAccepted(): Promise<PendingTransaction> {
    const t = pending();
    void processor({ broadcaster: diesAfterAccept() }).process(t, t);
    const end = Date.now() + 30_000;
    while (accepted(t.id).length === 0) {
      if (Date.now() > end) throw new Error('the first broadcast was not accepted');
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(row(t.id)?.state).toBe('signed');
    return t;
  }

  it('killed after Tatum accepted the broadcast: the next signer records the completion and sends nothing', async () => {
    const t = await signedAndAccepted();
    const first = accepted(t.id)[0]!;
    expect(api.pending(t.id)?.txId).toBe(first.txId);

    const outcome = await processor({ later: true }).process(t, t);
    expect(outcome).toEqual({ kind: 'broadcast', txId: first.txId, rebroadcast: true });
    expect(api.broadcasts.filter((b) => b.signatureId === t.id)).toHaveLength(1);
    expect(gets(t.id)).toHaveLength(1);
    expect(row(t.id)).toMatchObject({ state: 'broadcast', chainTxId: first.txId });
    const rec = auditRecords(tv).filter((r) => r.event === 'broadcast' && r.subject === t.id);
    expect(rec).toHaveLength(1);
    expect(rec[0]).toMatchObject({
      result: 'ok',
      details: { pendingId: t.id, chain: 'ETH', txId: first.txId, via: 'tatum-completed', rebroadcast: true },
    });
    expect(rec[0]!.details).not.toHaveProperty('localTxId');

    // Seen again (the API had not caught up): the journal says broadcast; nothing is asked or sent.
    expect(await processor({ later: true }).process(t, t)).toEqual({ kind: 'skipped', reason: 'already broadcast' });
    expect(api.broadcasts.filter((b) => b.signatureId === t.id)).toHaveLength(1);
  });

  it('signed but never accepted (the broadcast failed): Tatum says it is not completed, the same raw transaction is sent once', async () => {
    const t = pending();
    api.failNext({ kind: 'status', status: 503 }, 1, { path: '/v3/ethereum/broadcast' });
    expect(await processor().process(t, t)).toMatchObject({ kind: 'failed', signed: true, stage: 'broadcast' });
    const raw = row(t.id)!.rawTx!;
    expect(api.pending(t.id)?.txId).toBeUndefined();

    const outcome = await processor({ later: true }).process(t, t);
    expect(outcome).toMatchObject({ kind: 'broadcast', rebroadcast: true });
    expect(gets(t.id)).toHaveLength(1);
    // (The refused first attempt never reached the broadcast route: failNext answers before it.)
    expect(api.broadcasts.filter((b) => b.signatureId === t.id).map((b) => b.txData)).toEqual([raw]);
    expect(accepted(t.id)).toHaveLength(1);
    expect(row(t.id)).toMatchObject({ state: 'broadcast', rawTx: raw });
  });

  it('Tatum cannot be asked: nothing is sent this cycle and the claim is released; the next cycle asks again', async () => {
    const t = await signedAndAccepted();
    api.failNext({ kind: 'status', status: 503 }, 1, { method: 'GET', path: `/v3/kms/${t.id}` });
    const warnings = logs.length;
    expect(await processor({ later: true }).process(t, t)).toEqual({
      kind: 'skipped',
      reason: 'Tatum did not say whether it is already complete',
    });
    expect(logs.slice(warnings)).toContainEqual({
      level: 'warn',
      message: 'could not ask Tatum whether the pending transaction is complete; not re-sent this cycle',
    });
    expect(api.broadcasts.filter((b) => b.signatureId === t.id)).toHaveLength(1);
    expect(row(t.id)).toMatchObject({ state: 'signed', claim: undefined });

    expect(await processor({ later: true }).process(t, t)).toMatchObject({ kind: 'broadcast', rebroadcast: true });
    expect(gets(t.id)).toHaveLength(2);
    expect(api.broadcasts.filter((b) => b.signatureId === t.id)).toHaveLength(1);
    expect(row(t.id)?.state).toBe('broadcast');
  });

  it('Tatum completed the id with another transaction (marked complete by hand): recorded as Tatum says, ours named, not sent', async () => {
    const t = pending();
    api.failNext({ kind: 'status', status: 503 }, 1, { path: '/v3/ethereum/broadcast' });
    await processor().process(t, t);
    const other = `0x${'ab'.repeat(32)}`;
    const put = await fetch(`${api.url}/v3/kms/${t.id}/${other}`, {
      method: 'PUT',
      headers: { 'x-api-key': api.apiKey },
    });
    expect(put.status).toBe(204);

    const warnings = logs.length;
    expect(await processor({ later: true }).process(t, t)).toEqual({
      kind: 'broadcast',
      txId: other,
      rebroadcast: true,
    });
    expect(accepted(t.id)).toHaveLength(0);
    expect(row(t.id)).toMatchObject({ state: 'broadcast', chainTxId: other });
    const rec = auditRecords(tv).filter((r) => r.event === 'broadcast' && r.subject === t.id && r.result === 'ok');
    expect(rec.at(-1)?.details).toMatchObject({ via: 'tatum-completed', txId: other, localTxId: expect.any(String) });
    expect((rec.at(-1)?.details as { localTxId: string }).localTxId).not.toBe(other);
    expect(logs.slice(warnings).find((l) => l.level === 'warn')?.message).toMatch(/completed with another transaction/);
  });

  it('a pending id Tatum no longer knows (deleted): its answer to the broadcast decides, nothing is recorded as completed', async () => {
    const t = pending();
    api.failNext({ kind: 'status', status: 503 }, 1, { path: '/v3/ethereum/broadcast' });
    await processor().process(t, t);
    const del = await fetch(`${api.url}/v3/kms/${t.id}`, { method: 'DELETE', headers: { 'x-api-key': api.apiKey } });
    expect(del.status).toBe(204);
    const get = await fetch(`${api.url}/v3/kms/${t.id}`, { headers: { 'x-api-key': api.apiKey } });
    expect(get.status).toBe(403);

    const outcome = await processor({ later: true }).process(t, t);
    expect(outcome).toMatchObject({ kind: 'failed', signed: true, stage: 'broadcast' });
    expect(api.broadcasts.filter((b) => b.signatureId === t.id).at(-1)?.error).toBe('pending transaction not found');
    expect(row(t.id)).toMatchObject({ state: 'failed' });
  });
});
