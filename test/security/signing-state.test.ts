/**
 * Attacks on the signing state by someone with write access to wallet.dat but without the
 * vault secret: deleting, editing, restoring or re-inserting rows with plain SQL on the
 * file while (or between the times) the signer runs. The attack succeeds if the signer
 * acts on the altered state; it must instead stop with VAULT_ROW_TAMPERED. Each test fails
 * on the code before issue 10's fix (checked once, see the note of issue 10).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { payloadHash } from '../../src/signer/pipeline/journal.js';
import { Journal } from '../../src/signer/pipeline/journal.js';
import type { PendingTransaction } from '../../src/signer/source/pending.js';
import { parsePolicy } from '../../src/signer/pipeline/policy.js';
import { PendingProcessor } from '../../src/signer/pipeline/process-pending.js';
import { TatumBroadcaster } from '../../src/signer/sinks/broadcast.js';
import { NodeEvmFiller } from '../../src/signer/pipeline/evm-fill.js';
import { pinnedChainId } from '../../src/signer/pipeline/chain-ids.js';
import { OtpStore } from '../../src/vault/otp-store.js';
import { WalletStore } from '../../src/vault/store.js';
import { FakeTatumApi } from '../../scripts/lib/tatum-api-server.js';
import { createTestVault, openTestVault, type TestVault } from '../support/vault.js';
import { addPrivateKey, auditRecords, testKey } from '../e2e/support.js';
import { cycle, inProcessSigner, withFile, type Signer } from './support.js';

const A = '0x1111111111111111111111111111111111111111';
const ATTACKER = '0x000000000000000000000000000000000000a77a';
const GWEI = 10n ** 9n;

describe('attacks on the signing state (write access to wallet.dat)', () => {
  let tv: TestVault | undefined;
  let api: FakeTatumApi | undefined;
  let signer: Signer | undefined;
  let nonce = 0;
  const ethTx = (to: string, value: bigint) =>
    JSON.stringify({ to, value: value.toString(), gasPrice: GWEI.toString(), gas: 21000, nonce: nonce++ });

  afterEach(async () => {
    signer?.close();
    await api?.stop();
    try {
      tv?.vault.seal('test end');
    } catch {
      // a test may have sealed it already
    }
    signer = undefined;
    api = undefined;
    tv = undefined;
  });

  async function setup(policy?: string): Promise<{ tv: TestVault; api: FakeTatumApi; s: Signer; wallet: string }> {
    tv = await createTestVault({ testnetOnly: true });
    const wallet = addPrivateKey(tv.vault, 'ETH', true, testKey(0x51));
    api = await FakeTatumApi.start();
    signer = inProcessSigner(tv.vault, api, {
      testnet: true,
      chains: ['ETH'],
      ...(policy ? { policy: parsePolicy(policy) } : {}),
    });
    return { tv, api, s: signer, wallet };
  }
  const broadcastsOf = (api: FakeTatumApi, id: string) => api.broadcasts.filter((b) => b.signatureId === id);

  it('deleting the journal row of a broadcast transaction does not get a second, different transaction signed for its id', async () => {
    const { tv, api, s, wallet } = await setup();
    const id = api.queue({ chain: 'ETH', hashes: [wallet], serializedTransaction: ethTx(A, 1n) });
    await cycle(s);
    expect(broadcastsOf(api, id)).toHaveLength(1);
    // The attacker erases what the journal knew, and the API serves the same id again, paying elsewhere.
    withFile(tv.path, (db) => db.prepare('DELETE FROM journal WHERE pending_id = ?').run(id));
    api.clearQueue();
    api.queue({ id, chain: 'ETH', hashes: [wallet], serializedTransaction: ethTx(ATTACKER, 10n ** 18n) });
    const r = await cycle(s);
    expect(broadcastsOf(api, id)).toHaveLength(1);
    expect(r.error).toMatchObject({
      code: 'VAULT_ROW_TAMPERED',
      message: expect.stringMatching(/journal rows .* do not match/),
    });
  });

  it('erasing the signature of a journal row is found by the row MAC', async () => {
    const { tv, api, s, wallet } = await setup();
    const id = api.queue({ chain: 'ETH', hashes: [wallet], serializedTransaction: ethTx(A, 1n) });
    await cycle(s);
    withFile(tv.path, (db) =>
      db.prepare("UPDATE journal SET raw_tx = NULL, raw_tx_hash = NULL, state = 'failed' WHERE pending_id = ?").run(id),
    );
    api.clearQueue();
    api.queue({ id, chain: 'ETH', hashes: [wallet], serializedTransaction: ethTx(ATTACKER, 10n ** 18n) });
    await cycle(s);
    expect(broadcastsOf(api, id)).toHaveLength(1);
    expect(api.errorReports.filter((e) => e.signatureId === id).map((e) => e.error)).toEqual([
      expect.stringMatching(/^VAULT_ROW_TAMPERED: The journal row/),
    ]);
  });

  it('deleting journal_spend rows does not let a transaction that maxPer24h refused be signed', async () => {
    const fee = 21000n * GWEI;
    const { tv, api, s, wallet } = await setup(
      JSON.stringify({ chains: { ETH: { maxPer24h: (100n + fee).toString() } } }),
    );
    const first = api.queue({ chain: 'ETH', hashes: [wallet], serializedTransaction: ethTx(A, 100n) });
    const second = api.queue({ chain: 'ETH', hashes: [wallet], serializedTransaction: ethTx(A, 100n) });
    await cycle(s);
    expect(broadcastsOf(api, first)).toHaveLength(1);
    expect(broadcastsOf(api, second)).toEqual([]);
    withFile(tv.path, (db) => db.prepare('DELETE FROM journal_spend').run());
    const r = await cycle(s);
    expect(broadcastsOf(api, second)).toEqual([]);
    expect(r.error).toMatchObject({
      code: 'VAULT_ROW_TAMPERED',
      message: expect.stringMatching(/journal_spend rows .*\(2 row\(s\) missing/),
    });
  });

  it("another pending transaction's signed bytes written into a signed row are not broadcast", async () => {
    const { tv, api, s, wallet } = await setup();
    api.failNext({ kind: 'status', status: 503 }, 1, { path: '/v3/ethereum/broadcast' });
    const victim = api.queue({ chain: 'ETH', hashes: [wallet], serializedTransaction: ethTx(A, 1n) });
    const other = api.queue({ chain: 'ETH', hashes: [wallet], serializedTransaction: ethTx(ATTACKER, 2n) });
    await cycle(s);
    expect(broadcastsOf(api, victim)).toEqual([]);
    const foreign = broadcastsOf(api, other)[0]!.txData;
    withFile(tv.path, (db) => db.prepare('UPDATE journal SET raw_tx = ? WHERE pending_id = ?').run(foreign, victim));
    await cycle(s);
    expect(api.broadcasts.filter((b) => b.signatureId === victim && b.txData === foreign)).toEqual([]);
    expect(api.errorReports.filter((e) => e.signatureId === victim).at(-1)?.error).toMatch(
      /^VAULT_ROW_TAMPERED: The journal row/,
    );
  });

  it('an OTP counter row restored from an older copy is not accepted as current', async () => {
    tv = await createTestVault({ testnetOnly: true });
    const otp = new OtpStore(tv.vault.store);
    const publicId = 'cccccccccccb';
    otp.add({ publicId, keyId: '01', privateId: Buffer.alloc(6, 1), label: 'operator 1' });
    otp.advance(publicId, { useCounter: 5, sessionCounter: 0 });
    const old = withFile(
      tv.path,
      (db) => db.prepare('SELECT * FROM otp WHERE public_id = ?').get(publicId) as Record<string, unknown>,
    );
    otp.advance(publicId, { useCounter: 6, sessionCounter: 3 });
    tv.vault.seal('attacker waits');
    withFile(tv.path, (db) =>
      db
        .prepare(
          'UPDATE otp SET use_counter = @use_counter, session_counter = @session_counter, updated = @updated, mac = @mac WHERE public_id = @public_id',
        )
        .run(old),
    );
    const reopened = openTestVault(tv.path);
    await expect(reopened).rejects.toMatchObject({
      code: 'VAULT_ROW_TAMPERED',
      message: expect.stringMatching(/otp rows .*\(a row replaced/),
    });
  });

  it('a wallet row deleted, or deleted and put back, is noticed at the next unseal', async () => {
    tv = await createTestVault({ testnetOnly: true });
    const w1 = addPrivateKey(tv.vault, 'ETH', true, testKey(0x52));
    const w2 = addPrivateKey(tv.vault, 'ETH', true, testKey(0x53));
    const row = withFile(
      tv.path,
      (db) => db.prepare('SELECT * FROM wallets WHERE signature_id = ?').get(w1) as Record<string, unknown>,
    );
    // Revoked the proper way: removed through the store.
    expect(tv.vault.store.removeEntry(w1)).toBe(true);
    tv.vault.seal('attacker waits');
    const insert =
      'INSERT INTO wallets (signature_id, chain, testnet, kind, public_data, wrapped_secret, mechanism, created, mac) VALUES (@signature_id, @chain, @testnet, @kind, @public_data, @wrapped_secret, @mechanism, @created, @mac)';
    withFile(tv.path, (db) => db.prepare(insert).run(row));
    await expect(openTestVault(tv.path)).rejects.toMatchObject({
      code: 'VAULT_ROW_TAMPERED',
      message: expect.stringMatching(/wallets rows .*\(1 row\(s\) too many/),
    });
    withFile(tv.path, (db) => db.prepare('DELETE FROM wallets WHERE signature_id IN (?, ?)').run(w1, w2));
    await expect(openTestVault(tv.path)).rejects.toMatchObject({
      code: 'VAULT_ROW_TAMPERED',
      message: expect.stringMatching(/wallets rows .*\(1 row\(s\) missing/),
    });
  });

  it('a mac column stored as TEXT is VAULT_ROW_TAMPERED, not an internal error', async () => {
    tv = await createTestVault({ testnetOnly: true });
    const w = addPrivateKey(tv.vault, 'ETH', true, testKey(0x54));
    withFile(tv.path, (db) =>
      db.prepare('UPDATE wallets SET mac = substr(hex(mac), 1, 32) WHERE signature_id = ?').run(w),
    );
    let thrown: unknown;
    try {
      tv.vault.store.getEntry(w);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toMatchObject({ code: 'VAULT_ROW_TAMPERED' });
  });

  it('two signers on one wallet.dat: the one that loses the claim never unwraps a key and reports nothing', async () => {
    const { tv, api, wallet } = await setup();
    const pending: PendingTransaction = {
      id: 'f'.repeat(24),
      chain: 'ETH',
      hashes: [wallet],
      serializedTransaction: ethTx(A, 1n),
    };
    // The other daemon: its own connection to the same file, already holding the id.
    const otherStore = WalletStore.open(tv.path);
    otherStore.unlock(tv.vault.currentSecret().storeKey, tv.vault.vaultId);
    const other = new Journal(otherStore);
    other.receive(pending.id, 'ETH', payloadHash(pending));
    expect(other.claim(pending.id)).toBe('claimed');
    const ours = new PendingProcessor({
      vault: tv.vault,
      journal: new Journal(tv.vault.store),
      testnet: true,
      broadcaster: new TatumBroadcaster(signer!.tatum),
      evm: new NodeEvmFiller((c) => pinnedChainId(c as 'ETH', true, {}), new Map()),
      log: () => {},
    });
    const outcome = await ours.process(pending, pending);
    otherStore.close();
    expect(outcome).toEqual({ kind: 'skipped', reason: 'another signer is processing this pending transaction' });
    expect(auditRecords(tv).filter((r) => r.event === 'unwrap' && r.subject === pending.id)).toEqual([]);
    expect(broadcastsOf(api, pending.id)).toEqual([]);
  });
});
