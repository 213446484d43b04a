import { describe, expect, it } from 'vitest';
import { parseHexResponse, parseSerialLines } from '../../../src/gate/responses.js';
import { classifyYkchalrespFailure, parseYkinfoNumber } from '../../../src/gate/drivers/ykchalresp.js';
import { classifyYkmanFailure } from '../../../src/gate/drivers/ykman.js';

const cred = { serial: 12345678, slot: 2 as const, label: 'alice' };
const PCSC = 'WARNING: PC/SC not available. Smart card protocols will not function.\n';

describe('response parsing', () => {
  it('reads the 40 hex digits ykman and ykchalresp print', () => {
    const hex = 'b6ee8c03a1a3ccd6a55c4e1bb4ff1a7f4e0b3c8d';
    expect(parseHexResponse(`${hex}\n`, 't').toString('hex')).toBe(hex);
    expect(parseHexResponse(Buffer.from(`${hex.toUpperCase()}\r\n`), 't').toString('hex')).toBe(hex);
    // ykman -v style noise on earlier lines is ignored; the value is the last line.
    expect(parseHexResponse(`Touch your YubiKey...\n${hex}\n`, 't').toString('hex')).toBe(hex);
  });
  it('refuses anything else', () => {
    expect(() => parseHexResponse('', 'ykman')).toThrow(/ykman did not print a 20-byte HMAC-SHA1 response/);
    expect(() => parseHexResponse('b6ee8c03\n', 'ykman')).toThrow(
      expect.objectContaining({ code: 'GATE_DRIVER_FAILED' }),
    );
    expect(() => parseHexResponse('zz'.repeat(20), 'ykman')).toThrow(
      expect.objectContaining({ code: 'GATE_DRIVER_FAILED' }),
    );
    expect(() => parseHexResponse('123456\n', 'ykchalresp')).toThrow(/20-byte/);
  });
  it('reads `ykman list --serials` output', () => {
    expect(parseSerialLines('', 'ykman')).toEqual([]);
    expect(parseSerialLines('12345678\n9876543\n', 'ykman')).toEqual([12345678, 9876543]);
    expect(() => parseSerialLines('YubiKey 5 NFC (5.4.3) [OTP+FIDO+CCID] Serial: 1\n', 'ykman')).toThrow(
      /unexpected line/,
    );
  });
  it('reads ykinfo values with and without -q', () => {
    expect(parseYkinfoNumber('12345678\n', 'serial')).toBe(12345678);
    expect(parseYkinfoNumber('serial: 12345678\n', 'serial')).toBe(12345678);
    expect(parseYkinfoNumber('slot2_status: 0\n', 'slot2_status')).toBe(0);
    expect(() => parseYkinfoNumber('version: 5.4.3\n', 'serial')).toThrow(/where serial was expected/);
  });
});

describe('ykman failure classification (ykman 4.0.9 texts)', () => {
  it('no key / that serial absent → GATE_NO_YUBIKEY', () => {
    expect(classifyYkmanFailure(`${PCSC}Error: No YubiKey detected!\n`, cred).code).toBe('GATE_NO_YUBIKEY');
    const e = classifyYkmanFailure(
      `${PCSC}Error: Failed connecting to a YubiKey with serial: 12345678.\nMake sure the application has the required permissions.\n`,
      cred,
    );
    expect(e.code).toBe('GATE_NO_YUBIKEY');
    expect(e.message).toBe('The YubiKey alice (serial 12345678) is not connected.');
  });
  it('empty slot → GATE_SLOT_NOT_PROGRAMMED', () => {
    const e = classifyYkmanFailure('Error: Cannot perform challenge-response on an empty slot.\n', cred);
    expect(e.code).toBe('GATE_SLOT_NOT_PROGRAMMED');
    expect(e.hint).toMatch(/ykman otp chalresp --touch --generate 2/);
  });
  it('touch prompt then write failure → GATE_TIMEOUT; without prompt → slot not programmed', () => {
    const fail =
      'Error: Failed to write to the YubiKey. Make sure the device does not have restricted access (see "ykman otp --help" for more info).\n';
    expect(classifyYkmanFailure(`Touch your YubiKey...\n${fail}`, cred).code).toBe('GATE_TIMEOUT');
    expect(classifyYkmanFailure(fail, cred).code).toBe('GATE_SLOT_NOT_PROGRAMMED');
  });
  it('anything else → GATE_DRIVER_FAILED quoting ykman', () => {
    const e = classifyYkmanFailure(`${PCSC}Error: something new\n`, cred);
    expect(e.code).toBe('GATE_DRIVER_FAILED');
    expect(e.message).toBe('ykman failed: Error: something new');
  });
});

describe('ykchalresp failure classification (libykpers 1.20 texts)', () => {
  it('maps the core errors', () => {
    expect(classifyYkchalrespFailure('Yubikey core error: no yubikey present\n', cred).code).toBe('GATE_NO_YUBIKEY');
    expect(classifyYkchalrespFailure('Yubikey core error: timeout\n', cred).code).toBe('GATE_TIMEOUT');
    expect(classifyYkchalrespFailure('USB error: Access denied (insufficient permissions)\n', cred)).toMatchObject({
      code: 'GATE_DRIVER_FAILED',
      hint: expect.stringMatching(/libyubikey-udev/),
    });
    expect(classifyYkchalrespFailure('Yubikey core error: write error\n', cred).message).toBe(
      'ykchalresp failed: Yubikey core error: write error',
    );
  });
});
