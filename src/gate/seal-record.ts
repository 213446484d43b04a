import { HardkmsError } from '../errors.js';
import { expecting, looseJsonObject, parseOrThrow, v } from '../validate.js';
import type { SealRecord } from '../vault/secret.js';
import { isDriverName, type DriverName } from './drivers/driver.js';

/** What names an enrolled YubiKey, without its sealed share: `hardkms status`, audit details, re-enrollment. */
export interface CredentialIdentity {
  id: string;
  label: string;
  serial: number;
  slot: 1 | 2;
  driver: DriverName;
  passphrase: boolean;
  tool?: string | undefined;
}

/** A credential's (or enrollment target's) identity as status and audit records show it: `tool` only when one is recorded. */
export function credentialIdentity(c: CredentialIdentity): CredentialIdentity {
  return {
    id: c.id,
    label: c.label,
    serial: c.serial,
    slot: c.slot,
    driver: c.driver,
    passphrase: c.passphrase,
    ...(c.tool ? { tool: c.tool } : {}),
  };
}

/** One enrolled YubiKey as stored in wallet.dat (all public data; hex strings). */
export interface GateCredential extends CredentialIdentity {
  challenge: string; // hex, 32 bytes
  salt: string; // hex, 32 bytes
  iv: string; // hex, 12 bytes
  ct: string; // hex, sealed share ‖ GCM tag
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
interface GateStatus {
  threshold: number;
  driver: DriverName;
  allowEmulated: boolean;
  allowSingleOperator: boolean;
  credentials: CredentialIdentity[];
}

function hex(chars: (n: number) => boolean, what: string) {
  const m = expecting(what);
  return v.pipe(
    v.string(m),
    v.check((x) => chars(x.length) && /^[0-9a-f]*$/.test(x), m),
  );
}
const driver = v.custom<DriverName>(isDriverName, expecting('a driver name (ykman, ykchalresp or emulator)'));

const credential: v.GenericSchema<unknown, GateCredential> = v.pipe(
  looseJsonObject({
    id: v.pipe(v.string(expecting('a credential id')), v.minLength(1, expecting('a credential id'))),
    label: v.string(expecting('a label')),
    serial: v.pipe(
      v.number(expecting('a serial number')),
      v.check((n) => Number.isSafeInteger(n) && n >= 0, expecting('a serial number')),
    ),
    slot: v.picklist([1, 2], expecting('slot 1 or 2')),
    driver,
    challenge: hex((n) => n === 64, '32 bytes of hex'),
    salt: hex((n) => n === 64, '32 bytes of hex'),
    iv: hex((n) => n === 24, '12 bytes of hex'),
    ct: hex((n) => n >= 36 && n % 2 === 0, 'a sealed share in hex (its tag included)'),
    passphrase: v.boolean(expecting('true or false')),
    recoverySalt: v.optional(hex((n) => n === 64, '32 bytes of hex')),
    tool: v.optional(v.pipe(v.string(expecting('an absolute path')), v.startsWith('/', expecting('an absolute path')))),
  }),
  v.forward(
    v.check((c) => c.recoverySalt === undefined || c.passphrase, 'only a credential with a passphrase has one'),
    ['recoverySalt'],
  ),
  v.forward(
    v.check((c) => c.tool === undefined || c.driver !== 'emulator', 'an emulated key runs no tool'),
    ['tool'],
  ),
);

/** The record as read from wallet.dat (untrusted until the vault checks the secret); fields it does not list (otp) are kept. */
const yubiKeySealRecord: v.GenericSchema<unknown, YubiKeySealRecord> = v.pipe(
  looseJsonObject({
    provider: v.literal('yubikey'),
    version: v.literal(1, expecting('version 1')),
    driver,
    allowEmulated: v.boolean(expecting('true or false')),
    allowSingleOperator: v.boolean(expecting('true or false')),
    check: hex((n) => n === 64, '32 bytes of hex'),
    credentials: v.pipe(
      v.array(credential, expecting('a list of credentials')),
      v.minLength(1, 'no credentials'),
      v.check((cs) => new Set(cs.map((c) => c.id)).size === cs.length, 'a credential id is repeated'),
      v.check((cs) => new Set(cs.map((c) => c.serial)).size === cs.length, 'a serial is repeated'),
    ),
    threshold: v.pipe(v.number(expecting('an integer')), v.integer(expecting('an integer'))),
  }),
  v.forward(
    v.check((r) => r.threshold >= 1 && r.threshold <= r.credentials.length, 'does not fit the number of credentials'),
    ['threshold'],
  ),
);

/** Validates a record read from wallet.dat (untrusted until the vault checks the secret). */
export function parseYubiKeySealRecord(record: SealRecord): YubiKeySealRecord {
  const invalid = (what: string): HardkmsError =>
    new HardkmsError('GATE_RECORD_INVALID', `The YubiKey gate record in wallet.dat is invalid: ${what}.`, {
      hint: 'Restore wallet.dat from a backup, or rebuild the gate from the recovery words with `hardkms recover`.',
    });
  // The other provider's name (a fixed word, not free text) says what the vault is sealed with.
  if (record.provider === 'password') throw invalid('it belongs to the "password" provider');
  return parseOrThrow(yubiKeySealRecord, record, invalid);
}

export function gateStatus(record: SealRecord): GateStatus {
  const r = parseYubiKeySealRecord(record);
  return {
    threshold: r.threshold,
    driver: r.driver,
    allowEmulated: r.allowEmulated,
    allowSingleOperator: r.allowSingleOperator,
    credentials: r.credentials.map(credentialIdentity),
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
