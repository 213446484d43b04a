/**
 * The YubiKey gate record is read from wallet.dat before the vault can authenticate it: a
 * damaged or edited one fails with GATE_RECORD_INVALID naming the field, never its value,
 * and the fields the gate does not read (the OTP policy) are kept.
 */
import { describe, expect, it } from 'vitest';
import { HardkmsError } from '../../../src/errors.js';
import { parseYubiKeySealRecord } from '../../../src/gate/seal-record.js';
import type { SealRecord } from '../../../src/vault/secret.js';

const cred = (id: string, serial: number): Record<string, unknown> => ({
  id,
  label: `key ${id}`,
  serial,
  slot: 2,
  driver: 'emulator',
  challenge: 'a'.repeat(64),
  salt: 'b'.repeat(64),
  iv: 'c'.repeat(24),
  ct: 'd'.repeat(96),
  passphrase: false,
});
const record = (): Record<string, unknown> => ({
  provider: 'yubikey',
  version: 1,
  threshold: 2,
  driver: 'emulator',
  allowEmulated: true,
  allowSingleOperator: false,
  check: 'e'.repeat(64),
  credentials: [cred('k1', 11), cred('k2', 12)],
  otp: { keys: ['cccccccb'], atUnseal: false },
});
const MARK = 'xenon-planted-00';

function errorOf(r: Record<string, unknown>): HardkmsError {
  try {
    parseYubiKeySealRecord(r as SealRecord);
  } catch (e) {
    if (e instanceof HardkmsError) return e;
    throw e;
  }
  throw new Error('expected GATE_RECORD_INVALID');
}

describe('YubiKey gate record', () => {
  it('accepts a well-formed record and keeps the fields it does not read', () => {
    expect(parseYubiKeySealRecord(record() as SealRecord)).toEqual(record());
  });

  const cases: [string, (r: Record<string, unknown>) => void, string][] = [
    ['another provider', (r) => (r.provider = MARK), 'provider: expected "yubikey"'],
    ['the password provider', (r) => (r.provider = 'password'), 'it belongs to the "password" provider'],
    ['threshold above the credentials', (r) => (r.threshold = 3), 'threshold: does not fit'],
    ['no credentials', (r) => (r.credentials = []), 'credentials: no credentials'],
    ['a repeated serial', (r) => (r.credentials = [cred('k1', 11), cred('k2', 11)]), 'a serial is repeated'],
    ['a malformed salt', (r) => ((r.credentials as Record<string, unknown>[])[1]!.salt = MARK), 'credentials[1].salt'],
    [
      'a tool on an emulated key',
      (r) => ((r.credentials as Record<string, unknown>[])[0]!.tool = `/usr/bin/${MARK}`),
      'credentials[0].tool',
    ],
    ['an unknown driver', (r) => (r.driver = MARK), 'driver: expected a driver name'],
    ['check not hex', (r) => (r.check = MARK.repeat(4)), 'check: expected 32 bytes of hex'],
  ];
  it.each(cases)('refuses %s, naming the field and not its value', (_name, edit, text) => {
    const r = record();
    edit(r);
    const e = errorOf(r);
    expect(e.code).toBe('GATE_RECORD_INVALID');
    expect(e.message).toContain(text);
    expect(e.message).not.toContain(MARK);
  });
});
