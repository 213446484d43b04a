import { HardkmsError } from '../errors.js';
import { META } from './meta-auth.js';
import { entryAad, type WalletEntry } from './entries.js';
import { hasInnerLayer, newInnerKey } from './inner.js';
import type { Vault } from './vault.js';
import { decryptSecret, encryptSecretEntry, importPrivateKey } from './entry-secrets.js';

/** CKA_ID of a wrap key replaced by the migration, until the token has destroyed it. */

/**
 * Brings a vault made before the inner layer and the unwrap template up to date, at the
 * first unseal with this version: a new wrap key with CKA_UNWRAP_TEMPLATE, a new inner key,
 * and every entry rewritten under both, in one transaction (all of it or none of it: a
 * crash before the commit leaves the old store and at most an unused new wrap key in the
 * token). Afterwards the old wrap key is destroyed, so old blobs (in backups of wallet.dat)
 * cannot be unwrapped as extractable with the token PIN either.
 */
export function migrateToInnerLayer(vault: Vault): void {
  destroyRetiredWrapKey(vault);
  const hasInnerKey = hasStoredInnerKey(vault);
  const templateOk = vault.token.wrapKeyEnforcesTemplate();
  // The inner key and every entry's inner layer are written in one transaction, so a store
  // with an inner key has no entry without one: nothing to read at a normal unseal.
  if (hasInnerKey && templateOk) return;

  const inner = hasInnerKey ? undefined : newInnerKey(vault.currentSecret().storeKey, vault.vaultId);
  const previousInner = hasInnerKey ? Buffer.from(vault.innerKey()) : undefined;
  const { entries, skipped } = verifiedEntries(vault);
  // Pass 1, under the old wrap key and old inner key (if any): every secret in clear.
  const plains = new Map<string, Buffer>();
  try {
    for (const e of entries) {
      const rewrite = !hasInnerLayer(e.mechanism) || (e.kind === 'privateKey' && !templateOk);
      if (rewrite) plains.set(e.signatureId, plainOf(vault, e));
    }
    if (inner) vault.useInnerKey(Buffer.from(inner.key));
    const newWrapKeyId = templateOk ? undefined : vault.token.generateWrapKey(vault.vaultId);
    if (newWrapKeyId) vault.token.bindVaultKeys({ ...vault.binding.keys, wrapKeyId: newWrapKeyId });
    // Pass 2, under the new keys.
    const updates = entries
      .filter((e) => plains.has(e.signatureId))
      .map((e) => {
        const plain = plains.get(e.signatureId)!;
        const fresh =
          e.kind === 'privateKey'
            ? importPrivateKey(
                vault,
                { chain: e.chain, testnet: e.testnet, signatureId: e.signatureId, publicData: () => e.publicData },
                plain,
                publicKeyOf(e),
              )
            : encryptSecretEntry(
                vault,
                {
                  chain: e.chain,
                  testnet: e.testnet,
                  kind: e.kind,
                  signatureId: e.signatureId,
                  publicData: e.publicData,
                },
                plain,
              );
        return { signatureId: e.signatureId, wrappedSecret: fresh.wrappedSecret, mechanism: fresh.mechanism };
      });
    try {
      vault.store.transaction(() => {
        vault.store.replaceSecrets(updates);
        vault.adoptInnerLayer(inner, newWrapKeyId);
      });
    } catch (e) {
      // Nothing was committed: go back to the keys the store still names.
      if (newWrapKeyId) vault.token.bindVaultKeys(vault.binding.keys);
      if (previousInner) vault.useInnerKey(Buffer.from(previousInner));
      throw e;
    }
    vault.record({
      event: 'vault.migrated',
      subject: vault.vaultId,
      result: 'ok',
      details: {
        entries: updates.length,
        skippedTampered: skipped,
        innerKey: inner !== undefined,
        wrapKeyReplaced: newWrapKeyId !== undefined,
        newWrapKeyId: newWrapKeyId ?? null,
      },
    });
    destroyRetiredWrapKey(vault);
  } finally {
    for (const p of plains.values()) p.fill(0);
    previousInner?.fill(0);
    inner?.key.fill(0);
  }
}

/** Rows that fail their MAC stay as they are (unusable either way) and are counted. */
function verifiedEntries(vault: Vault): { entries: WalletEntry[]; skipped: string[] } {
  const ids = vault.store.database
    .prepare('SELECT signature_id FROM wallets ORDER BY created, signature_id')
    .pluck()
    .all() as string[];
  const entries: WalletEntry[] = [];
  const skipped: string[] = [];
  for (const id of ids) {
    try {
      entries.push(vault.store.requireEntry(id));
    } catch (e) {
      if (!(e instanceof HardkmsError && e.code === 'VAULT_ROW_TAMPERED')) throw e;
      skipped.push(id);
    }
  }
  return { entries, skipped };
}

function hasStoredInnerKey(vault: Vault): boolean {
  try {
    vault.innerKey();
    return true;
  } catch {
    return false;
  }
}

function publicKeyOf(e: WalletEntry): Buffer {
  if (!e.publicData.publicKey)
    throw new HardkmsError('VAULT_INCOMPLETE', `Private-key wallet '${e.signatureId}' has no public key.`);
  return Buffer.from(e.publicData.publicKey, 'hex');
}

function plainOf(vault: Vault, e: WalletEntry): Buffer {
  if (hasInnerLayer(e.mechanism)) return decryptSecret(vault, e);
  if (e.kind === 'privateKey')
    return vault.token.revealLegacyWrapped({ wrapped: e.wrappedSecret, mechanism: e.mechanism });
  return vault.token.decrypt(e.wrappedSecret, entryAad(e));
}

function destroyRetiredWrapKey(vault: Vault): void {
  const retired = vault.store.getMeta(META.retiredWrapKey);
  if (!retired || retired === vault.binding.keys.wrapKeyId) return;
  try {
    vault.token.destroySecretKey(retired);
  } catch (e) {
    if (!(e instanceof HardkmsError && e.code === 'HSM_KEY_MISSING')) {
      vault.record({
        event: 'vault.retired_key',
        subject: retired,
        result: 'fail',
        details: { code: e instanceof HardkmsError ? e.code : 'unknown' },
      });
      return;
    }
  }
  vault.store.writeAuthenticatedMeta({ [META.retiredWrapKey]: undefined });
  vault.record({
    event: 'vault.retired_key',
    subject: retired,
    result: 'ok',
    details: { destroyed: 'wrap key made before the unwrap template' },
  });
}
