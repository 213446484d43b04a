/**
 * The authenticated part of wallet.dat's meta table: ONE mechanism for every vault-level
 * value that someone with write access to the file (but without the vault secret) must
 * not be able to change: the token binding (its modulePath decides which library gets
 * the PIN), the seal and the previous seal (the crash-safety fallback of a PIN change),
 * the password KDF parameters (inside the seal), testnet_only, the gate policy recorded
 * at init, and the monotonic store counter.
 *
 * One MAC (meta_mac, "v2:<hex>") covers, in this order, every key of
 * AUTHENTICATED_META_KEYS with its value or an explicit "absent" marker, so deleting a key
 * (say previous_seal, or the OTP policy inside the seal) is as detectable as editing it.
 * The MAC is HMAC-SHA256 under the store's row key (derived from the store key, which
 * changes at every revoke / rotate / recover: see rekey.ts).
 *
 * To authenticate a new meta value: add its key here, and write it only through
 * WalletStore.writeAuthenticatedMeta (inside a transaction that re-MACs the meta).
 * Reading: WalletStore.verifyMeta() has run at unseal; writeAuthenticatedMeta verifies
 * again under the writer lock before it writes, so a value changed by someone else
 * since is never laundered into a fresh MAC.
 */
export const META = {
  vaultId: 'vault_id',
  created: 'created',
  format: 'format_version',
  token: 'token_binding',
  seal: 'seal',
  /** The seal before a token-PIN change (with it the previous store key), kept until the token has the new PIN. */
  previousSeal: 'previous_seal',
  testnetOnly: 'testnet_only',
  /** What the operators explicitly allowed at init for a mainnet vault (gate-policy.ts). */
  gatePolicy: 'gate_policy',
  /** Monotonic counter, bumped by WalletStore.bumpCounter() inside a transaction. */
  storeCounter: 'store_counter',
  /** Key check value of the current store key: tells "re-keyed by another process" from "tampered". */
  keyCheck: 'store_key_check',
  /** The OTP private-id hash key, encrypted under the current store key (it survives re-keying). */
  otpPidKey: 'otp_pid_key',
  /** The inner-layer key (inner.ts), sealed under the current store key. */
  innerKey: 'inner_key',
  /** CKA_ID of a wrap key the inner-layer migration replaced, until destroyed: a forged one could name the live key. */
  retiredWrapKey: 'retired_wrap_key',
  /**
   * Set once the store's row sets exist (init, or their adoption at the first unseal after
   * the upgrade that introduced them). Authenticated, so that deleting the row-set record
   * and planting the adoption marker (row_sets_adopt) cannot get the rows re-adopted as
   * they are after an attacker changed them.
   */
  rowSetsBound: 'row_sets_bound',
  metaMac: 'meta_mac',
  /** The last record any writer appended (sealed writers too); not authenticated. */
  auditHead: 'audit_head',
  /**
   * The last record an unsealed writer appended, with its own MAC under the row key (not in
   * AUTHENTICATED_META_KEYS: it changes with every signed record, and re-MACing the whole
   * meta per record would cost a verify each time). WalletStore.rekey re-MACs it.
   */
  auditHeadAuth: 'audit_head_mac',
  /** The seq of the last record the off-host sink took. */
  auditForwarded: 'audit_forwarded',
} as const;

/**
 * Every meta key under the MAC, in MAC order. Append new keys at the end (the order is
 * part of the MAC; a vault written by an older build verifies because absent keys add
 * nothing to it).
 */
export const AUTHENTICATED_META_KEYS: readonly string[] = [
  META.vaultId,
  META.created,
  META.format,
  META.token,
  META.seal,
  META.previousSeal,
  META.testnetOnly,
  META.gatePolicy,
  META.storeCounter,
  META.keyCheck,
  META.otpPidKey,
  META.innerKey,
  META.retiredWrapKey,
  META.rowSetsBound,
];

export const META_MAC_V2_PREFIX = 'v2:';

/**
 * The MAC input: key and value of every authenticated key that is present, in list order.
 * An absent key contributes nothing, so appending a key to the list keeps the MACs of
 * stores that never had it; adding or removing a present key still changes the input.
 */
export function metaMacFields(read: (key: string) => string | undefined): Array<string | number> {
  const fields: Array<string | number> = [];
  for (const key of AUTHENTICATED_META_KEYS) {
    const value = read(key);
    if (value !== undefined) fields.push(key, value);
  }
  return fields;
}
