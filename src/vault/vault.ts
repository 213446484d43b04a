import { HardkmsError } from '../errors.js';
import type { AuditLog } from '../audit/log.js';
import type { AuditEvent, AuditRecord } from '../audit/record.js';
import type { OpenTokenOptions, Token } from '../hsm/token.js';
import { checkAuditAtUnseal, recordUnsealFailure, sealedAuditLog } from './audit-binding.js';
import { openVaultToken } from './bound-token.js';
import { createVault, type InitOptions, type VaultParts } from './create.js';
import type { NewWalletEntry } from './entries.js';
import {
  authenticateFacts,
  openSealedVault,
  type SealedVault,
  type TokenBinding,
  type VaultLocation,
} from './facts.js';
import type { WalletStore } from './store.js';
import { sealContext, wipeVaultSecret, type SealRecord, type VaultSecret, type VaultSecretProvider } from './secret.js';
import { openInnerKey } from './inner.js';
import { migrateToInnerLayer } from './migrate-inner.js';
import { META } from './meta-auth.js';
import { sealRecord } from './meta-records.js';
import { commitResealIfCurrent, dropPreviousSeal, restoreSeal, storeNewSeal } from './seal-rotation.js';
import { decodeGatePolicy, gatePolicyFlags, gatePolicyRecord, type GatePolicy } from './gate-policy.js';

interface UnsealOptions {
  provider: VaultSecretProvider;
  /**
   * HARDKMS_PKCS11_MODULE / HARDKMS_TOKEN_PROFILE / HARDKMS_TOKEN_LABEL. A module or profile
   * that differs from the authenticated binding is refused (the PIN would go to that
   * library), unless `rebind` is set: then the binding is rewritten to it once the token
   * there proved to be the vault's (serial, keys, PIN). Only `hardkms rebind` sets it.
   */
  token?: OpenTokenOptions;
  rebind?: boolean;
  actor?: string;
}

interface OpenOptions extends VaultLocation, UnsealOptions {}

/**
 * An unsealed vault: the store with row access, a logged-in token bound to the vault's
 * keys, and a signed audit log. `seal()` wipes the secret and logs out; HashiCorp Vault's
 * vocabulary, because operators know it.
 */
export class Vault {
  readonly store: WalletStore;
  readonly token: Token;
  readonly audit: AuditLog;
  readonly vaultId: string;
  binding: TokenBinding;
  readonly testnetOnly: boolean;
  private secret: VaultSecret | undefined;
  /** Opens the inner layer of every stored secret (vault/inner.ts); from the vault secret only. */
  private inner: Buffer | undefined;

  private constructor(args: VaultParts) {
    this.store = args.store;
    this.token = args.token;
    this.audit = args.audit;
    this.vaultId = args.vaultId;
    this.binding = args.binding;
    this.testnetOnly = args.testnetOnly;
    this.secret = args.secret;
    this.inner = args.inner;
  }

  /**
   * A new vault (`hardkms init`): the seal, the token keys and the store made by create.ts,
   * then the vault's first records, signed: init, and the ceremony's records held until now.
   */
  static async init(options: InitOptions): Promise<Vault> {
    const created = await createVault(options);
    try {
      const vault = new Vault(created);
      vault.attachAudit();
      vault.record({
        event: 'init',
        subject: created.vaultId,
        result: 'ok',
        details: {
          provider: created.seal.provider,
          token: { label: created.binding.label, serial: created.binding.serial, profile: created.binding.profile },
          keys: created.binding.keys,
          auditKeyFingerprint: created.binding.auditKeyFingerprint,
          testnetOnly: !!options.testnetOnly,
          gatePolicy: gatePolicyFlags(options.gatePolicy ?? {}),
        },
      });
      for (const e of created.pending) vault.record(e);
      return vault;
    } catch (e) {
      wipeVaultSecret(created.secret);
      created.store.close();
      created.token.close();
      throw e;
    }
  }

  /** Opens and unseals in one call: openSealedVault, then unseal (callers that need the stored facts first call both). */
  static async open(options: OpenOptions): Promise<Vault> {
    return Vault.unseal(openSealedVault(options), options);
  }

  /**
   * Unseals, one step per concern: the seal's provider asks the operators (vault/secret.ts)
   * → the facts authenticated under the meta MAC (facts.ts) → the bound token opened and
   * logged in, or an interrupted PIN change rolled back (bound-token.ts, seal-rotation.ts)
   * → the audit log checked against its binding and head (audit-binding.ts) → the vault,
   * its records signed from here on. Until then records are chained and unsigned; a failure
   * closes the store and leaves the unseal's own failure record.
   */
  static async unseal(sealed: SealedVault, options: UnsealOptions): Promise<Vault> {
    const { store, location, facts: stored } = sealed;
    const actor = options.actor ?? 'hardkms';
    let token: Token | undefined;
    let secret: VaultSecret | undefined;
    try {
      const audit = sealedAuditLog(store, stored, { keepOnForwardFailure: true, actor });
      const ctx = sealContext(stored.vaultId, !stored.testnetOnly, (e) => audit.append(e));
      secret = await options.provider.unseal(stored.seal, ctx);
      const { facts: authenticated, adopted } = authenticateFacts(store, secret.storeKey, stored.vaultId, location);
      const opened = await openVaultToken(store, location, authenticated, secret, options, ctx);
      ({ token, secret } = opened);
      const { facts, rolledBack } = opened;
      const { binding, uncovered } = checkAuditAtUnseal(store, token, facts, audit);
      const vault = new Vault({
        store,
        token,
        audit,
        vaultId: facts.vaultId,
        binding,
        testnetOnly: facts.testnetOnly,
        secret,
        inner: innerKeyOf(store, secret, facts.vaultId),
      });
      vault.attachAudit();
      vault.recordOpening(adopted, uncovered);
      if (options.rebind) vault.rebindTo(token.info);
      migrateToInnerLayer(vault);
      vault.commitReseal(options.provider.resealAfterUnseal?.(), rolledBack ? vault.sealRecord() : facts.seal);
      if (rolledBack) vault.recordRollBack();
      return vault;
    } catch (e) {
      wipeVaultSecret(secret);
      token?.close();
      if (e instanceof HardkmsError && e.code !== 'VAULT_NOT_FOUND')
        recordUnsealFailure(store, location, e.code, options.actor);
      store.close();
      throw e;
    }
  }

  /** The unseal found a PIN change interrupted before the token took the new PIN, and went back (seal-rotation.ts). */
  private recordRollBack(): void {
    this.record({
      event: 'seal.rotation_rolled_back',
      subject: this.vaultId,
      result: 'info',
      details: {
        reason: 'a token PIN change was interrupted; the previous seal matches the token and is current again',
      },
    });
  }

  /** The records of the unseal itself: the login, row sets bound by this first unseal, records written while sealed countersigned. */
  private recordOpening(adopted: number | undefined, uncovered: readonly AuditRecord[]): void {
    this.record({
      event: 'token.login',
      subject: this.binding.label,
      result: 'ok',
      details: { serial: this.binding.serial },
    });
    if (adopted !== undefined) {
      this.record({
        event: 'store.rows-bound',
        subject: this.vaultId,
        result: 'info',
        details: {
          reason: 'first unseal since the upgrade that binds journal, ledger, wallet and OTP rows',
          journalRowsMacd: adopted,
        },
      });
    }
    if (uncovered.length > 0) {
      // Records written while sealed carry no signature; this signed one vouches for them.
      this.record({
        event: 'audit.countersign',
        subject: this.vaultId,
        result: 'info',
        details: {
          first: uncovered[0]!.seq,
          last: uncovered[uncovered.length - 1]!.seq,
          count: uncovered.length,
          events: [...new Set(uncovered.map((r) => r.event))],
        },
      });
    }
  }

  /** From here on every record is signed by the token's audit key and its head authenticated. */
  private attachAudit(): void {
    this.audit.signWith((hash) => this.token.auditSign(hash));
  }

  /** Appends a signed audit record; call it before the result of an action leaves the process. */
  record(event: AuditEvent): AuditRecord {
    return this.audit.append(event);
  }

  /**
   * Appends records as one signed batch (one token signature, one fsync: AuditLog.appendBatch);
   * inside a store transaction, the batch and the rows it describes commit together.
   */
  recordBatch(events: readonly AuditEvent[]): AuditRecord[] {
    return this.audit.appendBatch(events);
  }

  /**
   * For the daemon: the token session stays logged in; the PIN is not needed again in this
   * process, so it is zeroed (commands that re-seal call currentSecret() before this).
   */
  forgetTokenPin(): void {
    // Never re-seal after this: a seal of storeKey with an empty PIN would lock the vault.
    const s = this.currentSecret();
    s.tokenPin.fill(0);
    s.tokenPin = Buffer.alloc(0);
    this.pinForgotten = true;
  }
  private pinForgotten = false;

  /** The inner-layer key; only an unsealed vault has it. Do not keep it. */
  innerKey(): Buffer {
    if (!this.inner) throw new HardkmsError('VAULT_SEALED', 'The vault is sealed.', { hint: 'Unseal it first.' });
    return this.inner;
  }

  /**
   * Migration (migrate-inner.ts): adopts a new inner key and wrap key in the store; call it
   * inside the transaction that rewrites the entries, so the store has all or none of it.
   */
  adoptInnerLayer(inner: { key: Buffer; sealed: string } | undefined, wrapKeyId: string | undefined): void {
    this.currentSecret();
    const updates: Record<string, string | undefined> = {};
    if (inner) updates[META.innerKey] = inner.sealed;
    const binding = wrapKeyId ? { ...this.binding, keys: { ...this.binding.keys, wrapKeyId } } : undefined;
    if (binding) {
      updates[META.retiredWrapKey] = this.binding.keys.wrapKeyId;
      updates[META.token] = JSON.stringify(binding);
    }
    this.store.writeAuthenticatedMeta(updates);
    if (binding) this.binding = binding;
  }

  /** `hardkms rebind`: the token at this module proved to be the vault's; bind to it. */
  private rebindTo(info: { modulePath: string; profile: string; label: string }): void {
    const before = { modulePath: this.binding.modulePath, profile: this.binding.profile, label: this.binding.label };
    const after = { modulePath: info.modulePath, profile: info.profile, label: info.label };
    if (JSON.stringify(before) === JSON.stringify(after)) {
      this.record({
        event: 'vault.rebind',
        subject: this.vaultId,
        result: 'info',
        details: { changed: false, binding: before },
      });
      return;
    }
    const binding = { ...this.binding, ...after };
    this.store.writeAuthenticatedMeta({ [META.token]: JSON.stringify(binding) });
    this.binding = binding;
    this.record({
      event: 'vault.rebind',
      subject: this.vaultId,
      result: 'ok',
      details: { changed: true, from: before, to: after },
    });
  }

  /** After the migration committed: the new keys are the vault's. */
  useInnerKey(key: Buffer): void {
    this.inner?.fill(0);
    this.inner = key;
  }

  /**
   * Stores entries and appends their audit record in one store transaction, before its
   * COMMIT: a kill at any moment leaves no stored wallet without its record.
   */
  addEntries(entries: readonly NewWalletEntry[], event: AuditEvent): AuditRecord {
    return this.store.transaction(() => {
      this.store.addEntries(entries);
      return this.record(event);
    });
  }

  /** Removes a wallet and appends its audit record in one store transaction. */
  removeEntry(signatureId: string, event: AuditEvent): boolean {
    return this.store.transaction(() => {
      const removed = this.store.removeEntry(signatureId);
      if (removed) this.record(event);
      return removed;
    });
  }

  /** The secret, for providers that re-seal it (enroll, revoke, rotate). Do not keep it. */
  currentSecret(): VaultSecret {
    if (!this.secret) throw new HardkmsError('VAULT_SEALED', 'The vault is sealed.', { hint: 'Unseal it first.' });
    if (this.pinForgotten) {
      throw new HardkmsError(
        'VAULT_PIN_DROPPED',
        'This process dropped the token PIN after logging in; it cannot re-seal the vault.',
        {
          hint: 'Run enroll / rotate / revoke as a separate hardkms command, not inside the daemon.',
        },
      );
    }
    return this.secret;
  }

  sealRecord(): SealRecord {
    return this.store.getMetaJson(META.seal, sealRecord)!;
  }

  /**
   * Replaces the seal (after enroll, revoke, rotate, recover) under the meta MAC. With a
   * `newSecret` whose store key differs, the store is re-keyed in the same transaction
   * (every MAC'd row and the meta); with a new token PIN, the current seal is kept as
   * previous_seal until completePinChange(): a crash before the token has the new PIN then
   * falls back to it, and to its store key, at the next unseal (Vault.open). The rotation
   * protocol itself is in seal-rotation.ts.
   */
  replaceSeal(seal: SealRecord, newSecret?: VaultSecret): void {
    storeNewSeal(this.store, this.vaultId, seal, this.currentSecret(), newSecret);
    if (newSecret) this.adopt(newSecret);
  }

  /** Undoes a replaceSeal whose PIN change the token refused: back to `seal` and `secret`. */
  restoreSeal(seal: SealRecord, secret: VaultSecret): void {
    restoreSeal(this.store, this.vaultId, seal, this.currentSecret(), secret);
    this.adopt(secret);
  }

  private adopt(secret: VaultSecret): void {
    const old = this.secret;
    this.secret = { storeKey: Buffer.from(secret.storeKey), tokenPin: Buffer.from(secret.tokenPin) };
    wipeVaultSecret(old);
  }

  /**
   * Commits a provider's re-seal of the same secret (new challenges), unless another
   * process replaced the seal since this unseal read it: a stale re-seal must never
   * overwrite a rotation that changed the secret.
   */
  private commitReseal(
    reseal: ReturnType<NonNullable<VaultSecretProvider['resealAfterUnseal']>>,
    unsealedFrom: SealRecord,
  ): void {
    if (!reseal) return;
    const committed = commitResealIfCurrent(this.store, reseal.record, unsealedFrom);
    this.record({
      event: reseal.event,
      subject: this.vaultId,
      result: committed ? 'ok' : 'info',
      details: committed ? reseal.details : { ...reseal.details, skipped: 'the seal changed meanwhile' },
    });
  }

  /** Called once the token has the new PIN: the previous seal is no longer needed. */
  completePinChange(): void {
    dropPreviousSeal(this.store);
  }

  /** The gate policy recorded at init (authenticated: the meta MAC was checked at unseal). */
  gatePolicy(): GatePolicy {
    return decodeGatePolicy(this.store.getMetaJson(META.gatePolicy, gatePolicyRecord), this.sealRecord());
  }

  get isSealed(): boolean {
    return this.secret === undefined;
  }

  /**
   * A vault on PostgreSQL: brings this host's audit.log up to date with the store's trail
   * (what every instance stored); a no-op for wallet.dat. The daemon calls it each cycle: its
   * own appends are nested in its steps' transactions, which copy nothing.
   */
  syncAuditCopy(): void {
    this.audit.syncCopy();
  }

  /**
   * The seal's record. When another process re-keyed the store meanwhile (a rotate while the
   * daemon ran), this process's key may no longer write the authenticated head: the record is
   * appended chained and unsigned instead, as while sealed, and the next unseal countersigns it.
   */
  private recordSeal(reason: string): void {
    const event: AuditEvent = { event: 'seal', subject: this.vaultId, result: 'ok', details: { reason } };
    try {
      this.record(event);
    } catch (e) {
      if (!(e instanceof HardkmsError && e.code === 'VAULT_REKEYED')) throw e;
      this.audit.signWith(undefined);
      this.audit.append({ ...event, details: { reason, rekeyedMeanwhile: true } });
    }
  }

  /** Wipes the secret, logs out of the token, closes the store. Safe to call twice. */
  seal(reason = 'done'): void {
    if (!this.secret) return;
    try {
      this.recordSeal(reason);
    } finally {
      wipeVaultSecret(this.secret);
      this.secret = undefined;
      this.inner?.fill(0);
      this.inner = undefined;
      this.audit.signWith(undefined);
      this.token.close();
      this.store.close();
    }
  }
}

/** The inner-layer key, opened with the unsealed store key; undefined for a store from before the inner layer (migrate-inner.ts). */
function innerKeyOf(store: WalletStore, secret: VaultSecret, vaultId: string): Buffer | undefined {
  const sealed = store.getMeta(META.innerKey);
  return sealed === undefined ? undefined : openInnerKey(sealed, secret.storeKey, vaultId);
}
