/** The YubiKey side of Yubico OTP, for tests and docs/first-steps.md: production only verifies. */
import { createCipheriv, randomInt } from 'node:crypto';
import { encodeOtpBlock, modhexDecode, modhexEncode } from './otp.js';

/** The OTP a YubiKey with this AES key and these fields would type. */
export function generateOtp(
  aesKey: Buffer,
  fields: {
    publicId: string;
    privateId: Buffer;
    useCounter: number;
    sessionCounter: number;
    timestamp?: number;
    random?: number;
  },
): string {
  modhexDecode(fields.publicId);
  const block = encodeOtpBlock({
    privateId: fields.privateId,
    useCounter: fields.useCounter,
    sessionCounter: fields.sessionCounter,
    timestamp: fields.timestamp ?? randomInt(0, 1 << 24),
    random: fields.random ?? randomInt(0, 1 << 16),
  });
  try {
    const cipher = createCipheriv('aes-128-ecb', aesKey, null);
    cipher.setAutoPadding(false);
    return fields.publicId.toLowerCase() + modhexEncode(Buffer.concat([cipher.update(block), cipher.final()]));
  } finally {
    block.fill(0);
  }
}
