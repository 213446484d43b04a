import { createDecipheriv } from 'node:crypto';
import { HardkmsError, InputError } from '../errors.js';

/**
 * Yubico OTP verification, done locally. An OTP is modhex text: a public id (0 to 16
 * characters, 12 on a stock YubiKey) then 32 characters = one AES-128-ECB block:
 *
 *   private id (6) ‖ use counter (2, LE) ‖ timestamp (3, LE) ‖ session counter (1)
 *   ‖ random (2, LE) ‖ CRC-16 (2, LE, ones' complement)
 *
 * The CRC-16 (ISO 13239: init 0xffff, reflected polynomial 0x8408) over all 16 bytes,
 * its own field included, leaves the residual 0xf0b8. Bit 15 of the use counter marks
 * an OTP triggered by Caps Lock and is not part of the counter.
 *
 * The AES key never needs to be on the host: `decrypt` is injected so the HSM token
 * can do the AES-ECB decrypt with a non-extractable key.
 */
export const MODHEX_ALPHABET = 'cbdefghijklnrtuv';
const OTP_TOKEN_CHARS = 32;
const CRC_RESIDUAL = 0xf0b8;

type OtpDecrypt = (block16: Buffer) => Buffer | Promise<Buffer>;

interface OtpFields {
  privateId: Buffer; // 6 bytes
  useCounter: number; // 0..0x7fff
  timestamp: number; // 24-bit, 8 Hz ticks since power-up
  sessionCounter: number; // 0..255
  random: number; // 16-bit
  capsLock?: boolean;
}

interface OtpCounters {
  useCounter: number;
  sessionCounter: number;
}

interface ParsedOtp {
  publicId: string;
  token: Buffer; // the 16 encrypted bytes
}

export function modhexEncode(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += MODHEX_ALPHABET[b >> 4]! + MODHEX_ALPHABET[b & 0x0f]!;
  return s;
}

export function modhexDecode(text: string): Buffer {
  const s = text.toLowerCase();
  if (s.length % 2 !== 0) throw formatError('has an odd number of characters');
  const out = Buffer.alloc(s.length / 2);
  for (let i = 0; i < out.length; i++) {
    const hi = MODHEX_ALPHABET.indexOf(s[2 * i]!);
    const lo = MODHEX_ALPHABET.indexOf(s[2 * i + 1]!);
    if (hi < 0 || lo < 0)
      throw formatError(
        `contains "${hi < 0 ? s[2 * i] : s[2 * i + 1]}", which is not a modhex character (${MODHEX_ALPHABET})`,
      );
    out[i] = (hi << 4) | lo;
  }
  return out;
}

/** CRC-16/ISO-13239 without the final complement (what the YubiKey checks against 0xf0b8). */
export function crc16(data: Uint8Array): number {
  let crc = 0xffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x8408 : crc >>> 1;
  }
  return crc;
}

export function parseOtp(otp: string): ParsedOtp {
  const s = otp.trim().toLowerCase();
  if (s.length < OTP_TOKEN_CHARS || s.length > OTP_TOKEN_CHARS + 16 || s.length % 2 !== 0) {
    throw formatError(`is ${s.length} characters long; a YubiKey OTP is 44 (12 public id + 32)`);
  }
  const publicId = s.slice(0, s.length - OTP_TOKEN_CHARS);
  modhexDecode(publicId); // validates the alphabet
  return { publicId, token: modhexDecode(s.slice(s.length - OTP_TOKEN_CHARS)) };
}

/** Reads the fields of a decrypted block; `crcOk` says whether the CRC residual matched. */
export function decodeOtpBlock(plain: Buffer): OtpFields & { crcOk: boolean } {
  if (plain.length !== 16) throw formatError('decrypts to a block that is not 16 bytes');
  const rawUse = plain.readUInt16LE(6);
  return {
    privateId: Buffer.from(plain.subarray(0, 6)),
    useCounter: rawUse & 0x7fff,
    capsLock: (rawUse & 0x8000) !== 0,
    timestamp: plain[8]! | (plain[9]! << 8) | (plain[10]! << 16),
    sessionCounter: plain[11]!,
    random: plain.readUInt16LE(12),
    crcOk: crc16(plain) === CRC_RESIDUAL,
  };
}

export function encodeOtpBlock(f: OtpFields): Buffer {
  if (f.privateId.length !== 6) throw new InputError('A Yubico OTP private id is 6 bytes.');
  const b = Buffer.alloc(16);
  f.privateId.copy(b, 0);
  b.writeUInt16LE((f.useCounter & 0x7fff) | (f.capsLock ? 0x8000 : 0), 6);
  b[8] = f.timestamp & 0xff;
  b[9] = (f.timestamp >> 8) & 0xff;
  b[10] = (f.timestamp >> 16) & 0xff;
  b[11] = f.sessionCounter & 0xff;
  b.writeUInt16LE(f.random & 0xffff, 12);
  b.writeUInt16LE(~crc16(b.subarray(0, 14)) & 0xffff, 14);
  return b;
}

interface VerifyOtpOptions {
  /** Expected public id (modhex), the YubiKey's identity. */
  publicId: string;
  /** Expected private id (6 bytes). */
  privateId: Buffer;
  decrypt: OtpDecrypt;
  /** Counters of the last accepted OTP from this key; omit for the first use. */
  last?: OtpCounters | undefined;
}

interface VerifiedOtp extends OtpCounters {
  timestamp: number;
}

/**
 * Checks one OTP; returns the counters to persist (the caller stores them before
 * acting on the OTP, or a crash could allow a replay).
 */
export async function verifyOtp(otp: string, opts: VerifyOtpOptions): Promise<VerifiedOtp> {
  const parsed = parseOtp(otp);
  if (parsed.publicId !== opts.publicId.toLowerCase()) {
    throw new HardkmsError(
      'OTP_WRONG_KEY',
      `The OTP comes from the YubiKey "${parsed.publicId || '(no public id)'}", not the enrolled one "${opts.publicId}".`,
      {
        hint: 'Touch the YubiKey whose OTP was enrolled.',
      },
    );
  }
  const plain = await opts.decrypt(parsed.token);
  try {
    const f = decodeOtpBlock(plain);
    try {
      if (!f.crcOk) {
        throw new HardkmsError(
          'OTP_CRC',
          'The OTP does not decrypt to a valid block: it was altered or mistyped, or made with another AES key.',
          {
            hint: 'Touch the enrolled YubiKey again to type a fresh OTP.',
          },
        );
      }
      if (!f.privateId.equals(opts.privateId)) {
        throw new HardkmsError('OTP_WRONG_KEY', 'The OTP decrypts, but its private id is not the enrolled one.', {
          hint: 'The YubiKey was re-programmed or its public id copied; re-enroll its OTP credential.',
        });
      }
      if (opts.last && !counterAfter(f, opts.last)) {
        throw new HardkmsError(
          'OTP_REPLAYED',
          `The OTP was already used, or is older than the last one accepted (counter ${f.useCounter}/${f.sessionCounter}, last ${opts.last.useCounter}/${opts.last.sessionCounter}).`,
          { hint: 'Touch the YubiKey to type a fresh OTP.' },
        );
      }
      return { useCounter: f.useCounter, sessionCounter: f.sessionCounter, timestamp: f.timestamp };
    } finally {
      f.privateId.fill(0);
    }
  } finally {
    plain.fill(0);
  }
}

function counterAfter(f: OtpCounters, last: OtpCounters): boolean {
  return f.useCounter > last.useCounter || (f.useCounter === last.useCounter && f.sessionCounter > last.sessionCounter);
}

/** Host-side AES-128-ECB decrypt, for tests and the emulator; production injects the token's. */
export function softwareOtpDecrypt(aesKey: Buffer): OtpDecrypt {
  return (block16) => {
    const d = createDecipheriv('aes-128-ecb', aesKey, null);
    d.setAutoPadding(false);
    return Buffer.concat([d.update(block16), d.final()]);
  };
}

function formatError(what: string): HardkmsError {
  return new HardkmsError('OTP_FORMAT', `The OTP ${what}.`, {
    hint: 'Touch the YubiKey with the cursor in an empty field; a keyboard layout other than US can garble modhex.',
  });
}
