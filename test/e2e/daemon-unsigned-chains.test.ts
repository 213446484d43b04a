/**
 * Chains Tatum's daemon polls but hardkms does not sign (issue 12 items 5-6), end to end
 * with the built CLI and the fake Tatum API: every Tatum chain is polled in Tatum's order,
 * each pending transaction of an unsigned chain gets exactly one error-batch entry per
 * cycle (never left pending without a word), BNB is reported as sunset, and the signed
 * chains keep signing in the same cycle. checkconfig, --help and the VET wallet commands
 * say which chains are signed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notSignedReport } from '../../src/signer/source/chain-support.js';
import { ERROR_BATCH_PATH, TATUM_CHAINS, type TatumChain } from '../../src/signer/source/tatum-paths.js';
import { encryptSecretEntry } from '../../src/vault/entry-secrets.js';
import type { Vault } from '../../src/vault/vault.js';
import { runCli } from '../support/cli.js';
import { FakeTatumApi } from '../../scripts/lib/tatum-api-server.js';
import { createTestVault, TEST_PASSWORD, type TestVault } from '../support/vault.js';
import { addPrivateKey, daemonEnv, explain, journalRows, runDaemon, testKey } from './support.js';

/** An export-only wallet of a chain hardkms does not sign, as import-legacy stores it. */
function addExportOnly(vault: Vault, chain: string): string {
  const secret = Buffer.from(JSON.stringify({ secret: 'not-a-real-secret' }), 'utf8');
  const entry = encryptSecretEntry(
    vault,
    { chain, testnet: true, kind: 'secret', publicData: { address: `${chain}-address` } },
    secret,
  );
  vault.store.addEntries([entry]);
  return entry.signatureId;
}

describe('chains polled but not signed, end to end', () => {
  let api: FakeTatumApi;
  let tv: TestVault;
  let eth: string;
  const wallets = new Map<string, string>();

  beforeAll(async () => {
    tv = await createTestVault({ testnetOnly: true });
    eth = addPrivateKey(tv.vault, 'ETH', true, testKey(0x41));
    for (const c of ['FLOW', 'BNB']) wallets.set(c, addExportOnly(tv.vault, c));
    tv.vault.seal('test setup');
    api = await FakeTatumApi.start();
  });
  afterAll(async () => {
    await api?.stop();
  });

  it("polls every Tatum chain in Tatum's order; one error-batch entry per unsigned pending transaction; ETH still signed", async () => {
    api.clearQueue();
    const queued: { id: string; chain: TatumChain }[] = [];
    const q = (chain: TatumChain, st: string) =>
      queued.push({ id: api.queue({ chain, hashes: [wallets.get(chain)!], serializedTransaction: st }), chain });
    q('FLOW', JSON.stringify({ type: 'TRANSFER', body: { to: 'a' } }));
    q('FLOW', JSON.stringify({ type: 'TRANSFER', body: { to: 'b' } }));
    q('BNB', JSON.stringify({ msg: {} }));
    const ethId = api.queue({
      chain: 'ETH',
      hashes: [eth],
      serializedTransaction: JSON.stringify({
        to: '0x1111111111111111111111111111111111111111',
        value: '1',
        gasPrice: '1000000000',
        gas: 21000,
        nonce: 1,
      }),
    });
    const before = api.requests.length;

    const r = await runDaemon(tv, api, ['--runOnce', '--testnet']);
    // --runOnce exits non-zero: transactions were left unsigned (and reported).
    expect(r.code, explain(r)).not.toBe(0);
    expect(r.error().code).toBe('DAEMON_RUN_FAILED');

    const polled = api.requests
      .slice(before)
      .filter((x) => x.path.startsWith('/v3/kms/pending/'))
      .map((x) => x.path.slice('/v3/kms/pending/'.length));
    expect(polled).toEqual([...TATUM_CHAINS]);

    const batches = api.requests.slice(before).filter((x) => x.path === ERROR_BATCH_PATH);
    expect(batches).toHaveLength(1);
    const errors = (batches[0]!.json as { errors: { signatureId: string; error: string }[] }).errors;
    expect(errors).toHaveLength(queued.length);
    for (const { id, chain } of queued) {
      const mine = errors.filter((e) => e.signatureId === id);
      expect(mine, `${chain} ${id}`).toEqual([{ signatureId: id, error: notSignedReport(chain) }]);
    }
    expect(errors.find((e) => e.signatureId === queued.find((x) => x.chain === 'BNB')!.id)?.error).toMatch(
      /^TX_CHAIN_UNSUPPORTED: .*shut down/,
    );
    expect(errors.find((e) => e.signatureId === queued[0]!.id)?.error).toMatch(
      /^TX_CHAIN_NOT_SIGNED: hardkms does not sign FLOW transactions/,
    );

    // Nothing was journaled, signed or broadcast for them; ETH went through in the same cycle.
    const journal = journalRows(tv);
    for (const { id } of queued) expect(journal.get(id)).toBeUndefined();
    expect(api.broadcasts.map((b) => b.signatureId)).toEqual([ethId]);
    expect(errors.some((e) => e.signatureId === ethId)).toBe(false);
  });

  it('a second cycle reports them again, once each (they stay pending at Tatum until cancelled)', async () => {
    const ids = api.pendingIds().filter((id) => api.pending(id)?.chain !== 'ETH');
    const before = api.requests.length;
    const r = await runDaemon(tv, api, ['--runOnce', '--testnet', '--chain', 'FLOW,BNB']);
    expect(r.code, explain(r)).not.toBe(0);
    const batches = api.requests.slice(before).filter((x) => x.path === ERROR_BATCH_PATH);
    expect(batches).toHaveLength(1);
    const reported = (batches[0]!.json as { errors: { signatureId: string }[] }).errors.map((e) => e.signatureId);
    expect([...reported].sort()).toEqual([...ids].sort());
  });

  it('--chain with only unsigned chains is accepted and polls exactly those', async () => {
    api.clearQueue();
    const before = api.requests.length;
    const r = await runDaemon(tv, api, ['--runOnce', '--testnet', '--chain', 'FLOW,BNB']);
    expect(r.code, explain(r)).toBe(0);
    expect(
      api.requests
        .slice(before)
        .filter((x) => x.path.startsWith('/v3/kms/pending/'))
        .map((x) => x.path),
    ).toEqual(['/v3/kms/pending/FLOW', '/v3/kms/pending/BNB']);
  });

  it('checkconfig and --help list the signed, reported and export-only chains', async () => {
    const env = daemonEnv(tv, api);
    const cc = await runCli(['checkconfig', '--path', tv.path], { env });
    expect(cc.code, cc.stderr).toBe(0);
    expect(cc.stdout).toMatch(/^Chains signed by the daemon: BCH, VET, XRP, XLM, ETH, BTC, .*KCS$/m);
    expect(cc.stdout).toMatch(/^Chains polled and reported as not signed \(error batch\): FLOW$/m);
    expect(cc.stdout).toMatch(/^Chains reported as unsupported \(sunset\): BNB$/m);
    // Every chain with managed wallets is signed now: the line is gone.
    expect(cc.stdout).not.toMatch(/^Chains with managed wallets but not signed yet/m);
    expect(cc.stdout).toMatch(/^Chains signed by the daemon: .*EGLD, ONE, ADA, ALGO, KCS$/m);
    expect(cc.stdout).toMatch(/^Chains whose wallets are kept for export only \(import-legacy, export\): BNB, FLOW$/m);
    for (const args of [['--help'], ['daemon', '--help']]) {
      const h = await runCli(args, { env });
      expect(h.code).toBe(0);
      expect(h.stdout).toMatch(/Chains signed by the daemon: BCH, VET, XRP, XLM, ETH/);
      expect(h.stdout).toMatch(/Chains polled and reported as not signed/);
    }
  });

  it('generatemanagedwallet VET no longer warns: the daemon signs VET', async () => {
    const r = await runCli(['generatemanagedwallet', 'VET', '--testnet', '--path', tv.path], {
      env: { ...tv.token.env, TATUM_KMS_PASSWORD: TEST_PASSWORD },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/does not sign/);
    expect(r.json()).toMatchObject({ signatureId: expect.any(String), xpub: expect.stringMatching(/^xpub/) });
  });
});
