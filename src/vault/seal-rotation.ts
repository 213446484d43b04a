import { randomBytes } from 'node:crypto';
import { otpPolicyOf, withOtpPolicy } from './otp-store.js';
import { STORE_KEY_BYTES, wipeVaultSecret, type SealRecord, type VaultSecret } from './secret.js';
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
export function newTokenPin(): Buffer {
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

export interface RotationHooks {
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
