import { randomBytes } from 'node:crypto';
import { HardkmsError } from '../errors.js';
import type { CredentialRef } from './drivers/driver.js';

/**
 * Challenges are 32 random bytes whose last byte is not 0x00.
 *
 * Why the last byte matters: a slot programmed for variable-length HMAC (ykman's
 * default, ykpersonalize's `-ohmac-lt64`) receives a 64-byte buffer and drops the
 * trailing bytes that equal the buffer's last byte. ykchalresp pads with 0x00 and
 * ykman pads with 0x00 (0x01 if the challenge ends in 0x00), so a challenge ending in
 * 0x00 would be shortened by ykchalresp and the two tools would disagree. With a
 * non-zero last byte both tools make the key compute exactly HMAC-SHA1(secret,
 * challenge), which is what the emulator computes. 64-byte challenges are refused for
 * the same reason (the key would strip their tail).
 */
const CHALLENGE_BYTES = 32;
const MAX_CHALLENGE_BYTES = 63;

export function newChallenge(): Buffer {
  for (;;) {
    const c = randomBytes(CHALLENGE_BYTES);
    if (c[c.length - 1] !== 0) return c;
  }
}

export function assertChallenge(challenge: Buffer): void {
  if (challenge.length < 1 || challenge.length > MAX_CHALLENGE_BYTES || challenge[challenge.length - 1] === 0) {
    throw new HardkmsError(
      'GATE_BAD_CHALLENGE',
      `A YubiKey challenge must be 1 to ${MAX_CHALLENGE_BYTES} bytes and must not end in 0x00 (got ${challenge.length} bytes).`,
      { hint: 'This is a bug in the caller: use newChallenge() to make challenges.' },
    );
  }
}

export function touchMessage(credential: CredentialRef): string {
  return `Touch the YubiKey ${credential.label} (serial ${credential.serial})…`;
}

export function assertSlot(slot: unknown): asserts slot is 1 | 2 {
  if (slot !== 1 && slot !== 2) {
    throw new HardkmsError('GATE_BAD_SLOT', `A YubiKey OTP slot is 1 or 2 (got ${String(slot)}).`, {
      hint: 'Use slot 2 (the default), which holds the HMAC-SHA1 challenge-response credential.',
    });
  }
}
