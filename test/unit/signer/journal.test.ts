import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROW_SETS_ADOPT, WalletStore } from '../../../src/vault/store.js';
import {
  BROADCAST_HOLD_MS,
  IN_FLIGHT_GRACE_MS,
  Journal,
  payloadHash,
  rawTxHash,
  type JournalStore,
} from '../../../src/signer/pipeline/journal.js';
import type { PendingTransaction } from '../../../src/signer/source/pending.js';

/** A real wallet.dat (SQLite file) with row access, as an unsealed vault has it. */
function freshStore(): { store: WalletStore; path: string; key: Buffer } {
  const path = join(mkdtempSync(join(tmpdir(), 'hardkms-journal-')), 'wallet.dat');
  const store = WalletStore.create(path);
  const key = randomBytes(32);
  store.unlock(key, 'vault-id');
  store.transaction(() => {
    store.rebuildRowSets();
    store.deleteMeta(ROW_SETS_ADOPT);
  });
  return { store, path, key };
}

function journal(now: () => Date = () => new Date()): Journal {
  return new Journal(freshStore().store, now);
}

const P: PendingTransaction = {
  id: 'aaaaaaaaaaaaaaaaaaaaaaaa',
  chain: 'ETH',
  serializedTransaction: '{"to":"0x00"}',
  hashes: ['w1'],
};

describe('journal', () => {
  it('moves received → approved → signed → broadcast and keeps the raw tx', () => {
    const j = journal();
    const h = payloadHash(P);
    expect(j.receive(P.id, 'ETH', h).state).toBe('received');
    expect(j.claim(P.id, { approve: true })).toBe('claimed');
    expect(j.get(P.id)).toMatchObject({ state: 'approved', claim: j.owner });
    const hash = j.sign(P.id, '0xf86b', true, [{ scope: 'chain', asset: 'native', amount: 5n }]);
    expect(hash).toBe(rawTxHash('0xf86b'));
    expect(j.get(P.id)).toMatchObject({ state: 'signed', rawTx: '0xf86b', rawTxHash: hash });
    j.broadcast(P.id, '0xabc');
    expect(j.get(P.id)).toMatchObject({ state: 'broadcast', chainTxId: '0xabc', rawTx: '0xf86b' });
  });

  it('receiveAndClaim: a new id written once as receive + claim({ approve }) leave it; an existing row goes through both', () => {
    const t = new Date('2025-01-01T00:00:00Z');
    const { store, path, key } = freshStore();
    const other = WalletStore.open(path);
    other.unlock(key, 'vault-id');
    const a = new Journal(store, () => t);
    const b = new Journal(other, () => t);
    // What the two calls leave, on another id of the same store.
    const Q = 'c'.repeat(24);
    a.receive(Q, 'ETH', 'hq');
    a.claim(Q, { approve: true });
    const { pendingId: _q, ...twoCalls } = a.get(Q)!;
    expect(a.receiveAndClaim(P.id, 'ETH', 'hp')).toBe('claimed');
    const { pendingId: _p, ...oneCall } = a.get(P.id)!;
    expect(oneCall).toEqual({ ...twoCalls, payloadHash: 'hp' });
    expect(a.claimsHeld).toBe(2);
    // Seen again by another signer: the row exists, its live claim is kept, the approval recorded.
    expect(b.receiveAndClaim(P.id, 'ETH', 'hp')).toBe('taken');
    expect(b.get(P.id)).toMatchObject({ state: 'approved', claim: a.owner });
    expect(b.claimsHeld).toBe(0);
    // Signed: neither call may touch it.
    a.sign(P.id, 'raw-a', true, []);
    expect(b.receiveAndClaim(P.id, 'ETH', 'other')).toBe('signed');
    expect(a.get(P.id)).toMatchObject({ state: 'signed', rawTx: 'raw-a', payloadHash: 'hp' });
    other.close();
  });

  it('never records a second signature, and receive() leaves a signed row untouched', () => {
    const j = journal();
    j.receive(P.id, 'ETH', payloadHash(P));
    j.sign(P.id, 'raw-1', true, []);
    expect(() => j.sign(P.id, 'raw-2', true, [])).toThrow(
      expect.objectContaining({ code: 'JOURNAL_CLAIM_LOST', message: expect.stringMatching(/already signed/) }),
    );
    const other = payloadHash({ ...P, serializedTransaction: '{"to":"0x01"}' });
    const row = j.receive(P.id, 'ETH', other);
    expect(row.rawTx).toBe('raw-1');
    expect(row.payloadHash).toBe(payloadHash(P));
    j.fail(P.id, 'node down');
    expect(j.get(P.id)).toMatchObject({ state: 'failed', rawTx: 'raw-1', error: 'node down' });
  });

  it('a failure before signing is retried from scratch with the new payload', () => {
    const j = journal();
    j.receive(P.id, 'ETH', 'h1');
    j.fail(P.id, 'bad payload');
    const row = j.receive(P.id, 'ETH', 'h2');
    expect(row).toMatchObject({ state: 'received', payloadHash: 'h2', error: undefined, rawTx: undefined });
  });

  it('payload hash ignores key order and the txId the server adds later', () => {
    const reordered = {
      hashes: P.hashes,
      serializedTransaction: P.serializedTransaction,
      chain: P.chain,
      id: P.id,
    } as PendingTransaction;
    expect(payloadHash(reordered)).toBe(payloadHash(P));
    expect(payloadHash({ ...P, txId: '0x1' })).toBe(payloadHash(P));
    expect(payloadHash({ ...P, index: 1 })).not.toBe(payloadHash(P));
  });

  it('sums spends in a rolling window per chain, net, scope and asset', () => {
    let t = new Date('2025-01-01T00:00:00Z');
    const j = journal(() => t);
    const sign = (id: string, amount: bigint, testnet = true) => {
      j.receive(id, 'ETH', 'h');
      j.sign(id, `raw-${id}`, testnet, [
        { scope: 'chain', asset: 'native', amount },
        { scope: 'wallet:w1', asset: 'native', amount },
      ]);
    };
    sign('a'.repeat(24), 10n);
    t = new Date('2025-01-01T12:00:00Z');
    sign('b'.repeat(24), 20n);
    sign('c'.repeat(24), 1000n, false);
    const since = new Date('2025-01-01T06:00:00Z');
    expect(j.spentSince('ETH', true, 'chain', 'native', since)).toBe(20n);
    expect(j.spentSince('ETH', true, 'wallet:w1', 'native', new Date(0))).toBe(30n);
    expect(j.spentSince('ETH', false, 'chain', 'native', new Date(0))).toBe(1000n);
    expect(j.spentSince('ETH', true, 'chain', '0xtoken', new Date(0))).toBe(0n);
  });

  it('two signers on one wallet.dat: the first claim wins, the other sees a live claim and skips; a stale claim is taken over', () => {
    let t = new Date('2025-01-01T00:00:00Z');
    const { store, path, key } = freshStore();
    const other = WalletStore.open(path);
    other.unlock(key, 'vault-id');
    const a = new Journal(store, () => t);
    const b = new Journal(other, () => t);
    a.receive(P.id, 'ETH', payloadHash(P));
    b.receive(P.id, 'ETH', payloadHash(P));
    expect(a.claim(P.id)).toBe('claimed');
    // The loser's approval is still recorded; the claim stays the winner's.
    expect(b.claim(P.id, { approve: true })).toBe('taken');
    expect(b.get(P.id)).toMatchObject({ state: 'approved', claim: a.owner });
    // The loser never gets to record a signature.
    expect(() => b.sign(P.id, 'raw-b', true, [])).toThrow(expect.objectContaining({ code: 'JOURNAL_CLAIM_LOST' }));
    a.sign(P.id, 'raw-a', true, []);
    expect(b.claim(P.id)).toBe('signed');
    // A signer that died after claiming: after the lease another may take the id.
    const Q = 'b'.repeat(24);
    a.receive(Q, 'ETH', 'h');
    expect(a.claim(Q)).toBe('claimed');
    t = new Date(t.getTime() + 121_000);
    expect(b.claim(Q)).toBe('claimed');
    other.close();
  });

  it('row sets are written once per transaction: a rolled-back savepoint takes its rows and its row-set change with it', () => {
    const { store, path, key } = freshStore();
    const j = new Journal(store);
    const ids = ['c'.repeat(24), 'd'.repeat(24), 'e'.repeat(24)];
    store.transaction(() => {
      j.receive(ids[0]!, 'ETH', 'h0');
      expect(() =>
        store.transaction(() => {
          j.receive(ids[1]!, 'ETH', 'h1');
          throw new Error('this step fails after writing its row');
        }),
      ).toThrow('this step fails');
      j.receive(ids[2]!, 'ETH', 'h2');
      expect(j.claim(ids[2]!)).toBe('claimed');
    });
    expect(() =>
      store.transaction(() => {
        j.receive(ids[1]!, 'ETH', 'h1');
        throw new Error('the whole transaction fails');
      }),
    ).toThrow('the whole transaction fails');
    // Another connection recomputes the digests from the rows and checks them against the stored record.
    const other = WalletStore.open(path);
    other.unlock(key, 'vault-id');
    expect(() => other.verifyRowSets()).not.toThrow();
    const o = new Journal(other);
    expect(ids.map((id) => o.get(id)?.state)).toEqual(['received', undefined, 'received']);
    // And the record still catches a row deleted behind its back.
    other.database.prepare('DELETE FROM journal WHERE pending_id = ?').run(ids[0]);
    const third = WalletStore.open(path);
    third.unlock(key, 'vault-id');
    expect(() => third.verifyRowSets()).toThrow(expect.objectContaining({ code: 'VAULT_ROW_TAMPERED' }));
    other.close();
    third.close();
  });

  it("a signed row: a live signer keeps its claim through the broadcast whatever the lease; a dead one's is free after the in-flight grace", () => {
    let t = new Date('2025-01-01T00:00:00Z');
    const { store, path, key } = freshStore();
    const other = WalletStore.open(path);
    other.unlock(key, 'vault-id');
    let alive = true;
    // What the PostgreSQL store tells of another instance (its session lock): alive or not.
    const seen: JournalStore = {
      get database() {
        return other.database;
      },
      transaction: (fn) => other.transaction(fn),
      macOf: (...a) => other.macOf(...a),
      bindRows: (...a) => other.bindRows(...a),
      verifyRowSets: (...a) => other.verifyRowSets(...a),
      claimOwnerAlive: () => alive,
    };
    const a = new Journal(store, () => t, { leaseMs: 3_000 });
    const b = new Journal(seen, () => t, { leaseMs: 3_000 });
    a.receive(P.id, 'ETH', payloadHash(P));
    expect(a.claim(P.id)).toBe('claimed');
    a.sign(P.id, 'raw-a', true, []);
    // Past the 3 s lease, but its broadcast may still be on its way: held.
    t = new Date(t.getTime() + 4_000);
    expect(b.claimBroadcast(P.id)).toBe('taken');
    t = new Date(t.getTime() + BROADCAST_HOLD_MS);
    expect(b.claimBroadcast(P.id)).toBe('claimed');

    // Dead right after signing: its request may be in Tatum's hands; free once the grace is over.
    const Q = 'c'.repeat(24);
    a.receive(Q, 'ETH', 'h');
    expect(a.claim(Q)).toBe('claimed');
    a.sign(Q, 'raw-q', true, []);
    alive = false;
    t = new Date(t.getTime() + 1_000);
    expect(b.claimBroadcast(Q)).toBe(IN_FLIGHT_GRACE_MS - 1_000);
    t = new Date(t.getTime() + IN_FLIGHT_GRACE_MS);
    expect(b.claimBroadcast(Q)).toBe('claimed');

    // Recorded as broadcast by another signer since the row was read: nothing to send.
    b.broadcast(Q, '0xq');
    expect(a.claimBroadcast(Q)).toBe('broadcast');
    other.close();
  });
});
