import { HardkmsError } from '../errors.js';
import type { SealRecord } from '../vault/secret.js';
import { isDriverName, type DriverName } from './drivers/driver.js';

/** One enrolled YubiKey as stored in wallet.dat (all public data; hex strings). */
export interface GateCredential {
  id: string;
  label: string;
  serial: number;
  slot: 1 | 2;
  driver: DriverName;
  challenge: string; // hex, 32 bytes
  salt: string; // hex, 32 bytes
  iv: string; // hex, 12 bytes
  ct: string; // hex, sealed share ‖ GCM tag
  passphrase: boolean;
  /**
   * hex, 32 bytes: salt of this credential's passphrase-bound recovery share
   * (recovery-mask.ts), new at every split and kept when an unseal re-seals the share.
   * Absent without a passphrase, and for credentials split before shares were bound.
   */
  recoverySalt?: string;
  /**
   * Absolute path of the tool (ykman / ykchalresp) fixed at enrollment; the record is
   * covered by the vault's meta MAC. Absent for emulated keys and for credentials
   * enrolled before paths were recorded (those run /usr/bin/<tool>, never PATH).
   */
  tool?: string;
}

export interface YubiKeySealRecord extends SealRecord {
  provider: 'yubikey';
  version: 1;
  threshold: number;
  /** Driver chosen at init (each credential also names its own). */
  driver: DriverName;
  /** Emulated keys accepted although the vault holds mainnet wallets (set at init, audited). */
  allowEmulated: boolean;
  /** Threshold 1 accepted for a mainnet vault (set at init, audited). */
  allowSingleOperator: boolean;
  /**
   * HMAC-SHA256(key = encoded vault secret, "hardkms gate check v1|" + vaultId), hex.
   * Lets unseal and recover say "these shares do not rebuild this vault's secret"
   * instead of handing garbage to the vault. The secret is 256-bit random, so this
   * reveals nothing guessable.
   */
  check: string;
  credentials: GateCredential[];
}

/** Public view for `hardkms status`. */
export interface GateStatus {
  threshold: number;
  driver: DriverName;
  allowEmulated: boolean;
  allowSingleOperator: boolean;
  credentials: Array<{
    id: string;
    label: string;
    serial: number;
    slot: 1 | 2;
    driver: DriverName;
    passphrase: boolean;
    tool?: string;
  }>;
}

const HEX = /^[0-9a-f]*$/;

/** Validates a record read from wallet.dat (untrusted until the vault checks the secret). */
export function parseYubiKeySealRecord(record: SealRecord): YubiKeySealRecord {
  const r = record as Partial<YubiKeySealRecord>;
  const bad = (what: string): never => {
    throw new HardkmsError('GATE_RECORD_INVALID', `The YubiKey gate record in wallet.dat is invalid: ${what}.`, {
      hint: 'Restore wallet.dat from a backup, or rebuild the gate from the recovery words with `hardkms recover`.',
    });
  };
  if (r.provider !== 'yubikey') bad(`it belongs to the "${String(r.provider)}" provider`);
  if (r.version !== 1) bad(`unsupported version ${String(r.version)}`);
  if (!isDriverName(r.driver)) bad('unknown driver');
  if (typeof r.allowEmulated !== 'boolean') bad('allowEmulated is missing');
  if (typeof r.allowSingleOperator !== 'boolean') bad('allowSingleOperator is missing');
  if (typeof r.check !== 'string' || !HEX.test(r.check) || r.check.length !== 64) bad('check is missing or malformed');
  if (!Array.isArray(r.credentials) || r.credentials.length === 0) bad('no credentials');
  const creds = r.credentials!;
  if (!Number.isInteger(r.threshold) || r.threshold! < 1 || r.threshold! > creds.length)
    bad(`threshold ${String(r.threshold)} does not fit ${creds.length} credentials`);
  const ids = new Set<string>();
  const serials = new Set<number>();
  for (const c of creds) {
    if (typeof c !== 'object' || c === null) bad('a credential is not an object');
    if (typeof c.id !== 'string' || c.id === '' || ids.has(c.id)) bad('a credential id is missing or repeated');
    if (typeof c.label !== 'string') bad(`credential ${c.id} has no label`);
    if (!Number.isSafeInteger(c.serial) || c.serial < 0 || serials.has(c.serial))
      bad(`credential ${c.id} has a missing or repeated serial`);
    if (c.slot !== 1 && c.slot !== 2) bad(`credential ${c.id} has slot ${String(c.slot)}`);
    if (!isDriverName(c.driver)) bad(`credential ${c.id} names an unknown driver`);
    if (typeof c.passphrase !== 'boolean') bad(`credential ${c.id} lacks the passphrase flag`);
    if (
      c.recoverySalt !== undefined &&
      (!c.passphrase || typeof c.recoverySalt !== 'string' || c.recoverySalt.length !== 64 || !HEX.test(c.recoverySalt))
    )
      bad(`credential ${c.id} has a malformed recovery salt`);
    if (c.tool !== undefined && (typeof c.tool !== 'string' || !c.tool.startsWith('/') || c.driver === 'emulator'))
      bad(`credential ${c.id} has a malformed tool path`);
    for (const [k, len] of [
      ['challenge', 64],
      ['salt', 64],
      ['iv', 24],
    ] as const) {
      const v = c[k];
      if (typeof v !== 'string' || v.length !== len || !HEX.test(v)) bad(`credential ${c.id} has a malformed ${k}`);
    }
    if (typeof c.ct !== 'string' || c.ct.length < 36 || c.ct.length % 2 !== 0 || !HEX.test(c.ct))
      bad(`credential ${c.id} has a malformed sealed share`);
    ids.add(c.id);
    serials.add(c.serial);
  }
  return r as YubiKeySealRecord;
}

export function gateStatus(record: SealRecord): GateStatus {
  const r = parseYubiKeySealRecord(record);
  return {
    threshold: r.threshold,
    driver: r.driver,
    allowEmulated: r.allowEmulated,
    allowSingleOperator: r.allowSingleOperator,
    credentials: r.credentials.map(({ id, label, serial, slot, driver, passphrase, tool }) => ({
      id,
      label,
      serial,
      slot,
      driver,
      passphrase,
      ...(tool ? { tool } : {}),
    })),
  };
}

/** Finds a credential by id, label or serial (as typed on the command line). */
export function findCredential(record: YubiKeySealRecord, ref: string): GateCredential {
  const hit =
    record.credentials.find((c) => c.id === ref) ??
    record.credentials.find((c) => c.label === ref) ??
    record.credentials.find((c) => String(c.serial) === ref);
  if (!hit) {
    throw new HardkmsError('GATE_UNKNOWN_CREDENTIAL', `No enrolled YubiKey matches "${ref}".`, {
      hint: `Enrolled: ${record.credentials.map((c) => `${c.id} (${c.label}, serial ${c.serial})`).join(', ')}.`,
    });
  }
  return hit;
}
