import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { secp256k1 } from '@noble/curves/secp256k1';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decryptSecret,
  encryptSecretEntry,
  generatePrivateKeys,
  importPrivateKey,
  signWithEntry,
} from '../../../src/vault/entry-secrets.js';
import type { Vault } from '../../../src/vault/vault.js';
import { createTestVault, openTestVault, type TestVault } from '../../support/vault.js';

const MNEMONIC = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath ?? (d as unknown as { path: string }).path, d.name));
}

describe('wallet.dat on a real token', () => {
  let t: TestVault;
  let vault: Vault;
  const knownKey = secp256k1.utils.randomPrivateKey();
  const knownPub = secp256k1.getPublicKey(knownKey, true);

  beforeAll(async () => {
    t = await createTestVault();
    vault = t.vault;
  });
  afterAll(() => vault?.seal());

  it('creates wallet.dat 0600 and binds the token', () => {
    expect(statSync(t.path).mode & 0o777).toBe(0o600);
    expect(vault.binding.label).toBe('hardkms');
    expect(vault.binding.keys.wrapKeyId).toMatch(/^[0-9a-f]{32}$/);
  });

  it('stores a generated key, an imported key and a mnemonic; none is on disk in clear', async () => {
    const [gen] = generatePrivateKeys(
      vault,
      { chain: 'ETH', testnet: false, publicData: () => ({ address: '0xgenerated' }) },
      1,
    );
    const imported = importPrivateKey(
      vault,
      { chain: 'ETH', testnet: false, publicData: () => ({ address: '0ximported' }) },
      knownKey,
      knownPub,
    );
    const mnemonic = encryptSecretEntry(
      vault,
      { chain: 'BTC', testnet: false, kind: 'mnemonic', publicData: { xpub: 'xpub-test' } },
      Buffer.from(MNEMONIC),
    );
    vault.store.addEntries([imported, mnemonic]);
    expect(vault.store.countEntries()).toBe(3);
    expect(decryptSecret(vault, vault.store.requireEntry(mnemonic.signatureId)).toString()).toBe(MNEMONIC);
    const digest = randomBytes(32);
    const sig = signWithEntry(vault, vault.store.requireEntry(imported.signatureId), digest);
    expect(secp256k1.verify(Buffer.concat([sig.r, sig.s]), digest, knownPub)).toBe(true);
    expect(vault.store.requireEntry(gen!.signatureId).kind).toBe('privateKey');

    // Every file we or the token wrote: wallet.dat and its side files, audit.log, the token directory.
    vault.record({ event: 'wallet.list', result: 'ok' });
    const needles = [
      Buffer.from(knownKey),
      Buffer.from(Buffer.from(knownKey).toString('hex')),
      Buffer.from(MNEMONIC),
      Buffer.from('abandon abandon'),
      Buffer.from(MNEMONIC.split(' ').join('')),
    ];
    const files = [...filesUnder(t.dir), ...filesUnder(t.token.tokenDir)];
    expect(files.length).toBeGreaterThan(3);
    for (const file of files) {
      const bytes = readFileSync(file);
      for (const needle of needles) expect(bytes.includes(needle), `${file} contains a secret`).toBe(false);
    }
  });

  it('refuses a flipped byte, swapped wrapped blobs and an edited xpub, naming the signature id', async () => {
    const a = importPrivateKey(
      vault,
      { chain: 'ETH', testnet: true, publicData: () => ({ address: '0xa' }) },
      secp256k1.utils.randomPrivateKey(),
      secp256k1.getPublicKey(secp256k1.utils.randomPrivateKey(), true),
    );
    const b = encryptSecretEntry(
      vault,
      { chain: 'LTC', testnet: true, kind: 'mnemonic', publicData: { xpub: 'ttub-original' } },
      Buffer.from(MNEMONIC),
    );
    const c = encryptSecretEntry(
      vault,
      { chain: 'DOGE', testnet: true, kind: 'mnemonic', publicData: { xpub: 'tpub-original' } },
      Buffer.from(MNEMONIC),
    );
    vault.store.addEntries([a, b, c]);
    const db = new Database(t.path);
    try {
      // 1. a flipped byte in a wrapped key
      const row = db.prepare('SELECT wrapped_secret FROM wallets WHERE signature_id = ?').get(a.signatureId) as {
        wrapped_secret: Buffer;
      };
      const flipped = Buffer.from(row.wrapped_secret);
      flipped[5]! ^= 0x80;
      db.prepare('UPDATE wallets SET wrapped_secret = ? WHERE signature_id = ?').run(flipped, a.signatureId);
      // 2. two rows' wrapped blobs swapped
      const blob = (id: string): Buffer =>
        (db.prepare('SELECT wrapped_secret FROM wallets WHERE signature_id = ?').get(id) as { wrapped_secret: Buffer })
          .wrapped_secret;
      const [blobB, blobC] = [blob(b.signatureId), blob(c.signatureId)];
      db.prepare('UPDATE wallets SET wrapped_secret = ? WHERE signature_id = ?').run(blobC, b.signatureId);
      db.prepare('UPDATE wallets SET wrapped_secret = ? WHERE signature_id = ?').run(blobB, c.signatureId);
      // 3. an injected row: copy of a good row under a new id
      db.prepare(
        "INSERT INTO wallets SELECT 'injected-id', chain, testnet, kind, public_data, wrapped_secret, mechanism, created, mac FROM wallets WHERE signature_id = ?",
      ).run(a.signatureId);
    } finally {
      db.close();
    }
    expect(() => vault.store.requireEntry(a.signatureId)).toThrow(
      new RegExp(`wallet entry '${a.signatureId}'.*integrity check`),
    );
    expect(() => vault.store.requireEntry(b.signatureId)).toThrow(new RegExp(`'${b.signatureId}'.*integrity check`));
    expect(() => vault.store.requireEntry(c.signatureId)).toThrow(new RegExp(`'${c.signatureId}'.*integrity check`));
    expect(() => vault.store.requireEntry('injected-id')).toThrow(/'injected-id'.*integrity check/);
    // Take the injected row out again: the row-set check at the next unseal (a later test
    // reopens this store) would rightly refuse a store with a row it never wrote.
    const cleanup = new Database(t.path);
    cleanup.prepare("DELETE FROM wallets WHERE signature_id = 'injected-id'").run();
    cleanup.close();
  });

  it('refuses an xpub edited to redirect deposits', () => {
    const e = encryptSecretEntry(
      vault,
      { chain: 'BTC', testnet: false, kind: 'mnemonic', publicData: { xpub: 'xpub-genuine' } },
      Buffer.from(MNEMONIC),
    );
    vault.store.addEntries([e]);
    const db = new Database(t.path);
    db.prepare('UPDATE wallets SET public_data = ? WHERE signature_id = ?').run(
      JSON.stringify({ xpub: 'xpub-attacker' }),
      e.signatureId,
    );
    db.close();
    expect(() => vault.store.requireEntry(e.signatureId)).toThrow(
      /fails its integrity check: it was edited, swapped or injected/,
    );
  });

  it('reopens with the password and finds its entries; the wrong password changes nothing', async () => {
    // Every wallets row and every meta value but the audit head, which records the failed attempt.
    const snapshot = (): string => {
      const db = new Database(t.path, { readonly: true });
      try {
        const rows = db.prepare('SELECT * FROM wallets ORDER BY signature_id').all();
        const meta = db.prepare("SELECT key, value FROM meta WHERE key != 'audit_head' ORDER BY key").all();
        return JSON.stringify({ rows, meta }, (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('hex') : v));
      } finally {
        db.close();
      }
    };
    const count = vault.store.countEntries();
    vault.seal();
    const before = snapshot();
    await expect(openTestVault(t.path, 'wrong password')).rejects.toThrow(/^Wrong password\.$/);
    expect(snapshot()).toBe(before);
    vault = await openTestVault(t.path);
    expect(vault.store.countEntries()).toBe(count);
  });
});
