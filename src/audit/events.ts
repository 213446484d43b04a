/**
 * The closed list of audit event names. Every writer names one of these (a name not here
 * does not build), and the report and the auditor's docs read them from here. The names
 * are in signed logs already: they are never renamed, so their separators stay as they
 * were first written (`store.rows-bound`, `gate.challenges_rotated`); new names use dots
 * between words of the subject and `_` inside a word group.
 */
export const AUDIT_EVENTS = [
  // the vault: creation, unseal and seal, the store's authenticated state
  'init',
  'unseal',
  'seal',
  'seal.create',
  'seal.rotation_rolled_back',
  'token.login',
  'token.pin_rotated',
  'token.backup',
  'token.repair',
  'audit.countersign',
  'audit.tail_cut',
  'store.rows-bound',
  'store.migrate',
  'vault.migrated',
  'vault.retired_key',
  'vault.rebind',
  'password.rotate',
  'recover',
  // the YubiKey gate
  'gate.seal',
  'gate.enroll',
  'gate.revoke',
  'gate.rotate',
  'gate.recover',
  'gate.unseal',
  'gate.unseal.credential',
  'gate.unseal.emulator_refused',
  'gate.unseal.unenrolled',
  'gate.challenges_rotated',
  'gate.confirm',
  'otp.add',
  'otp.remove',
  'otp.verify',
  // wallets and secrets
  'wallet.generate',
  'wallet.store',
  'wallet.import',
  'wallet.list',
  'wallet.remove',
  'secret.authorised',
  'secret.show',
  'unwrap',
  // the daemon's pipeline
  'daemon.start',
  'daemon.mainnet-override',
  'daemon.approver-override',
  'daemon.insecure-http',
  'keycache.destroy',
  'policy',
  'approval',
  'sign',
  'broadcast',
  'journal.release',
] as const;

export type AuditEventName = (typeof AUDIT_EVENTS)[number];

const NAMES: ReadonlySet<string> = new Set(AUDIT_EVENTS);

/** Whether a name read from a log is one hardkms writes (a log may hold anything). */
export function isAuditEventName(name: string): name is AuditEventName {
  return NAMES.has(name);
}

/** `actual` (read from a log, so any text) is the event `name`; the name is checked against the list when this builds. */
export function isEvent(actual: string, name: AuditEventName): boolean {
  return actual === name;
}
