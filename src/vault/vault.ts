import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { HardkmsError } from '../errors.js';
import { AuditLog, auditPublicKeyPath, defaultAuditLogPath, linesAfter, readRecordsAfter, type AuditHead, type AuditLogOptions } from '../audit/log.js';
import type { AuditEvent, AuditRecord } from '../audit/record.js';
import { AuditForwarder, type ForwardTarget } from '../audit/forward.js';
import { keyFingerprint } from '../audit/verify.js';
import { Token, type OpenTokenOptions, type VaultKeyIds } from '../hsm/token.js';
import type { NewWalletEntry } from './entries.js';
import { macLegacyJournalRows } from './journal-rows.js';
import { ROW_SETS_ADOPT, WalletStore } from './store.js';
import { isStoreUrl } from './pg/url.js';
import { STORE_KEY_BYTES, wipeVaultSecret, type SealContext, type SealRecord, type VaultSecret, type VaultSecretProvider } from './secret.js';
import { FORMAT_VERSION } from './schema.js';
import { INNER_KEY_META, newInnerKey, openInnerKey, resealInnerKey } from './inner.js';
import { migrateToInnerLayer } from './migrate-inner.js';
import { META } from './meta-auth.js';
import { REKEYED_TABLES } from './rekey.js';
import { decodeGatePolicy, encodeGatePolicy, mainnetGateProblem, type GatePolicy, type GatePolicyFlags } from './gate-policy.js';

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

export interface InitOptions extends VaultLocation {
  token: OpenTokenOptions;
  /** The token user PIN; only init receives it from outside (HARDKMS_TOKEN_PIN or a prompt). */
  tokenPin: Buffer;
  provider: VaultSecretProvider;
  /** A testnet-only vault refuses mainnet wallets and relaxes the gate rules. */
  testnetOnly?: boolean;
  /**
   * false (what `hardkms init` passes without --share-token): refuse a token that already
   * holds another vault's keys. Left undefined by library callers that make throwaway vaults.
   */
  shareToken?: boolean;
  /**
   * What the operators explicitly allowed for mainnet (init flags; authenticated meta). A
   * password-sealed vault must be testnetOnly unless passwordOnMainnet is set.
   */
  gatePolicy?: Partial<GatePolicyFlags>;
  actor?: string;
  /** Off-host sink for every record, bound at init. */
  auditForward?: ForwardTarget | undefined;
}

export interface OpenOptions extends VaultLocation {
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

function sameFile(a: string, b: string): boolean {
  if (a === b) return true;
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
}

/** Refuses an override of the MAC'd token binding (issue 9 item 4: ambient configuration). */
export function checkBindingOverride(binding: TokenBinding, override: OpenTokenOptions | undefined): void {
  const mismatches: string[] = [];
  if (override?.modulePath !== undefined && !sameFile(override.modulePath, binding.modulePath)) {
    mismatches.push(`PKCS#11 module ${override.modulePath} (HARDKMS_PKCS11_MODULE) is not ${binding.modulePath}`);
  }
  if (override?.profile !== undefined && override.profile !== binding.profile) {
    mismatches.push(`token profile '${override.profile}' is not '${binding.profile}'`);
  }
  if (mismatches.length === 0) return;
  throw new HardkmsError('HSM_BINDING_MISMATCH', `This vault is bound to another token library: ${mismatches.join('; ')}.`, {
    hint: 'Unset HARDKMS_PKCS11_MODULE / HARDKMS_TOKEN_PROFILE to use the bound one. If the module really moved, run `hardkms rebind` with it set (needs the quorum; audited).',
  });
}

interface AuthenticatedHead extends AuditHead {
  mac: string;
}

function storedAuditLog(walletPath: string, logPath: string): string {
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
    const bound = store.getMetaJson<TokenBinding>(META.token)?.auditLog;
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
  return new HardkmsError('AUDIT_LOG_PATH_MISMATCH', `This vault's audit log is ${bound}, fixed at init; --audit-log names ${requested}.`, {
    hint: 'Leave out --audit-log (or pass the path init fixed). Records are never written anywhere else.',
  });
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
    return factsOf(store, location);
  } finally {
    store.close();
  }
}

/**
 * Appends a chained, unsigned audit record without unsealing (token repair, where no login
 * is possible): the next signed record covers it, as for a failed unseal.
 */
export function recordWhileSealed(location: VaultLocation, event: AuditEvent, actor: string): void {
  const store = WalletStore.open(location.path);
  try {
    const facts = factsOf(store, location);
    new AuditLog(facts.auditLogPath, {
      withLock: (fn) => store.transaction(fn),
      setHead: (head) => store.setMetaJson(META.auditHead, head),
      actor,
    }).append(event);
  } finally {
    store.close();
  }
}

function factsOf(store: WalletStore, location: VaultLocation): VaultFacts {
  const facts = rawFactsOf(store, location);
  const bound = facts.binding.auditLog === undefined ? undefined : boundLogPath(store.path, facts.binding.auditLog);
  if (bound !== undefined) {
    if (location.auditLogPath !== undefined && resolve(location.auditLogPath) !== bound) throw auditLogMismatch(resolve(location.auditLogPath), bound);
    facts.auditLogPath = bound;
  }
  return facts;
}

function rawFactsOf(store: WalletStore, location: VaultLocation): VaultFacts {
  const vaultId = store.getMeta(META.vaultId);
  const binding = store.getMetaJson<TokenBinding>(META.token);
  const seal = store.getMetaJson<SealRecord>(META.seal);
  if (!vaultId || !binding || !seal) {
    throw new HardkmsError('VAULT_INCOMPLETE', `${store.path} was not fully initialised (no vault id, token binding or seal).`, {
      hint: 'Remove it and run `hardkms init` again; it cannot hold any wallet.',
    });
  }
  return {
    vaultId,
    created: store.getMeta(META.created) ?? '',
    binding,
    seal,
    testnetOnly: store.getMeta(META.testnetOnly) === 'true',
    gatePolicy: decodeGatePolicy(store.getMeta(META.gatePolicy), seal),
    auditHead: store.getMetaJson<AuditHead>(META.auditHead),
    auditLogPath: location.auditLogPath ?? defaultLogFor(store.path),
    walletCount: undefined,
  };
}

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

  private constructor(args: {
    store: WalletStore;
    token: Token;
    audit: AuditLog;
    vaultId: string;
    binding: TokenBinding;
    testnetOnly: boolean;
    secret: VaultSecret;
    inner: Buffer | undefined;
  }) {
    this.store = args.store;
    this.token = args.token;
    this.audit = args.audit;
    this.vaultId = args.vaultId;
    this.binding = args.binding;
    this.testnetOnly = args.testnetOnly;
    this.secret = args.secret;
    this.inner = args.inner;
  }

  static async init(options: InitOptions): Promise<Vault> {
    // Checked first so that nothing (token keys included) is created for a refused init.
    WalletStore.refuseExisting(options.path);
    refusePasswordOnMainnet(options.provider.name, options);
    const token = Token.open(options.token);
    let store: WalletStore | undefined;
    const secret: VaultSecret = { storeKey: randomBytes(STORE_KEY_BYTES), tokenPin: Buffer.from(options.tokenPin) };
    try {
      token.login(secret.tokenPin);
      if (options.shareToken === false) refuseSharedToken(token);
      const vaultId = randomUUID();
      const auditLogPath = options.auditLogPath ?? defaultLogFor(options.path);
      const pending: AuditEvent[] = [];
      const ctx: SealContext = {
        vaultId,
        mainnet: !options.testnetOnly,
        audit: (event, result, details) => pending.push({ event, result, subject: vaultId, ...(details ? { details } : {}) }),
      };
      // Seal first: if the operators' ceremony fails, no store and no token keys exist.
      const seal = await options.provider.seal(secret, ctx);
      refusePasswordOnMainnet(seal.provider, options);
      const keys = token.generateVaultKeys(vaultId);
      const auditPem = token.auditPublicKeyPem(keys.auditKeyId);
      const binding: TokenBinding = {
        modulePath: token.info.modulePath,
        label: token.info.label,
        serial: token.info.serial,
        profile: token.info.profile,
        keys,
        auditLog: storedAuditLog(options.path, auditLogPath),
        auditKeyFingerprint: keyFingerprint(auditPem),
        ...(options.auditForward ? { auditForward: options.auditForward } : {}),
      };
      store = WalletStore.create(options.path);
      const s = store;
      s.unlock(secret.storeKey, vaultId);
      const inner = newInnerKey(secret.storeKey, vaultId);
      const gatePolicy = encodeGatePolicy(options.gatePolicy ?? {});
      s.transaction(() => {
        s.initAuthenticatedMeta({
          [META.innerKey]: inner.sealed,
          [META.vaultId]: vaultId,
          [META.created]: new Date().toISOString(),
          [META.format]: String(FORMAT_VERSION),
          [META.token]: JSON.stringify(binding),
          [META.seal]: JSON.stringify(seal),
          [META.testnetOnly]: options.testnetOnly ? 'true' : 'false',
          [META.gatePolicy]: gatePolicy,
          [META.rowSetsBound]: '1',
        });
        s.rebuildRowSets();
        s.deleteMeta(ROW_SETS_ADOPT);
      });
      token.bindVaultKeys(keys);
      writeFileSync(auditPublicKeyPath(auditLogPath), auditPem, { mode: 0o644 });
      const vault = new Vault({
        store: s,
        token,
        audit: new AuditLog(auditLogPath),
        vaultId,
        binding,
        testnetOnly: !!options.testnetOnly,
        secret,
        inner: inner.key,
      });
      vault.attachAudit(options.actor ?? 'cli:init');
      vault.record({
        event: 'init',
        subject: vaultId,
        result: 'ok',
        details: {
          provider: seal.provider,
          token: { label: binding.label, serial: binding.serial, profile: binding.profile },
          keys: binding.keys,
          auditKeyFingerprint: binding.auditKeyFingerprint,
          testnetOnly: !!options.testnetOnly,
          gatePolicy: JSON.parse(gatePolicy) as GatePolicyFlags,
        },
      });
      for (const e of pending) vault.record(e);
      return vault;
    } catch (e) {
      wipeVaultSecret(secret);
      store?.close();
      token.close();
      throw e;
    }
  }

  static async open(options: OpenOptions): Promise<Vault> {
    const store = WalletStore.open(options.path);
    let token: Token | undefined;
    let secret: VaultSecret | undefined;
    try {
      let facts = factsOf(store, options);
      const audit = new AuditLog(facts.auditLogPath, { ...sealedWriter(store, facts), keepOnForwardFailure: true, actor: options.actor ?? 'hardkms' });
      const ctx: SealContext = {
        vaultId: facts.vaultId,
        mainnet: !facts.testnetOnly,
        audit: (event, result, details) => {
          audit.append({ event, result, subject: facts.vaultId, ...(details ? { details } : {}) });
        },
      };
      secret = await options.provider.unseal(facts.seal, ctx);
      store.unlock(secret.storeKey, facts.vaultId);
      store.verifyMeta();
      // Read again: from here on only values under the meta MAC are used.
      facts = factsOf(store, options);
      const adopted = bindRowSets(store);
      if (!options.rebind) checkBindingOverride(facts.binding, options.token);
      token = Token.open({
        modulePath: options.token?.modulePath ?? facts.binding.modulePath,
        label: options.token?.label ?? facts.binding.label,
        profile: options.token?.profile ?? facts.binding.profile,
      });
      if (token.info.serial !== facts.binding.serial) {
        throw new HardkmsError(
          'HSM_WRONG_TOKEN',
          `Token '${token.info.label}' has serial ${token.info.serial}, but this vault was created with serial ${facts.binding.serial}.`,
          {
            hint: 'Connect the token the vault was created with (or its restored backup).',
          },
        );
      }
      let rolledBack = false;
      try {
        token.login(secret.tokenPin);
        if (store.getMeta(META.previousSeal) !== undefined) store.writeAuthenticatedMeta({ [META.previousSeal]: undefined });
      } catch (e) {
        const previous = store.getMetaJson<SealRecord>(META.previousSeal);
        if (!(e instanceof HardkmsError) || e.code !== 'HSM_WRONG_PIN' || !previous) throw e;
        // A rotation was interrupted after the new seal (and the re-keyed rows) were committed
        // and before the token took the new PIN: the previous seal (under the meta MAC, so
        // not injected) still matches the token. Go back to it, and to its store key, in one
        // transaction: the store is then wholly in its state from before the rotation.
        const prevSecret = await options.provider.unseal(previous, ctx);
        try {
          token.login(prevSecret.tokenPin);
          restoreSeal(store, facts.vaultId, previous, secret, prevSecret);
        } catch (e2) {
          wipeVaultSecret(prevSecret);
          throw e2;
        }
        wipeVaultSecret(secret);
        secret = prevSecret;
        facts = factsOf(store, options);
        rolledBack = true;
      }
      token.bindVaultKeys(facts.binding.keys);
      const sealedInner = store.getMeta(INNER_KEY_META);
      const binding = checkAuditBinding(store, token, facts);
      const uncovered = checkAuditHead(store, facts, !!facts.binding.auditLog);
      const vault = new Vault({
        store,
        token,
        audit,
        vaultId: facts.vaultId,
        binding,
        testnetOnly: facts.testnetOnly,
        secret,
        inner: sealedInner === undefined ? undefined : openInnerKey(sealedInner, secret.storeKey, facts.vaultId),
      });
      vault.attachAudit(options.actor ?? 'hardkms');
      vault.record({ event: 'token.login', subject: facts.binding.label, result: 'ok', details: { serial: facts.binding.serial } });
      if (adopted !== undefined) {
        vault.record({
          event: 'store.rows-bound',
          subject: facts.vaultId,
          result: 'info',
          details: { reason: 'first unseal since the upgrade that binds journal, ledger, wallet and OTP rows', journalRowsMacd: adopted },
        });
      }
      if (uncovered.length > 0) {
        // Records written while sealed carry no signature; this signed one vouches for them.
        vault.record({
          event: 'audit.countersign',
          subject: facts.vaultId,
          result: 'info',
          details: {
            first: uncovered[0]!.seq,
            last: uncovered[uncovered.length - 1]!.seq,
            count: uncovered.length,
            events: [...new Set(uncovered.map((r) => r.event))],
          },
        });
      }
      if (options.rebind) vault.rebindTo(token.info);
      migrateToInnerLayer(vault);
      vault.commitReseal(options.provider.resealAfterUnseal?.(), rolledBack ? store.getMetaJson<SealRecord>(META.seal)! : facts.seal);
      if (rolledBack) {
        vault.record({
          event: 'seal.rotation_rolled_back',
          subject: facts.vaultId,
          result: 'info',
          details: { reason: 'a token PIN change was interrupted; the previous seal matches the token and is current again' },
        });
      }
      return vault;
    } catch (e) {
      wipeVaultSecret(secret);
      token?.close();
      if (e instanceof HardkmsError && e.code !== 'VAULT_NOT_FOUND') {
        try {
          const facts = factsOf(store, options);
          new AuditLog(facts.auditLogPath, { ...sealedWriter(store, facts), keepOnForwardFailure: true }).append({
            event: 'unseal',
            subject: facts.vaultId,
            result: 'fail',
            actor: options.actor,
            details: { code: e.code },
          });
        } catch {
          // The failure itself is what the user must see; a second one would hide it.
        }
      }
      store.close();
      throw e;
    }
  }

  private attachAudit(actor: string): void {
    const store = this.store;
    this.audit.configure({
      signer: (hash) => this.token.auditSign(hash),
      forward: forwardHook(store, this.binding.auditForward, this.audit.path),
      keepOnForwardFailure: false,
      withLock: (fn) => store.transaction(fn),
      // One HMAC inside the append's transaction: cheap, and committed with the record's effect.
      setHead: (head) => {
        store.setMetaJson(META.auditHead, head);
        store.setMetaJson(META.auditHeadAuth, { ...head, mac: store.auditHeadMac(head) });
      },
      actor,
    });
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
      this.record({ event: 'vault.rebind', subject: this.vaultId, result: 'info', details: { changed: false, binding: before } });
      return;
    }
    const binding = { ...this.binding, ...after };
    this.store.writeAuthenticatedMeta({ [META.token]: JSON.stringify(binding) });
    this.binding = binding;
    this.record({ event: 'vault.rebind', subject: this.vaultId, result: 'ok', details: { changed: true, from: before, to: after } });
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
      throw new HardkmsError('VAULT_PIN_DROPPED', 'This process dropped the token PIN after logging in; it cannot re-seal the vault.', {
        hint: 'Run enroll / rotate / revoke as a separate hardkms command, not inside the daemon.',
      });
    }
    return this.secret;
  }

  sealRecord(): SealRecord {
    return this.store.getMetaJson<SealRecord>(META.seal)!;
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
    const cur = this.currentSecret();
    const pinChange = newSecret !== undefined && !newSecret.tokenPin.equals(cur.tokenPin);
    const updates = {
      [META.seal]: JSON.stringify(seal),
      [META.previousSeal]: pinChange ? JSON.stringify(this.sealRecord()) : undefined,
    };
    if (newSecret && !newSecret.storeKey.equals(cur.storeKey)) {
      this.store.rekey(newSecret.storeKey, REKEYED_TABLES, { ...updates, ...innerKeyFollows(this.store, this.vaultId, cur, newSecret) });
    } else this.store.writeAuthenticatedMeta(updates);
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
  private commitReseal(reseal: ReturnType<NonNullable<VaultSecretProvider['resealAfterUnseal']>>, unsealedFrom: SealRecord): void {
    if (!reseal) return;
    let committed = false;
    this.store.transaction(() => {
      if (JSON.stringify(this.sealRecord()) !== JSON.stringify(unsealedFrom)) return;
      this.store.writeAuthenticatedMeta({ [META.previousSeal]: undefined, [META.seal]: JSON.stringify(reseal.record) });
      committed = true;
    });
    this.record({
      event: reseal.event,
      subject: this.vaultId,
      result: committed ? 'ok' : 'info',
      details: committed ? reseal.details : { ...reseal.details, skipped: 'the seal changed meanwhile' },
    });
  }

  /** Called once the token has the new PIN: the previous seal is no longer needed. */
  completePinChange(): void {
    if (this.store.getMeta(META.previousSeal) !== undefined) this.store.writeAuthenticatedMeta({ [META.previousSeal]: undefined });
  }

  /** The gate policy recorded at init (authenticated: the meta MAC was checked at unseal). */
  gatePolicy(): GatePolicy {
    return decodeGatePolicy(this.store.getMeta(META.gatePolicy), this.sealRecord());
  }

  /**
   * Why this vault must not act on mainnet, or undefined: a password seal, a 1-of-N gate or
   * an emulated key that the operators did not explicitly allow at init. Always undefined
   * for a testnet-only vault (it refuses mainnet wallets anyway).
   */
  mainnetGateProblem(): HardkmsError | undefined {
    if (this.testnetOnly) return undefined;
    return mainnetGateProblem(this.sealRecord(), this.gatePolicy());
  }

  get isSealed(): boolean {
    return this.secret === undefined;
  }

  /** Wipes the secret, logs out of the token, closes the store. Safe to call twice. */
  seal(reason = 'done'): void {
    if (!this.secret) return;
    try {
      this.record({ event: 'seal', subject: this.vaultId, result: 'ok', details: { reason } });
    } finally {
      wipeVaultSecret(this.secret);
      this.secret = undefined;
      this.inner?.fill(0);
      this.inner = undefined;
      this.audit.configure({ signer: undefined });
      this.token.close();
      this.store.close();
    }
  }
}

/**
 * One token per vault: revoke, rotate and recover set a new token PIN, which locks every
 * other vault on the same token out. Checked before the ceremony, so no key is touched.
 */
function refuseSharedToken(token: Token): void {
  const others = token.vaultTags();
  if (others.length === 0) return;
  throw new HardkmsError(
    'HSM_TOKEN_IN_USE',
    `Token '${token.info.label}' (serial ${token.info.serial}) already holds the keys of another vault: ${others.map((t) => `${t}…`).join(', ')} (the start of its vault id; \`hardkms status\` on that vault shows it). Nothing was created.`,
    {
      hint: 'Give each vault a token of its own (SoftHSM2: hsm/init-softhsm2-token.sh DIR LABEL, then HARDKMS_TOKEN_LABEL=LABEL). --share-token accepts the shared token, but then revoke, rotate or recover on either vault changes the token PIN and locks the other vault out.',
    },
  );
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

/** Seal and store key back to `to` (from the store key of `from`), previous seal dropped: one transaction. */
function restoreSeal(store: WalletStore, vaultId: string, seal: SealRecord, from: VaultSecret, to: VaultSecret): void {
  const updates = { [META.seal]: JSON.stringify(seal), [META.previousSeal]: undefined };
  if (!to.storeKey.equals(from.storeKey)) store.rekey(to.storeKey, REKEYED_TABLES, { ...updates, ...innerKeyFollows(store, vaultId, from, to) });
  else store.writeAuthenticatedMeta(updates);
}

/** The inner key stays across a re-key; only its seal follows the store key (same transaction). */
function innerKeyFollows(store: WalletStore, vaultId: string, from: VaultSecret, to: VaultSecret): Record<string, string> {
  const sealed = store.getMeta(INNER_KEY_META);
  return sealed === undefined ? {} : { [META.innerKey]: resealInnerKey(sealed, from.storeKey, to.storeKey, vaultId) };
}

/** A password alone does not guard mainnet keys unless the operators said so, loudly, at init. */
function refusePasswordOnMainnet(provider: string, options: InitOptions): void {
  if (provider !== 'password' || options.testnetOnly || options.gatePolicy?.passwordOnMainnet === true) return;
  throw new HardkmsError('VAULT_PASSWORD_MAINNET', 'A vault sealed by a password only is testnet-only: it cannot be created for mainnet wallets.', {
    hint: 'Use a YubiKey gate for mainnet (hardkms init --yubikeys N --threshold M), pass --testnet, or, knowingly and audited, --allow-password-mainnet.',
  });
}

/** How a process without the vault secret appends (failed unseals, generatewallet): chained, unsigned. */
function sealedWriter(store: WalletStore, facts: VaultFacts): Pick<AuditLogOptions, 'withLock' | 'setHead' | 'forward'> {
  return {
    withLock: (fn) => store.transaction(fn),
    setHead: (head) => store.setMetaJson(META.auditHead, head),
    forward: forwardHook(store, facts.binding.auditForward, facts.auditLogPath),
  };
}

const forwarders = new Map<string, AuditForwarder>();

/**
 * Sends, inside the append's transaction and before the local write, every record the
 * sink has not taken yet (written while it was down, in order) and then this one.
 */
function forwardHook(store: WalletStore, target: ForwardTarget | undefined, logPath: string): AuditLogOptions['forward'] {
  if (!target) return undefined;
  return (records, lines) => {
    let forwarder = forwarders.get(target.url);
    if (!forwarder) {
      forwarder = new AuditForwarder(target);
      forwarders.set(target.url, forwarder);
    }
    const sent = store.getMetaJson<{ seq: number }>(META.auditForwarded)?.seq ?? 0;
    const first = records[0]!.seq;
    const seqOf = (l: string): number => Number(/^\{"seq":(\d+),/.exec(l)?.[1] ?? NaN);
    forwarder.send([...linesAfter(logPath, sent).filter((l) => seqOf(l) < first), ...lines]);
    store.setMetaJson(META.auditForwarded, { seq: records[records.length - 1]!.seq });
  };
}

/** Appends one unsigned, chained record to a sealed store's log (generatewallet shows a secret without unsealing). */
export function appendSealedRecord(location: VaultLocation, event: AuditEvent, actor: string): void {
  const store = WalletStore.open(location.path);
  try {
    const facts = factsOf(store, location);
    new AuditLog(facts.auditLogPath, { ...sealedWriter(store, facts), actor }).append(event);
  } finally {
    store.close();
  }
}

/**
 * The audit key in the token must be the one bound at init, and audit.pub.pem beside the
 * log must be that key: an auditor who trusts the file would otherwise accept a log
 * re-signed by another key. Binds the log path and fingerprint into stores made before
 * the binding had them.
 */
function checkAuditBinding(store: WalletStore, token: Token, facts: VaultFacts): TokenBinding {
  const pem = token.auditPublicKeyPem(facts.binding.keys.auditKeyId);
  const fingerprint = keyFingerprint(pem);
  if (facts.binding.auditKeyFingerprint !== undefined && facts.binding.auditKeyFingerprint !== fingerprint) {
    throw new HardkmsError(
      'AUDIT_PUBKEY_MISMATCH',
      `The token's audit key has fingerprint ${fingerprint}, not the ${facts.binding.auditKeyFingerprint} bound at init.`,
      {
        hint: 'Connect the token this vault was created with.',
      },
    );
  }
  const pemPath = auditPublicKeyPath(facts.auditLogPath);
  if (!existsSync(pemPath)) writeFileSync(pemPath, pem, { mode: 0o644 });
  else if (keyFingerprintOrNull(readFileSync(pemPath, 'utf8')) !== fingerprint) {
    throw new HardkmsError('AUDIT_PUBKEY_MISMATCH', `${pemPath} is not the token's audit public key (fingerprint ${fingerprint}): it was replaced.`, {
      hint: 'Someone changed the key auditors check the log with. Investigate, then restore the file (its fingerprint is printed by init and recorded in the init record).',
    });
  }
  if (facts.binding.auditLog !== undefined && facts.binding.auditKeyFingerprint !== undefined) return facts.binding;
  const binding: TokenBinding = { ...facts.binding, auditLog: storedAuditLog(store.path, facts.auditLogPath), auditKeyFingerprint: fingerprint };
  store.writeAuthenticatedMeta({ [META.token]: JSON.stringify(binding) });
  return binding;
}

function keyFingerprintOrNull(pem: string): string | null {
  try {
    return keyFingerprint(pem);
  } catch {
    return null;
  }
}

/**
 * The log must still hold the record the authenticated head names, and at most one signed
 * record after it (one appended by a process killed before its commit). Returns the
 * unsigned records after the head: written while sealed, to be countersigned now.
 */
function checkAuditHead(store: WalletStore, facts: VaultFacts, required: boolean): AuditRecord[] {
  const auth = store.getMetaJson<AuthenticatedHead>(META.auditHeadAuth);
  const mismatch = (why: string): HardkmsError =>
    new HardkmsError('AUDIT_HEAD_MISMATCH', `The audit log ${facts.auditLogPath} ${why}.`, {
      hint: 'Records were cut, the log replaced, or wallet.dat rolled back. Do not use this vault until an auditor has compared the log with its off-host copy (`hardkms audit verify --against FILE`); then restore both files from the same backup.',
    });
  if (!auth) {
    if (required) throw mismatch("has no authenticated head in wallet.dat (the head's row was removed)");
    return [];
  }
  if (typeof auth.seq !== 'number' || typeof auth.hash !== 'string' || typeof auth.mac !== 'string' || auth.mac !== store.auditHeadMac(auth)) {
    throw mismatch('head in wallet.dat fails its integrity check: it was rewritten without the vault secret');
  }
  const after = readRecordsAfter(facts.auditLogPath, auth.seq);
  if (after === undefined) throw mismatch(`no longer contains record ${auth.seq}, the last one wallet.dat's authenticated head names`);
  if (after.atHead?.hash !== auth.hash) throw mismatch(`has a different record ${auth.seq} than the one wallet.dat's authenticated head names`);
  if (after.records.filter((r) => r.sig !== null).length > 1) {
    throw mismatch(`has signed records after record ${auth.seq}, where wallet.dat's authenticated head stops: the head was rolled back`);
  }
  // Members of a batch whose signing record is there (a process killed before its commit) are signed already.
  const signedUpTo = Math.max(0, ...after.records.filter((r) => r.sig !== null).map((r) => r.seq));
  return after.records.filter((r) => r.sig === null && !(r.signed === true && (r.batch ?? 0) > 0 && r.seq < signedUpTo));
}
