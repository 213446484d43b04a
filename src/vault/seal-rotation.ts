import { randomBytes } from 'node:crypto';
import { HardkmsError } from '../errors.js';
import type { Token } from '../hsm/token.js';
import { resealInnerKey } from './inner.js';
import { META } from './meta-auth.js';
import { sealRecord } from './meta-records.js';
import { otpPolicyOf, withOtpPolicy } from './otp-store.js';
import { REKEYED_TABLES } from './rekey.js';
import {
  STORE_KEY_BYTES,
  wipeVaultSecret,
  type SealContext,
  type SealRecord,
  type VaultSecret,
  type VaultSecretProvider,
} from './secret.js';
import type { WalletStore } from './store.js';
import type { Vault } from './vault.js';

/**
 * Seal rotation: the rules of enroll / revoke / rotate / recover on an unsealed vault,
 * apart from the command line (cli/gate.ts only parses, prompts and prints).
 *
 * Why revoke, rotate and recover always make a NEW vault secret (new store key AND new
 * random token PIN): with an unchanged secret, M shares of an OLD split (old recovery
 * sheets, a revoked key plus a colluder, an old wallet.dat backup plus keys enrolled in it)
 * would still rebuild a working secret. The new PIN makes old secrets useless against the
 * token; the new store key (every MAC'd row and the meta re-MAC'd, rekey.ts) makes them
 * useless against wallet.dat: an old store key forges no row and no token binding.
 */

/** A fresh random token user PIN: 32 hex digits, accepted by every PKCS#11 token we know. */
function newTokenPin(): Buffer {
  const raw = randomBytes(16);
  try {
    return Buffer.from(raw.toString('hex'), 'utf8');
  } finally {
    raw.fill(0);
  }
}

/** A whole new vault secret: new store key and new token PIN. The caller wipes it. */
export function newVaultSecret(): VaultSecret {
  return { storeKey: randomBytes(STORE_KEY_BYTES), tokenPin: newTokenPin() };
}

interface RotationHooks {
  /** Runs after the token took the new PIN (an audit record, a note to the operator). */
  onPinRotated?: () => void;
}

/**
 * Stores a new seal, keeping the vault's OTP policy. With `newSecret`, in this order:
 *  1. one transaction: every MAC'd row and the meta re-keyed to the new store key, the new
 *     seal current and the old one kept as previous_seal (it holds the old store key and PIN);
 *  2. the token's user PIN changed from the old to the new one;
 *  3. previous_seal dropped.
 * A crash (kill -9) before 1 commits leaves the old state; between 1 and 2 the next unseal
 * finds the token still on the old PIN and goes back to previous_seal and its store key in
 * one transaction (Vault.open); after 2 the new state is complete (3 is only tidying). If the
 * token refuses the new PIN, step 1 is undone here at once.
 */
export function applySeal(vault: Vault, record: SealRecord, newSecret?: VaultSecret, hooks: RotationHooks = {}): void {
  const old = vault.sealRecord();
  const next = withOtpPolicy(record, otpPolicyOf(old));
  if (!newSecret) {
    vault.replaceSeal(next);
    return;
  }
  const cur = vault.currentSecret();
  const oldSecret: VaultSecret = { storeKey: Buffer.from(cur.storeKey), tokenPin: Buffer.from(cur.tokenPin) };
  try {
    vault.replaceSeal(next, newSecret);
    try {
      vault.token.setPin(oldSecret.tokenPin, newSecret.tokenPin);
    } catch (e) {
      vault.restoreSeal(old, oldSecret);
      throw e;
    }
    vault.completePinChange();
    vault.record({
      event: 'token.pin_rotated',
      subject: vault.binding.label,
      result: 'ok',
      details: { serial: vault.binding.serial, storeRekeyed: !newSecret.storeKey.equals(oldSecret.storeKey) },
    });
    hooks.onPinRotated?.();
  } finally {
    wipeVaultSecret(oldSecret);
  }
}

/**
 * The token login at unseal, the other half of the rotation protocol above. When the token
 * refuses the PIN and the meta holds a previous seal, a rotation was interrupted after the
 * new seal (and the re-keyed rows) were committed and before the token took the new PIN:
 * the previous seal (under the meta MAC, so not injected) still matches the token. Goes
 * back to it, and to its store key, in one transaction: the store is then wholly in its
 * state from before the rotation; the previous seal is unsealed by the same provider, with the
 * same context. Returns the secret the token took; when that is the previous one, `secret`
 * has been wiped.
 */
export async function logInOrRollBack(
  store: WalletStore,
  token: Token,
  vaultId: string,
  secret: VaultSecret,
  unsealer: { provider: VaultSecretProvider; ctx: SealContext },
): Promise<{ secret: VaultSecret; rolledBack: boolean }> {
  try {
    token.login(secret.tokenPin);
    dropPreviousSeal(store);
    return { secret, rolledBack: false };
  } catch (e) {
    const previous = store.getMetaJson(META.previousSeal, sealRecord);
    if (!(e instanceof HardkmsError) || e.code !== 'HSM_WRONG_PIN' || !previous) throw e;
    const prevSecret = await unsealer.provider.unseal(previous, unsealer.ctx);
    try {
      token.login(prevSecret.tokenPin);
      restoreSeal(store, vaultId, previous, secret, prevSecret);
    } catch (e2) {
      wipeVaultSecret(prevSecret);
      throw e2;
    }
    wipeVaultSecret(secret);
    return { secret: prevSecret, rolledBack: true };
  }
}

/**
 * Step 1 (Vault.replaceSeal): the new seal under the meta MAC. With `to` whose store key
 * differs from `from`'s, every MAC'd row and the meta are re-keyed in the same transaction;
 * with a new token PIN, the current seal is kept as previous_seal (it holds the old store
 * key and PIN) until dropPreviousSeal().
 */
export function storeNewSeal(
  store: WalletStore,
  vaultId: string,
  seal: SealRecord,
  from: VaultSecret,
  to: VaultSecret | undefined,
): void {
  const pinChange = to !== undefined && !to.tokenPin.equals(from.tokenPin);
  const updates = {
    [META.seal]: JSON.stringify(seal),
    [META.previousSeal]: pinChange ? JSON.stringify(store.getMetaJson(META.seal, sealRecord)!) : undefined,
  };
  if (to && !to.storeKey.equals(from.storeKey)) {
    store.rekey(to.storeKey, REKEYED_TABLES, { ...updates, ...innerKeyFollows(store, vaultId, from, to) });
  } else store.writeAuthenticatedMeta(updates);
}

/** Step 3, and after a login with the current seal: the previous seal is no longer needed. */
export function dropPreviousSeal(store: WalletStore): void {
  if (store.getMeta(META.previousSeal) !== undefined) store.writeAuthenticatedMeta({ [META.previousSeal]: undefined });
}

/**
 * A provider's re-seal of the same secret (new challenges) at unseal, committed unless
 * another process replaced the seal since this unseal read it: a stale re-seal must never
 * overwrite a rotation that changed the secret. Returns whether it was committed.
 */
export function commitResealIfCurrent(store: WalletStore, record: SealRecord, unsealedFrom: SealRecord): boolean {
  let committed = false;
  store.transaction(() => {
    if (JSON.stringify(store.getMetaJson(META.seal, sealRecord)!) !== JSON.stringify(unsealedFrom)) return;
    store.writeAuthenticatedMeta({ [META.previousSeal]: undefined, [META.seal]: JSON.stringify(record) });
    committed = true;
  });
  return committed;
}

/** Seal and store key back to `to` (from the store key of `from`), previous seal dropped: one transaction. */
export function restoreSeal(
  store: WalletStore,
  vaultId: string,
  seal: SealRecord,
  from: VaultSecret,
  to: VaultSecret,
): void {
  const updates = { [META.seal]: JSON.stringify(seal), [META.previousSeal]: undefined };
  if (!to.storeKey.equals(from.storeKey))
    store.rekey(to.storeKey, REKEYED_TABLES, { ...updates, ...innerKeyFollows(store, vaultId, from, to) });
  else store.writeAuthenticatedMeta(updates);
}

/** The inner key stays across a re-key; only its seal follows the store key (same transaction). */
function innerKeyFollows(
  store: WalletStore,
  vaultId: string,
  from: VaultSecret,
  to: VaultSecret,
): Record<string, string> {
  const sealed = store.getMeta(META.innerKey);
  return sealed === undefined ? {} : { [META.innerKey]: resealInnerKey(sealed, from.storeKey, to.storeKey, vaultId) };
}
