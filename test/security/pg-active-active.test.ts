/**
 * Several signers on one PostgreSQL store (issue 16 item 2), each with its own connection,
 * journal and processor, as separate daemons have: each pending id is signed by one of
 * them, a dead signer's claim is taken over only after its lease, a signature recorded by a
 * signer that died before broadcasting is re-broadcast (the same bytes) by the next one,
 * and maxPer24h holds across signers.
 */
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TatumBroadcaster } from '../../src/signer/sinks/broadcast.js';
import { pinnedChainId } from '../../src/signer/pipeline/chain-ids.js';
import { NodeEvmFiller } from '../../src/signer/pipeline/evm-fill.js';
import { Journal, payloadHash, rawTxHash, CLAIM_LEASE_MS } from '../../src/signer/pipeline/journal.js';
import type { PendingTransaction } from '../../src/signer/source/pending.js';
import { parsePolicy, type Policy } from '../../src/signer/pipeline/policy.js';
import { PendingProcessor } from '../../src/signer/pipeline/process-pending.js';
import { TatumClient } from '../../src/signer/source/tatum-client.js';
import type { Vault } from '../../src/vault/vault.js';
import { FakeTatumApi } from '../../scripts/lib/tatum-api-server.js';
import { havePostgres, startPostgres, type Postgres } from '../support/postgres.js';
import { createTestVault, openTestVault, type TestVault } from '../support/vault.js';
import { addPrivateKey, testKey } from '../e2e/support.js';
import { cycle, inProcessSigner, type Signer } from './support.js';

const A = '0x1111111111111111111111111111111111111111';
const GWEI = 10n ** 9n;

describe.skipIf(!havePostgres)('several signers on one PostgreSQL store', () => {
  let pg: Postgres;
  let n = 0;
  let nonce = 0;
  const opened: Vault[] = [];
  const signers: Signer[] = [];
  const apis: FakeTatumApi[] = [];
  const ethTx = (value: bigint) =>
    JSON.stringify({ to: A, value: value.toString(), gasPrice: GWEI.toString(), gas: 21000, nonce: nonce++ });

  beforeAll(async () => {
    pg = await startPostgres();
    process.env.PGPASSFILE = pg.passFile;
  });
  afterAll(() => pg?.destroy());
  afterEach(async () => {
    for (const s of signers.splice(0)) s.close();
    for (const a of apis.splice(0)) await a.stop();
    for (const v of opened.splice(0)) {
      try {
        v.seal('test end');
      } catch {
        // sealed already
      }
    }
  });

  /** A vault on a fresh database and `count` more unsealed instances of it (own connections). */
  async function instances(count: number): Promise<{ tv: TestVault; vaults: Vault[]; wallet: string }> {
    const tv = await createTestVault({ testnetOnly: true, store: pg.createDatabase(`aa_${++n}`) });
    const wallet = addPrivateKey(tv.vault, 'ETH', true, testKey(0x71));
    const vaults = [tv.vault];
    for (let i = 1; i < count; i++) vaults.push(await openTestVault(tv.path, undefined, join(tv.dir, 'audit.log')));
    opened.push(...vaults.slice().reverse());
    return { tv, vaults, wallet };
  }

  /** A pending transaction the Tatum-compatible server holds (so that its broadcast is accepted). */
  function served(api: FakeTatumApi, p: PendingTransaction): PendingTransaction {
    api.queue({ ...p, chain: p.chain as 'ETH' });
    return p;
  }

  function processor(
    vault: Vault,
    api: FakeTatumApi,
    policy?: Policy,
    journal = new Journal(vault.store),
  ): PendingProcessor {
    const tatum = new TatumClient({ baseUrl: api.url, apiKey: api.apiKey, clientVersion: 'ha-test' });
    signers.push({ close: () => tatum.close() } as Signer);
    return new PendingProcessor({
      vault,
      journal,
      testnet: true,
      policy,
      broadcaster: new TatumBroadcaster(tatum),
      evm: new NodeEvmFiller((c) => pinnedChainId(c as 'ETH', true, {}), new Map()),
      log: () => {},
    });
  }

  it('maxPer24h holds across two signers that sign at the same time', async () => {
    const { vaults, wallet } = await instances(2);
    const api = await FakeTatumApi.start();
    apis.push(api);
    const fee = 21000n * GWEI;
    const policy = parsePolicy(JSON.stringify({ chains: { ETH: { maxPer24h: (100n + fee).toString() } } }));
    const [p1, p2] = vaults.map((v) => processor(v, api, policy));
    const t1 = served(api, { id: 'a'.repeat(24), chain: 'ETH', hashes: [wallet], serializedTransaction: ethTx(100n) });
    const t2 = served(api, { id: 'b'.repeat(24), chain: 'ETH', hashes: [wallet], serializedTransaction: ethTx(100n) });
    // Two daemons, each with one of the two transactions, interleaved at every await.
    const outcomes = await Promise.all([p1!.process(t1, t1), p2!.process(t2, t2)]);
    const signed = outcomes.filter((o) => o.kind === 'broadcast' || (o as { signed?: boolean }).signed === true);
    expect(api.broadcasts.map((b) => b.signatureId)).toHaveLength(1);
    expect(signed).toHaveLength(1);
    expect(outcomes.find((o) => o.kind === 'failed')).toMatchObject({
      error: expect.stringMatching(/^POLICY_VIOLATION/),
    });
  });

  it('three signers polling 30 pending transactions together: each id broadcast exactly once, one raw transaction per id', async () => {
    const { tv, vaults, wallet } = await instances(3);
    const api = await FakeTatumApi.start();
    apis.push(api);
    const ids = Array.from({ length: 30 }, () =>
      api.queue({ chain: 'ETH', hashes: [wallet], serializedTransaction: ethTx(1n) }),
    );
    const daemons = vaults.map((v) => inProcessSigner(v, api, { testnet: true, chains: ['ETH'] }));
    signers.push(...daemons);
    for (let round = 0; round < 3; round++) {
      const results = await Promise.all(daemons.map((d) => cycle(d)));
      expect(results.filter((r) => r.error !== undefined)).toEqual([]);
    }
    for (const id of ids) expect(api.broadcasts.filter((b) => b.signatureId === id)).toHaveLength(1);
    const rows = new Journal(tv.vault.store).list();
    expect(rows.filter((r) => ids.includes(r.pendingId) && r.state === 'broadcast')).toHaveLength(ids.length);
    expect(new Set(rows.map((r) => r.rawTxHash)).size).toBe(ids.length);
  });

  it('a signer that died holding a claim loses it only when the lease ends; one that died after signing has its raw transaction re-broadcast, never re-signed', async () => {
    const { vaults, wallet } = await instances(2);
    const api = await FakeTatumApi.start();
    apis.push(api);
    const [dead, alive] = vaults as [Vault, Vault];
    // (1) Died after claiming, before signing.
    const t = served(api, { id: 'c'.repeat(24), chain: 'ETH', hashes: [wallet], serializedTransaction: ethTx(1n) });
    const deadJournal = new Journal(dead.store);
    deadJournal.receive(t.id, 'ETH', payloadHash(t));
    expect(deadJournal.claim(t.id)).toBe('claimed');
    expect(await processor(alive, api).process(t, t)).toEqual({
      kind: 'skipped',
      reason: 'another signer is processing this pending transaction',
    });
    const later = new Journal(alive.store, () => new Date(Date.now() + CLAIM_LEASE_MS + 1000));
    const taken = await processor(alive, api, undefined, later).process(t, t);
    expect(taken.kind).toBe('broadcast');
    expect(api.broadcasts.filter((b) => b.signatureId === t.id)).toHaveLength(1);

    // (2) Died after its signature was committed, before the broadcast went out.
    const u = served(api, { id: 'd'.repeat(24), chain: 'ETH', hashes: [wallet], serializedTransaction: ethTx(2n) });
    api.failNext({ kind: 'status', status: 503 }, 1, { path: '/v3/ethereum/broadcast' });
    const first = await processor(dead, api).process(u, u);
    expect(first.kind).toBe('failed');
    const signedRow = new Journal(alive.store).get(u.id)!;
    expect(signedRow.rawTx).toBeDefined();
    // The dead signer is simply never called again (sealing it would log this test process out of the shared token).
    const second = await processor(alive, api).process(u, u);
    expect(second).toMatchObject({ kind: 'broadcast', rebroadcast: true });
    const sent = api.broadcasts.filter((b) => b.signatureId === u.id);
    expect(sent).toHaveLength(1);
    expect(rawTxHash(sent[0]!.txData)).toBe(signedRow.rawTxHash);
  });
});
