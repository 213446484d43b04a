import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { HardkmsError } from '../errors.js';
import { defaultAuditLogPath, type AuditHead } from '../audit/log.js';
import type { ForwardTarget } from '../audit/forward.js';
import type { VaultKeyIds } from '../hsm/token.js';
import { macLegacyJournalRows } from './journal-rows.js';
import { META } from './meta-auth.js';
import { auditHeadRecord, sealRecord, tokenBindingRecord } from './meta-records.js';
import { isStoreUrl } from './pg/url.js';
import { decodeGatePolicy, gatePolicyRecord, type GatePolicy } from './gate-policy.js';
import type { SealRecord } from './secret.js';
import { ROW_SETS_ADOPT, WalletStore } from './store.js';

/**
 * A vault's facts: what its meta says (id, token binding, seal, network, gate policy, audit
 * head and log path). Read first, without any secret, to know whom to ask for the unseal;
 * trusted only once authenticateFacts() has checked them under the meta MAC with the
 * unsealed store key.
 */

/** Which token a vault belongs to; written at init, checked at every unseal. */
export interface TokenBinding {
  modulePath: string;
  label: string;
  serial: string;
  profile: string;
  keys: VaultKeyIds;
  /**
   * The audit log, fixed at init: relative to wallet.dat's folder when it lies inside it
   * (so a restored copy of the folder keeps working), else absolute. `--audit-log` may
   * only name it. Absent in stores made before it existed (bound at their next unseal).
   */
  auditLog?: string;
  /** SHA-256 of the audit public key (SPKI DER), hex: what init prints for the auditor. */
  auditKeyFingerprint?: string;
  /** The off-host sink every process sends each record to before the append returns (init --audit-forward). */
  auditForward?: ForwardTarget;
}

export interface VaultLocation {
  /** wallet.dat */
  path: string;
  /** audit.log; default beside wallet.dat. */
  auditLogPath?: string | undefined;
}

/** Read-only facts about a vault that need no secret (status, audit verify). */
export interface VaultFacts {
  vaultId: string;
  created: string;
  binding: TokenBinding;
  seal: SealRecord;
  testnetOnly: boolean;
  /** As recorded; authenticated only once a vault is unsealed (Vault.gatePolicy()). */
  gatePolicy: GatePolicy;
  auditHead: AuditHead | undefined;
  auditLogPath: string;
  walletCount: number | undefined;
}

export function readVaultFacts(location: VaultLocation): VaultFacts {
  // Read-only: `audit verify` on an auditor's copy must leave the evidence folder as it was.
  const store = WalletStore.openReadOnly(location.path);
  try {
    return vaultFacts(store, location);
  } finally {
    store.close();
  }
}

/**
 * A vault before its unseal: the store open for writing and its facts as stored, read once.
 * They say whom to ask (the seal's provider, checks before any key is touched); they are
 * trusted only once Vault.unseal() has authenticated them. close() when not unsealing.
 */
export interface SealedVault {
  readonly store: WalletStore;
  readonly location: VaultLocation;
  readonly facts: VaultFacts;
  close(): void;
}

/** The first step of every unseal: the store opened (migrated to this format) and its facts read. */
export function openSealedVault(location: VaultLocation): SealedVault {
  const store = WalletStore.open(location.path);
  try {
    return { store, location, facts: vaultFacts(store, location), close: () => store.close() };
  } catch (e) {
    store.close();
    throw e;
  }
}

/** The facts of an open store, the audit log path as bound at init (a different --audit-log is refused). */
export function vaultFacts(store: WalletStore, location: VaultLocation): VaultFacts {
  const facts = rawFactsOf(store, location);
  const bound = facts.binding.auditLog === undefined ? undefined : boundLogPath(store.path, facts.binding.auditLog);
  if (bound !== undefined) {
    if (location.auditLogPath !== undefined && resolve(location.auditLogPath) !== bound)
      throw auditLogMismatch(resolve(location.auditLogPath), bound);
    facts.auditLogPath = bound;
  }
  return facts;
}

/**
 * Unlocks the store with the unsealed store key, checks the meta MAC and the row sets, and
 * reads the facts again: from here on only values under the meta MAC are used. `adopted`:
 * how many journal rows a store from before row sets had MAC'd now (undefined otherwise).
 */
export function authenticateFacts(
  store: WalletStore,
  storeKey: Buffer,
  vaultId: string,
  location: VaultLocation,
): { facts: VaultFacts; adopted: number | undefined } {
  store.unlock(storeKey, vaultId);
  store.verifyMeta();
  const facts = vaultFacts(store, location);
  return { facts, adopted: bindRowSets(store) };
}

/**
 * Checks that no bound row was deleted, added or rolled back (row-set.ts). A store from
 * before row sets gets them now, its journal rows MAC'd; returns how many rows that MAC'd.
 */
function bindRowSets(store: WalletStore): number | undefined {
  if (!store.rowSetsPending) {
    store.verifyRowSets();
    // Stores whose row sets predate META.rowSetsBound get it now, over rows just verified.
    if (store.getMeta(META.rowSetsBound) === undefined) store.writeAuthenticatedMeta({ [META.rowSetsBound]: '1' });
    return undefined;
  }
  return store.transaction(() => {
    const n = macLegacyJournalRows(store, store.database);
    store.rebuildRowSets();
    store.deleteMeta(ROW_SETS_ADOPT);
    store.writeAuthenticatedMeta({ [META.rowSetsBound]: '1' });
    return n;
  });
}

function rawFactsOf(store: WalletStore, location: VaultLocation): VaultFacts {
  const vaultId = store.getMeta(META.vaultId);
  const binding = store.getMetaJson(META.token, tokenBindingRecord);
  const seal = store.getMetaJson(META.seal, sealRecord);
  if (!vaultId || !binding || !seal) {
    throw new HardkmsError(
      'VAULT_INCOMPLETE',
      `${store.path} was not fully initialised (no vault id, token binding or seal).`,
      {
        hint: 'Remove it and run `hardkms init` again; it cannot hold any wallet.',
      },
    );
  }
  return {
    vaultId,
    created: store.getMeta(META.created) ?? '',
    binding,
    seal,
    testnetOnly: store.getMeta(META.testnetOnly) === 'true',
    gatePolicy: decodeGatePolicy(store.getMetaJson(META.gatePolicy, gatePolicyRecord), seal),
    auditHead: store.getMetaJson(META.auditHead, auditHeadRecord),
    auditLogPath: location.auditLogPath ?? defaultLogFor(store.path),
    walletCount: undefined,
  };
}

/** The audit log path as the binding stores it: relative to wallet.dat's folder when inside it. */
export function storedAuditLog(walletPath: string, logPath: string): string {
  // A database has no folder the log could be relative to.
  if (isStoreUrl(walletPath)) return resolve(logPath);
  const rel = relative(dirname(resolve(walletPath)), resolve(logPath));
  return rel.startsWith('..') || isAbsolute(rel) ? logPath : rel;
}

/**
 * The audit log path bound in a store, without any secret (config reads it so that
 * every command, sealed or not, writes where init said). Undefined for a store that
 * does not exist, cannot be read, or predates the binding.
 */
export function boundAuditLogPath(walletPath: string): string | undefined {
  if (!isStoreUrl(walletPath) && !existsSync(walletPath)) return undefined;
  let store: WalletStore | undefined;
  try {
    // Read-only: this runs while the configuration is built, for every command, audit verify on an auditor's copy included.
    store = WalletStore.openReadOnly(walletPath);
    const bound = store.getMetaJson(META.token, tokenBindingRecord)?.auditLog;
    return bound === undefined ? undefined : boundLogPath(walletPath, bound);
  } catch {
    return undefined;
  } finally {
    store?.close();
  }
}

function boundLogPath(walletPath: string, bound: string): string {
  return isStoreUrl(walletPath) ? resolve(bound) : resolve(dirname(walletPath), bound);
}

/**
 * audit.log beside wallet.dat; for a PostgreSQL store (no folder) in ~/.hardkms, unless
 * --audit-log names it.
 */
export function defaultLogFor(walletPath: string): string {
  return isStoreUrl(walletPath) ? join(homedir(), '.hardkms', 'audit.log') : defaultAuditLogPath(walletPath);
}

export function auditLogMismatch(requested: string, bound: string): HardkmsError {
  return new HardkmsError(
    'AUDIT_LOG_PATH_MISMATCH',
    `This vault's audit log is ${bound}, fixed at init; --audit-log names ${requested}.`,
    {
      hint: 'Leave out --audit-log (or pass the path init fixed). Records are never written anywhere else.',
    },
  );
}
