import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../../src/vault/schema.js';
import { Journal, payloadHash, rawTxHash } from '../../../src/signer/journal.js';
import type { PendingTransaction } from '../../../src/signer/pending.js';

function journal(now: () => Date = () => new Date()): Journal {
  const db = new Database(':memory:');
  for (const m of MIGRATIONS) db.exec(m);
  return new Journal(db, (fn) => db.transaction(fn).immediate(), now);
}

const P: PendingTransaction = { id: 'aaaaaaaaaaaaaaaaaaaaaaaa', chain: 'ETH', serializedTransaction: '{"to":"0x00"}', hashes: ['w1'] };

describe('journal', () => {
  it('moves received → approved → signed → broadcast and keeps the raw tx', () => {
    const j = journal();
    const h = payloadHash(P);
    expect(j.receive(P.id, 'ETH', h).state).toBe('received');
    j.approve(P.id);
    expect(j.get(P.id)?.state).toBe('approved');
    const hash = j.sign(P.id, '0xf86b', true, [{ scope: 'chain', asset: 'native', amount: 5n }]);
    expect(hash).toBe(rawTxHash('0xf86b'));
    expect(j.get(P.id)).toMatchObject({ state: 'signed', rawTx: '0xf86b', rawTxHash: hash });
    j.broadcast(P.id, '0xabc');
    expect(j.get(P.id)).toMatchObject({ state: 'broadcast', chainTxId: '0xabc', rawTx: '0xf86b' });
  });

  it('never records a second signature, and receive() leaves a signed row untouched', () => {
    const j = journal();
    j.receive(P.id, 'ETH', payloadHash(P));
    j.sign(P.id, 'raw-1', true, []);
    expect(() => j.sign(P.id, 'raw-2', true, [])).toThrow(/already signed/);
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
    const reordered = { hashes: P.hashes, serializedTransaction: P.serializedTransaction, chain: P.chain, id: P.id } as PendingTransaction;
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
});
