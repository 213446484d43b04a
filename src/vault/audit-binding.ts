import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { HardkmsError } from '../errors.js';
import {
  AuditLog,
  auditPublicKeyPath,
  checkTrailChain,
  linesAfter,
  readRecordsAfter,
  type AuditLogStore,
} from '../audit/log.js';
import type { AuditEvent, AuditRecord } from '../audit/record.js';
import { AuditForwarder, type ForwardTarget } from '../audit/forward.js';
import { keyFingerprint } from '../audit/verify.js';
import type { Token } from '../hsm/token.js';
import { storedAuditLog, vaultFacts, type TokenBinding, type VaultFacts, type VaultLocation } from './facts.js';
import { META } from './meta-auth.js';
import { auditHeadRecord, authenticatedHeadRecord, forwardedRecord } from './meta-records.js';
import { WalletStore } from './store.js';
import { storeAuditTrail } from './audit-trail.js';
import { isStoreUrl } from './pg/url.js';

/**
 * The vault's side of its audit log: how a process appends while sealed (chained,
 * unsigned) and once unsealed (signed by the token's audit key, the head MAC'd in the
 * store), and the checks at unseal that the log and its public key are the ones bound.
 * The log's own format and batching are audit/log.ts's.
 */

/**
 * The vault's store as its audit log's store (audit/log.ts AuditLogStore), given to the log
 * once: appends under the store's writer lock, the head in its meta (a signed append's also
 * MAC'd under the store key, in the append's transaction: committed with the record's
 * effect), forwarding to the bound sink, and on PostgreSQL the one trail of every instance.
 */
export function storeForAudit(
  store: WalletStore,
  forwardTo: ForwardTarget | undefined,
  logPath: string,
): AuditLogStore {
  return {
    // A signed append first checks that no other process re-keyed the store (rotate, revoke,
    // recover) since this one unsealed: the old key writes nothing (VAULT_REKEYED, nothing appended).
    withLock: (fn, signed) =>
      store.transaction(() => {
        if (signed) store.assertNotRekeyed();
        return fn();
      }),
    setHead: (head, signed) => {
      store.setMetaJson(META.auditHead, head);
      if (signed) store.setMetaJson(META.auditHeadAuth, { ...head, mac: store.auditHeadMac(head) });
    },
    // The furthest head the store names. The authenticated one's MAC is checked at unseal, not
    // here (a sealed writer has no key): a seq moved forward fails that check at the next unseal,
    // and a plain audit_head moved back does not let a committed, signed record be cut.
    head: () => {
      const plain = store.getMetaJson(META.auditHead, auditHeadRecord);
      const auth = store.getMetaJson(META.auditHeadAuth, authenticatedHeadRecord);
      return auth !== undefined && (plain === undefined || auth.seq > plain.seq) ? auth : plain;
    },
    forward: forwardHook(store, forwardTo, logPath),
    trail: storeAuditTrail(store),
  };
}

/** How a process without the vault secret appends (failed unseals, generatewallet): chained, unsigned. */
export function sealedAuditLog(
  store: WalletStore,
  facts: VaultFacts,
  options: { actor?: string | undefined; keepOnForwardFailure?: boolean; forward?: false } = {},
): AuditLog {
  const forwardTo = options.forward === false ? undefined : facts.binding.auditForward;
  return new AuditLog(facts.auditLogPath, {
    store: storeForAudit(store, forwardTo, facts.auditLogPath),
    keepOnForwardFailure: options.keepOnForwardFailure,
    ...(options.actor !== undefined ? { actor: options.actor } : {}),
  });
}

const forwarders = new Map<string, AuditForwarder>();

/**
 * Sends, inside the append's transaction and before the local write, every record the
 * sink has not taken yet (written while it was down, in order) and then this one.
 */
function forwardHook(store: WalletStore, target: ForwardTarget | undefined, logPath: string): AuditLogStore['forward'] {
  if (!target) return undefined;
  return (records, lines) => {
    let forwarder = forwarders.get(target.url);
    if (!forwarder) {
      forwarder = new AuditForwarder(target);
      forwarders.set(target.url, forwarder);
    }
    const sent = store.getMetaJson(META.auditForwarded, forwardedRecord)?.seq ?? 0;
    const first = records[0]!.seq;
    const seqOf = (l: string): number => Number(/^\{"seq":(\d+),/.exec(l)?.[1] ?? NaN);
    // Several instances: what the sink has not taken is in the store's trail (any host's records), not this host's copy.
    const shared = storeAuditTrail(store);
    const unsent = shared !== undefined ? shared.rowsAfter(sent).map((r) => r.line) : linesAfter(logPath, sent);
    forwarder.send([...unsent.filter((l) => seqOf(l) < first), ...lines]);
    store.setMetaJson(META.auditForwarded, { seq: records[records.length - 1]!.seq });
  };
}

/**
 * Appends a chained, unsigned audit record without unsealing (token backup and repair, where
 * no login is possible): the next signed record covers it, as for a failed unseal. Not
 * forwarded by this append (a sink that is down does not stop a repair); the next
 * forwarded append sends it, as it sends every record the sink has not taken.
 */
export function recordWhileSealed(location: VaultLocation, event: AuditEvent, actor: string): void {
  const store = WalletStore.open(location.path);
  try {
    const facts = vaultFacts(store, location);
    sealedAuditLog(store, facts, { forward: false, actor }).append(event);
  } finally {
    store.close();
  }
}

/**
 * `audit verify` / `report` / `export` on a PostgreSQL store: this host's copy of the trail
 * brought up to date (no secret needed: records are public; under the writer lock, so this
 * host's instances appending meanwhile are not interleaved), and the whole stored trail
 * returned; undefined for wallet.dat, whose audit.log is the trail. Refuses a copy that is no
 * prefix of the stored trail (a row edited after this host copied it, a trail cut or restored).
 */
export function syncStoredTrail(location: VaultLocation): string[] | undefined {
  if (!isStoreUrl(location.path)) return undefined;
  const store = WalletStore.open(location.path);
  try {
    const facts = vaultFacts(store, location);
    const trail = storeAuditTrail(store)!;
    // A signer host keeps a copy at the bound path; an auditor's machine has none and gets none.
    const hostCopy = existsSync(facts.auditLogPath);
    const log = new AuditLog(facts.auditLogPath, { store: storeForAudit(store, undefined, facts.auditLogPath) });
    return store.transaction(() => {
      if (hostCopy) log.syncCopy();
      const rows = trail.rowsAfter(0);
      checkTrailChain(rows, undefined, 'refused');
      const lines = rows.map((r) => r.line);
      if (!hostCopy) return lines;
      const copy = linesAfter(facts.auditLogPath, 0);
      const differs = copy.findIndex((l, i) => l !== lines[i]);
      if (differs >= 0 || copy.length !== lines.length) {
        const seq = differs >= 0 ? differs + 1 : Math.min(copy.length, lines.length) + 1;
        throw new HardkmsError(
          'AUDIT_TRAIL_DIVERGES',
          `The audit trail in the store and this host's copy ${facts.auditLogPath} differ from record ${seq} on.`,
          {
            hint: "One of them was changed after this host copied the record: the store's rows (by a database admin) or this file. Compare both with the forwarded copy (`hardkms audit verify --against FILE`); do not sign until an auditor has.",
          },
        );
      }
      return lines;
    });
  } finally {
    store.close();
  }
}

/** Appends one unsigned, chained record to a sealed store's log (generatewallet shows a secret without unsealing). */
export function appendSealedRecord(location: VaultLocation, event: AuditEvent, actor: string): void {
  const store = WalletStore.open(location.path);
  try {
    const facts = vaultFacts(store, location);
    sealedAuditLog(store, facts, { actor }).append(event);
  } finally {
    store.close();
  }
}

/** The failed unseal's own record (chained, unsigned); never throws: the failure itself is what the user must see. */
export function recordUnsealFailure(
  store: WalletStore,
  location: VaultLocation,
  code: string,
  actor: string | undefined,
): void {
  try {
    const facts = vaultFacts(store, location);
    sealedAuditLog(store, facts, { keepOnForwardFailure: true }).append({
      event: 'unseal',
      subject: facts.vaultId,
      result: 'fail',
      actor,
      details: { code },
    });
  } catch {
    // A second failure would hide the first.
  }
}

/**
 * At unseal, before the first signed record: the log and its public key are the bound ones
 * (checkAuditBinding), this host's copy of a shared trail is brought up to date, and the log
 * still holds the authenticated head (checkAuditHead). Returns the binding (completed in
 * stores made before it had the log path and key fingerprint) and the records written while
 * sealed, which the first signed record countersigns.
 */
export function checkAuditAtUnseal(
  store: WalletStore,
  token: Token,
  facts: VaultFacts,
  audit: AuditLog,
): { binding: TokenBinding; uncovered: AuditRecord[] } {
  const binding = checkAuditBinding(store, token, facts);
  // Several instances (PostgreSQL): this host's copy of the trail brought up to date first, refused if the trail went
  // back. Copy and head check under one writer lock: another instance's append between them would move the head past
  // the copy (or put two signed records after the head read) and read as a false AUDIT_HEAD_MISMATCH.
  const uncovered = store.transaction(() => {
    audit.syncCopy();
    return checkAuditHead(store, facts, !!facts.binding.auditLog);
  });
  return { binding, uncovered };
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
    throw new HardkmsError(
      'AUDIT_PUBKEY_MISMATCH',
      `${pemPath} is not the token's audit public key (fingerprint ${fingerprint}): it was replaced.`,
      {
        hint: 'Someone changed the key auditors check the log with. Investigate, then restore the file (its fingerprint is printed by init and recorded in the init record).',
      },
    );
  }
  if (facts.binding.auditLog !== undefined && facts.binding.auditKeyFingerprint !== undefined) return facts.binding;
  const binding: TokenBinding = {
    ...facts.binding,
    auditLog: storedAuditLog(store.path, facts.auditLogPath),
    auditKeyFingerprint: fingerprint,
  };
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
  const auth = store.getMetaJson(META.auditHeadAuth, authenticatedHeadRecord);
  const mismatch = (why: string): HardkmsError =>
    new HardkmsError('AUDIT_HEAD_MISMATCH', `The audit log ${facts.auditLogPath} ${why}.`, {
      hint: 'Records were cut, the log replaced, or wallet.dat rolled back. Do not use this vault until an auditor has compared the log with its off-host copy (`hardkms audit verify --against FILE`); then restore both files from the same backup.',
    });
  if (!auth) {
    if (required) throw mismatch("has no authenticated head in wallet.dat (the head's row was removed)");
    return [];
  }
  if (
    typeof auth.seq !== 'number' ||
    typeof auth.hash !== 'string' ||
    typeof auth.mac !== 'string' ||
    auth.mac !== store.auditHeadMac(auth)
  ) {
    throw mismatch('head in wallet.dat fails its integrity check: it was rewritten without the vault secret');
  }
  const after = readRecordsAfter(facts.auditLogPath, auth.seq);
  if (after === undefined)
    throw mismatch(`no longer contains record ${auth.seq}, the last one wallet.dat's authenticated head names`);
  if (after.atHead?.hash !== auth.hash)
    throw mismatch(`has a different record ${auth.seq} than the one wallet.dat's authenticated head names`);
  if (after.records.filter((r) => r.sig !== null).length > 1) {
    throw mismatch(
      `has signed records after record ${auth.seq}, where wallet.dat's authenticated head stops: the head was rolled back`,
    );
  }
  // Members of a batch whose signing record is there (a process killed before its commit) are signed already.
  const signedUpTo = Math.max(0, ...after.records.filter((r) => r.sig !== null).map((r) => r.seq));
  return after.records.filter(
    (r) => r.sig === null && !(r.signed === true && (r.batch ?? 0) > 0 && r.seq < signedUpTo),
  );
}
