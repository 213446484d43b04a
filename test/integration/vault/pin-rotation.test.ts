import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { VaultSecret } from '../../../src/vault/secret.js';
import { createTestVault, openTestVault, passwordProvider } from '../../support/vault.js';

function hasPreviousSeal(path: string): boolean {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare("SELECT 1 FROM meta WHERE key = 'previous_seal'").get() !== undefined;
  } finally {
    db.close();
  }
}

async function newSealWithNewPin(
  vault: Awaited<ReturnType<typeof openTestVault>>,
): Promise<{ record: Awaited<ReturnType<ReturnType<typeof passwordProvider>['seal']>>; secret: VaultSecret }> {
  const secret = {
    storeKey: Buffer.from(vault.currentSecret().storeKey),
    tokenPin: Buffer.from(randomBytes(16).toString('hex')),
  };
  const record = await passwordProvider().seal(secret, { vaultId: vault.vaultId, mainnet: true, audit: () => {} });
  return { record, secret };
}

describe('token PIN rotation is crash-safe', () => {
  it('a crash after committing the new seal but before the token took the new PIN falls back to the previous seal', async () => {
    const t = await createTestVault();
    const { record, secret } = await newSealWithNewPin(t.vault);
    t.vault.replaceSeal(record, secret);
    expect(hasPreviousSeal(t.path)).toBe(true);
    // "crash": the token never gets the new PIN
    t.vault.seal('simulated crash');
    const reopened = await openTestVault(t.path);
    expect(reopened.store.countEntries()).toBe(0);
    reopened.seal();
    expect(hasPreviousSeal(t.path)).toBe(false);
    const log = readFileSync(join(t.dir, 'audit.log'), 'utf8');
    expect(log).toContain('"seal.rotation_rolled_back"');
    // And the vault keeps opening normally afterwards.
    (await openTestVault(t.path)).seal();
  });

  it('a completed rotation opens with the new PIN and leaves no previous seal', async () => {
    const t = await createTestVault();
    const { record, secret } = await newSealWithNewPin(t.vault);
    const oldPin = Buffer.from(t.vault.currentSecret().tokenPin);
    t.vault.replaceSeal(record, secret);
    t.vault.token.setPin(oldPin, secret.tokenPin);
    t.vault.completePinChange();
    t.vault.seal();
    expect(hasPreviousSeal(t.path)).toBe(false);
    const reopened = await openTestVault(t.path);
    expect(reopened.currentSecret().tokenPin.equals(secret.tokenPin)).toBe(true);
    reopened.seal();
  });
});
