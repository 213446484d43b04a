/**
 * The PostgreSQL store is trusted no more than wallet.dat (issue 16 item 1): the database
 * admin edits, swaps, deletes and restores rows with psql (a superuser session over the
 * server's unix socket, no vault secret), and every change is found exactly as the same
 * change to the file is (test/security/signing-state.test.ts): VAULT_ROW_TAMPERED or
 * VAULT_META_TAMPERED, nothing signed on the altered state.
 */
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parsePolicy } from '../../src/signer/pipeline/policy.js';
import { OtpStore } from '../../src/vault/otp-store.js';
import { FakeTatumApi } from '../../scripts/lib/tatum-api-server.js';
import { havePostgres, startPostgres, type Postgres } from '../support/postgres.js';
import { createTestVault, openTestVault, type TestVault } from '../support/vault.js';
import { addPrivateKey, testKey } from '../e2e/support.js';
import { cycle, inProcessSigner, type Signer } from './support.js';

const A = '0x1111111111111111111111111111111111111111';
const ATTACKER = '0x000000000000000000000000000000000000a77a';
const GWEI = 10n ** 9n;

describe.skipIf(!havePostgres)('the database admin tampers with the PostgreSQL store (psql)', () => {
  let pg: Postgres;
  let n = 0;
  let tv: TestVault | undefined;
  let api: FakeTatumApi | undefined;
  let signer: Signer | undefined;
  let db = '';
  let nonce = 0;
  const ethTx = (to: string, value: bigint) =>
    JSON.stringify({ to, value: value.toString(), gasPrice: GWEI.toString(), gas: 21000, nonce: nonce++ });
  /** The admin's psql session on this test's database. */
  const psql = (sql: string) => pg.psql(sql, db);

  beforeAll(async () => {
    pg = await startPostgres();
    process.env.PGPASSFILE = pg.passFile;
  });
  afterAll(() => pg?.destroy());
  afterEach(async () => {
    signer?.close();
    await api?.stop();
    try {
      tv?.vault.seal('test end');
    } catch {
      // sealed already
    }
    signer = undefined;
    api = undefined;
    tv = undefined;
  });

  async function vault(): Promise<TestVault> {
    db = `tamper_${++n}`;
    tv = await createTestVault({ testnetOnly: true, store: pg.createDatabase(db) });
    return tv;
  }
  const reopen = (t: TestVault) => openTestVault(t.path, undefined, join(t.dir, 'audit.log'));

  async function withSigner(policy?: string): Promise<{ tv: TestVault; api: FakeTatumApi; s: Signer; wallet: string }> {
    const t = await vault();
    const wallet = addPrivateKey(t.vault, 'ETH', true, testKey(0x61));
    api = await FakeTatumApi.start();
    signer = inProcessSigner(t.vault, api, {
      testnet: true,
      chains: ['ETH'],
      ...(policy ? { policy: parsePolicy(policy) } : {}),
    });
    return { tv: t, api, s: signer, wallet };
  }
  const broadcastsOf = (a: FakeTatumApi, id: string) => a.broadcasts.filter((b) => b.signatureId === id);

  it('a value edited in a wallet row (the address deposits go to) is VAULT_ROW_TAMPERED', async () => {
    const t = await vault();
    const w = addPrivateKey(t.vault, 'ETH', true, testKey(0x62));
    psql(`UPDATE wallets SET public_data = '{"address":"${ATTACKER}"}' WHERE signature_id = '${w}'`);
    expect(() => t.vault.store.getEntry(w)).toThrow(expect.objectContaining({ code: 'VAULT_ROW_TAMPERED' }));
  });

  it('two wallet rows swapped (keys and MACs moved to the other id) are VAULT_ROW_TAMPERED', async () => {
    const t = await vault();
    const w1 = addPrivateKey(t.vault, 'ETH', true, testKey(0x63));
    const w2 = addPrivateKey(t.vault, 'ETH', true, testKey(0x64));
    psql(
      `UPDATE wallets AS a SET public_data = b.public_data, wrapped_secret = b.wrapped_secret, mac = b.mac FROM wallets AS b ` +
        `WHERE (a.signature_id, b.signature_id) IN (('${w1}', '${w2}'), ('${w2}', '${w1}'))`,
    );
    expect(() => t.vault.store.getEntry(w1)).toThrow(expect.objectContaining({ code: 'VAULT_ROW_TAMPERED' }));
    expect(() => t.vault.store.getEntry(w2)).toThrow(expect.objectContaining({ code: 'VAULT_ROW_TAMPERED' }));
  });

  it('deleting the journal row of a broadcast transaction does not get a second transaction signed for its id', async () => {
    const { api, s, wallet } = await withSigner();
    const id = api.queue({ chain: 'ETH', hashes: [wallet], serializedTransaction: ethTx(A, 1n) });
    await cycle(s);
    expect(broadcastsOf(api, id)).toHaveLength(1);
    psql(`DELETE FROM journal WHERE pending_id = '${id}'`);
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
    const { api, s, wallet } = await withSigner();
    const id = api.queue({ chain: 'ETH', hashes: [wallet], serializedTransaction: ethTx(A, 1n) });
    await cycle(s);
    psql(`UPDATE journal SET raw_tx = NULL, raw_tx_hash = NULL, state = 'failed' WHERE pending_id = '${id}'`);
    api.clearQueue();
    api.queue({ id, chain: 'ETH', hashes: [wallet], serializedTransaction: ethTx(ATTACKER, 10n ** 18n) });
    await cycle(s);
    expect(broadcastsOf(api, id)).toHaveLength(1);
    expect(api.errorReports.filter((e) => e.signatureId === id).map((e) => e.error)).toEqual([
      expect.stringMatching(/^VAULT_ROW_TAMPERED: The journal row/),
    ]);
  });

  it('deleting spend-ledger rows does not let a transaction that maxPer24h refused be signed', async () => {
    const fee = 21000n * GWEI;
    const { api, s, wallet } = await withSigner(
      JSON.stringify({ chains: { ETH: { maxPer24h: (100n + fee).toString() } } }),
    );
    const first = api.queue({ chain: 'ETH', hashes: [wallet], serializedTransaction: ethTx(A, 100n) });
    const second = api.queue({ chain: 'ETH', hashes: [wallet], serializedTransaction: ethTx(A, 100n) });
    await cycle(s);
    expect(broadcastsOf(api, first)).toHaveLength(1);
    expect(broadcastsOf(api, second)).toEqual([]);
    psql('DELETE FROM journal_spend');
    const r = await cycle(s);
    expect(broadcastsOf(api, second)).toEqual([]);
    expect(r.error).toMatchObject({
      code: 'VAULT_ROW_TAMPERED',
      message: expect.stringMatching(/journal_spend rows .*\(2 row\(s\) missing/),
    });
  });

  it('an OTP counter row restored from an older copy is refused at the next unseal', async () => {
    const t = await vault();
    const otp = new OtpStore(t.vault.store);
    const publicId = 'cccccccccccb';
    otp.add({ publicId, keyId: '01', privateId: Buffer.alloc(6, 1), label: 'operator 1' });
    otp.advance(publicId, { useCounter: 5, sessionCounter: 0 });
    const [use, session, updated, mac] = psql(
      `SELECT use_counter, session_counter, updated, encode(mac, 'hex') FROM otp WHERE public_id = '${publicId}'`,
    )
      .trim()
      .split('|');
    otp.advance(publicId, { useCounter: 6, sessionCounter: 3 });
    t.vault.seal('the admin waits');
    psql(
      `UPDATE otp SET use_counter = ${use}, session_counter = ${session}, updated = '${updated}', mac = decode('${mac}', 'hex') WHERE public_id = '${publicId}'`,
    );
    await expect(reopen(t)).rejects.toMatchObject({
      code: 'VAULT_ROW_TAMPERED',
      message: expect.stringMatching(/otp rows .*\(a row replaced/),
    });
  });

  it('a revoked wallet row put back, or a wallet row deleted, is refused at the next unseal', async () => {
    const t = await vault();
    const w1 = addPrivateKey(t.vault, 'ETH', true, testKey(0x65));
    addPrivateKey(t.vault, 'ETH', true, testKey(0x66));
    psql(`CREATE TABLE saved AS SELECT * FROM wallets WHERE signature_id = '${w1}'`);
    expect(t.vault.store.removeEntry(w1)).toBe(true);
    t.vault.seal('the admin waits');
    psql('INSERT INTO wallets SELECT * FROM saved');
    await expect(reopen(t)).rejects.toMatchObject({
      code: 'VAULT_ROW_TAMPERED',
      message: expect.stringMatching(/wallets rows .*\(1 row\(s\) too many/),
    });
    psql('DELETE FROM wallets');
    await expect(reopen(t)).rejects.toMatchObject({
      code: 'VAULT_ROW_TAMPERED',
      message: expect.stringMatching(/wallets rows .*\(1 row\(s\) missing/),
    });
  });

  it('the token binding edited in meta (another PKCS#11 module gets the PIN) is VAULT_META_TAMPERED', async () => {
    const t = await vault();
    t.vault.seal('the admin waits');
    psql(
      `UPDATE meta SET value = jsonb_set(value::jsonb, '{modulePath}', '"/tmp/evil.so"')::text WHERE key = 'token_binding'`,
    );
    await expect(reopen(t)).rejects.toMatchObject({ code: 'VAULT_META_TAMPERED' });
  });
});
