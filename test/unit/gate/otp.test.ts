import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  crc16,
  decodeOtpBlock,
  encodeOtpBlock,
  modhexDecode,
  modhexEncode,
  parseOtp,
  softwareOtpDecrypt,
  verifyOtp,
} from '../../../src/gate/otp.js';
import { generateOtp } from '../../../src/gate/otp-testing.js';

// Published by Yubico in yubico-c's test-vectors.txt.
const VECTOR = {
  otp: 'dteffujehknhfjbrjnlnldnhcujvddbikngjrtgh',
  aesKey: Buffer.from('ecde18dbe76fbd0c33330f1c354871db', 'hex'),
  plain: '8792ebfe26cc130030c20011c89f23c8',
};

describe('modhex', () => {
  it('matches the Yubico test vectors', () => {
    expect(modhexDecode('dteffuje').toString('hex')).toBe('2d344e83');
    expect(modhexDecode('hknhfjbrjnlnldnhcujvddbikngjrtgh').toString('hex')).toBe('69b6481c8baba2b60e8f22179b58cd56');
    expect(modhexEncode(Buffer.from('ecde18dbe76fbd0c33330f1c354871db', 'hex'))).toBe(
      'urtubjtnuihvntcreeeecvbregfjibtn',
    );
    expect(modhexEncode(Buffer.from('test'))).toBe('ifhgieif');
  });
  it('round-trips and rejects foreign characters', () => {
    const b = randomBytes(17);
    expect(modhexDecode(modhexEncode(b)).equals(b)).toBe(true);
    expect(() => modhexDecode('cbx0')).toThrow(/not a modhex character/);
    expect(() => modhexDecode('cbd')).toThrow(/odd number/);
  });
});

describe('Yubico OTP', () => {
  it('decodes the published test vector', async () => {
    const { publicId, token } = parseOtp(VECTOR.otp);
    expect(publicId).toBe('dteffuje');
    const plain = await softwareOtpDecrypt(VECTOR.aesKey)(token);
    expect(plain.toString('hex')).toBe(VECTOR.plain);
    expect(crc16(plain)).toBe(0xf0b8);
    const f = decodeOtpBlock(plain);
    expect(f.privateId.toString('hex')).toBe('8792ebfe26cc');
    expect(f.useCounter).toBe(19);
    expect(f.timestamp).toBe(49712);
    expect(f.sessionCounter).toBe(17);
    expect(f.random).toBe(40904);
    expect(f.crcOk).toBe(true);
    // encodeOtpBlock rebuilds the same block, CRC included.
    expect(encodeOtpBlock(f).toString('hex')).toBe(VECTOR.plain);
  });

  it('verifies the test vector and returns its counters', async () => {
    const r = await verifyOtp(VECTOR.otp, {
      publicId: 'dteffuje',
      privateId: Buffer.from('8792ebfe26cc', 'hex'),
      decrypt: softwareOtpDecrypt(VECTOR.aesKey),
    });
    expect(r).toEqual({ useCounter: 19, sessionCounter: 17, timestamp: 49712 });
  });

  const key = randomBytes(16);
  const privateId = randomBytes(6);
  const publicId = 'vvccccdedfgh';
  const opts = { publicId, privateId, decrypt: softwareOtpDecrypt(key) };

  it('accepts generated OTPs in order and refuses replays', async () => {
    const a = generateOtp(key, { publicId, privateId, useCounter: 5, sessionCounter: 0 });
    expect(a).toHaveLength(44);
    const ca = await verifyOtp(a, opts);
    const b = generateOtp(key, { publicId, privateId, useCounter: 5, sessionCounter: 1 });
    const cb = await verifyOtp(b, { ...opts, last: ca });
    expect(cb).toMatchObject({ useCounter: 5, sessionCounter: 1 });
    await expect(verifyOtp(b, { ...opts, last: cb })).rejects.toMatchObject({ code: 'OTP_REPLAYED' });
    await expect(verifyOtp(a, { ...opts, last: cb })).rejects.toThrow(/already used, or is older/);
    const c = generateOtp(key, { publicId, privateId, useCounter: 6, sessionCounter: 0 });
    await expect(verifyOtp(c, { ...opts, last: cb })).resolves.toMatchObject({ useCounter: 6, sessionCounter: 0 });
  });

  it('refuses an altered OTP (CRC)', async () => {
    const otp = generateOtp(key, { publicId, privateId, useCounter: 1, sessionCounter: 1 });
    const i = 20;
    const altered = otp.slice(0, i) + (otp[i] === 'c' ? 'b' : 'c') + otp.slice(i + 1);
    await expect(verifyOtp(altered, opts)).rejects.toMatchObject({ code: 'OTP_CRC' });
  });

  it('refuses an OTP made with another AES key', async () => {
    const otp = generateOtp(randomBytes(16), { publicId, privateId, useCounter: 1, sessionCounter: 1 });
    await expect(verifyOtp(otp, opts)).rejects.toMatchObject({ code: 'OTP_CRC' });
  });

  it('refuses another public id or private id', async () => {
    const other = generateOtp(key, { publicId: 'vvccccdedfgj', privateId, useCounter: 1, sessionCounter: 1 });
    await expect(verifyOtp(other, opts)).rejects.toMatchObject({ code: 'OTP_WRONG_KEY' });
    const wrongPriv = generateOtp(key, { publicId, privateId: randomBytes(6), useCounter: 1, sessionCounter: 1 });
    await expect(verifyOtp(wrongPriv, opts)).rejects.toThrow(/private id is not the enrolled one/);
  });

  it('refuses malformed input', async () => {
    await expect(verifyOtp('abc', opts)).rejects.toMatchObject({ code: 'OTP_FORMAT' });
    await expect(verifyOtp('vvccccdedfgh' + 'x'.repeat(32), opts)).rejects.toMatchObject({ code: 'OTP_FORMAT' });
  });

  it('ignores the caps-lock bit in the use counter', () => {
    const f = { privateId, useCounter: 300, timestamp: 1, sessionCounter: 2, random: 3, capsLock: true };
    const d = decodeOtpBlock(encodeOtpBlock(f));
    expect(d.useCounter).toBe(300);
    expect(d.capsLock).toBe(true);
    expect(d.crcOk).toBe(true);
  });
});
