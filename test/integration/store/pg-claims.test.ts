/**
 * Claims of several signers on one PostgreSQL store, as /healthz and /metrics report them
 * over real HTTP (issue 16 item 4): claims taken, expired (taken over from another signer)
 * and lost (ours taken over before the signature was recorded), claims held; and liveness: a
 * signer whose connection is gone (killed) has its claims taken over at once, a connected
 * one only when its lease ends.
 */
import type { Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Journal, CLAIM_LEASE_MS, payloadHash, type ClaimEvent } from '../../../src/signer/pipeline/journal.js';
import { startHealthServer, type HealthState } from '../../../src/signer/observe/health-server.js';
import { DaemonMetrics } from '../../../src/signer/observe/metrics.js';
import type { PendingTransaction } from '../../../src/signer/source/pending.js';
import type { Vault } from '../../../src/vault/vault.js';
import { havePostgres, startPostgres, type Postgres } from '../../support/postgres.js';
import { freePort } from '../../../scripts/lib/ports.js';
import { createTestVault, openTestVault, type TestVault } from '../../support/vault.js';
import { addPrivateKey, testKey } from '../../e2e/support.js';
import { metricValue, waitUntil } from '../../e2e/ha-support.js';

interface Instance {
  vault: Vault;
  journal: Journal;
  metrics: DaemonMetrics;
  server: Server;
  port: number;
}

describe.skipIf(!havePostgres)('claims of several signers, through /healthz and /metrics', () => {
  let pg: Postgres;
  let tv: TestVault;
  let wallet: string;
  const servers: Server[] = [];

  beforeAll(async () => {
    pg = await startPostgres();
    process.env.PGPASSFILE = pg.passFile;
    tv = await createTestVault({ testnetOnly: true, store: pg.createDatabase('claims') });
    wallet = addPrivateKey(tv.vault, 'ETH', true, testKey(0x33));
  }, 120_000);
  afterAll(() => {
    for (const s of servers) s.close();
    pg?.destroy();
  });

  /** Another signer: its own connection (instance id), journal, metrics and health server. */
  async function instance(now?: () => Date, fresh = true): Promise<Instance> {
    const vault = fresh ? await openTestVault(tv.path, undefined, join(tv.dir, 'audit.log')) : tv.vault;
    const metrics = await DaemonMetrics.create();
    const journal: Journal = new Journal(vault.store, now, {
      onClaim: (e: ClaimEvent) => {
        if (e === 'taken') metrics.claimsTaken.inc();
        else if (e === 'expired') metrics.claimsExpired.inc();
        else metrics.claimsLost.inc();
      },
    });
    const health: HealthState = {
      unsealed: true,
      tokenReachable: () => true,
      lastPollAt: Date.now(),
      lastPollOk: true,
      maxPollAgeMs: 600_000,
      database: () => vault.store.connection(),
      claimsHeld: () => journal.claimsHeld,
    };
    const port = await freePort();
    const server = await startHealthServer(`127.0.0.1:${port}`, () => health, metrics);
    servers.push(server);
    return { vault, journal, metrics, server, port };
  }

  const healthz = async (i: Instance) =>
    (await (await fetch(`http://127.0.0.1:${i.port}/healthz`)).json()) as Record<string, unknown>;
  const metric = async (i: Instance, name: string) =>
    metricValue(await (await fetch(`http://127.0.0.1:${i.port}/metrics`)).text(), name);
  let n = 0;
  const pending = (): PendingTransaction => ({
    id: (++n).toString(16).padStart(24, 'a'),
    chain: 'ETH',
    hashes: [wallet],
    serializedTransaction: JSON.stringify({ to: '0x1111111111111111111111111111111111111111', value: '1', nonce: n }),
  });

  it('taken, expired, lost and held, as each instance reports them', async () => {
    const a = await instance(undefined, false);
    const later = () => new Date(Date.now() + CLAIM_LEASE_MS + 1000);
    const b = await instance(later);
    const p = pending();
    a.journal.receive(p.id, 'ETH', payloadHash(p));
    expect(a.journal.claim(p.id)).toBe('claimed');
    expect(await healthz(a)).toMatchObject({
      status: 'ok',
      claimsHeld: 1,
      database: { engine: 'postgres', connected: true, error: null },
    });
    // B's clock is past A's lease: it takes the claim over although A is connected.
    expect(b.journal.claim(p.id)).toBe('claimed');
    // A signs anyway: refused, the claim is lost, nothing recorded.
    expect(() => a.journal.sign(p.id, '0xdead', true, [])).toThrow(/JOURNAL_CLAIM_LOST|claimed by another signer/);
    expect(await healthz(a)).toMatchObject({ claimsHeld: 0 });
    expect(await healthz(b)).toMatchObject({ claimsHeld: 1 });
    expect([
      await metric(a, 'hardkms_claims_taken_total'),
      await metric(a, 'hardkms_claims_lost_total'),
      await metric(a, 'hardkms_claims_expired_total'),
    ]).toEqual([1, 1, 0]);
    expect([
      await metric(b, 'hardkms_claims_taken_total'),
      await metric(b, 'hardkms_claims_lost_total'),
      await metric(b, 'hardkms_claims_expired_total'),
    ]).toEqual([1, 0, 1]);
    // B signs: its claim is released from the held count.
    b.journal.sign(p.id, '0xbeef', true, []);
    expect(await healthz(b)).toMatchObject({ claimsHeld: 0 });
  });

  it("a connected signer's claim holds for its lease; a signer whose connection is gone loses it at once", async () => {
    const live = await instance();
    const dying = await instance();
    const other = await instance();
    const p = pending();
    const q = pending();
    live.journal.receive(p.id, 'ETH', payloadHash(p));
    dying.journal.receive(q.id, 'ETH', payloadHash(q));
    expect(live.journal.claim(p.id)).toBe('claimed');
    expect(dying.journal.claim(q.id)).toBe('claimed');
    expect(other.journal.claim(p.id)).toBe('taken');
    expect(other.journal.claim(q.id)).toBe('taken');
    // What SIGKILL does to a signer's connection: closed, its session lock released with it.
    dying.vault.store.close();
    // The server drops the connection's locks when it sees the connection end (a moment later).
    await waitUntil(
      () => other.vault.store.claimOwnerAlive(dying.journal.owner) === false,
      10_000,
      'the closed connection to end',
    );
    expect(other.vault.store.claimOwnerAlive(live.journal.owner)).toBe(true);
    expect(other.journal.claim(p.id)).toBe('taken');
    expect(other.journal.claim(q.id)).toBe('claimed');
    expect(await metric(other, 'hardkms_claims_expired_total')).toBe(1);
  });
});
