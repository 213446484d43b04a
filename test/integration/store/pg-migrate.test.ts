/**
 * `store migrate` both ways on a 25,000-wallet vault (issue 16 item 1): wallet.dat →
 * PostgreSQL → wallet.dat; every row verified after each move, wallets sign with the token,
 * signatures checked by an independent verifier (@noble/curves); an interrupted copy (rows
 * but no meta yet) is not a vault and the rerun completes it.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { secp256k1 } from '@noble/curves/secp256k1';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chainKit } from '../../../src/chains/kit.js';
import { generatePrivateKeyBatch } from '../../../src/vault/tatum-wallets.js';
import { migrateVault } from '../../../src/vault/store-migrate.js';
import { signWithEntry } from '../../../src/vault/entry-secrets.js';
import type { Vault } from '../../../src/vault/vault.js';
import { havePostgres, startPostgres, type Postgres } from '../../support/postgres.js';
import { createTestVault, openTestVault } from '../../support/vault.js';

const WALLETS = 25_000;
/** Every SIGN_EVERY-th wallet signs after each move (all of them are MAC-verified). */
const SIGN_EVERY = Number(process.env.HARDKMS_MIGRATE_SIGN_EVERY ?? '25');

/** Lets vitest's worker RPC through between long synchronous stretches (token calls, store round trips). */
const breathe = () => new Promise((r) => setImmediate(r));

async function signSample(vault: Vault): Promise<number> {
  const entries = vault.store.listEntries(); // every row's MAC checked
  expect(entries).toHaveLength(WALLETS);
  let signed = 0;
  for (let i = 0; i < entries.length; i += SIGN_EVERY) {
    if (signed % 100 === 0) await breathe();
    const e = entries[i]!;
    const digest = createHash('sha256').update(e.signatureId).digest();
    const sig = signWithEntry(vault, e, digest);
    const compact = Buffer.concat([Buffer.from(sig.r), Buffer.from(sig.s)]);
    expect(secp256k1.verify(compact, digest, Buffer.from(e.publicData.publicKey!, 'hex'), { prehash: false })).toBe(
      true,
    );
    signed++;
  }
  return signed;
}

describe.skipIf(!havePostgres)('store migrate with 25,000 wallets', () => {
  let pg: Postgres;
  beforeAll(async () => {
    pg = await startPostgres();
    process.env.PGPASSFILE = pg.passFile;
  });
  afterAll(() => pg?.destroy());

  it(
    'wallet.dat → PostgreSQL → wallet.dat: every row verified, wallets sign, an interrupted copy resumes',
    { timeout: 900_000 },
    async () => {
      const tv = await createTestVault({ testnetOnly: true });
      const log = join(tv.dir, 'audit.log');
      for (let made = 0; made < WALLETS; made += 2500) {
        generatePrivateKeyBatch(tv.vault, chainKit('ETH'), true, 2500, () => {}, 2500);
        await breathe();
      }
      const before = await signSample(tv.vault);

      const url = pg.createDatabase('migrated');
      const r = migrateVault(tv.vault, url);
      // removed: the fresh target's own schema marker (row_sets_adopt), which the source does not have.
      expect(r).toMatchObject({ rows: { wallets: WALLETS }, resumed: false, removed: 1 });
      const onPg = await openTestVault(url, undefined, log);
      expect(onPg.store.kind).toBe('postgres');
      await breathe();
      expect(await signSample(onPg)).toBe(before);

      // Back to a file, interrupted: the rows are there, the meta is not (the copy writes it last).
      const back = join(tv.dir, 'back', 'wallet.dat');
      await breathe();
      migrateVault(onPg, back);
      await breathe();
      const cut = new Database(back);
      cut.exec(
        "DELETE FROM meta; DELETE FROM wallets WHERE rowid % 3 = 0; INSERT INTO meta (key, value) VALUES ('row_sets_adopt', '1')",
      );
      cut.close();
      await expect(openTestVault(back, undefined, log)).rejects.toMatchObject({ code: 'VAULT_INCOMPLETE' });
      const again = await openTestVault(url, undefined, log);
      await breathe();
      const resumed = migrateVault(again, back);
      await breathe();
      expect(resumed).toMatchObject({ rows: { wallets: WALLETS }, resumed: true });
      const onFile = await openTestVault(back, undefined, log);
      expect(onFile.store.kind).toBe('sqlite');
      await breathe();
      expect(await signSample(onFile)).toBe(before);
      onFile.seal('test end');
    },
  );
});
