import { createCipheriv, createHash, createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { HardkmsError } from '../errors.js';
import { SALT_BYTES, stretchPassphrase } from './share-cipher.js';

/**
 * The recovery share of a credential enrolled with a passphrase, bound to that passphrase,
 * so that recovery is as strong as the gate: a sheet (or an operator's decrypted share
 * file) without its owner's passphrase rebuilds nothing.
 *
 *   stretch = scrypt(passphrase, recoverySalt, N=2^15, r=8, p=1, 32)   as for the sealed share
 *   encKey ‖ macKey = HKDF-SHA256(stretch, recoverySalt, "hardkms recovery share v2|<vaultId>|<credentialId>", 64)
 *   body    = tag4 ‖ AES-256-CTR(encKey, iv = 0, share) ‖ HMAC-SHA256(macKey, tag4 ‖ ct)[0..8]
 *   tag4    = SHA-256("hardkms recovery credential|" ‖ credentialId)[0..4]
 *
 * Why CTR with a zero IV: recoverySalt is random and new at every split, and a split gives
 * each credential exactly one share, so each key encrypts one message once; a random IV
 * would add 12 words to a sheet for nothing. Why an 8-byte MAC and not GCM's 16: it only
 * has to tell an operator that their passphrase (not a word) is wrong; a guesser gains
 * nothing from it that the gate's check value does not already give, and pays scrypt per
 * guess either way. tag4 names the credential without revealing anything secret, so
 * `recover` asks the right operator for their passphrase.
 */

const TAG_BYTES = 4;
const MAC_BYTES = 8;

interface MaskBinding {
  salt32: Buffer;
  vaultId: string;
  credentialId: string;
}

export function credentialTag(credentialId: string): Buffer {
  return createHash('sha256').update(`hardkms recovery credential|${credentialId}`).digest().subarray(0, TAG_BYTES);
}

/** The credential tag a masked body starts with. */
export function maskedTag(body: Uint8Array): Buffer {
  return Buffer.from(body.subarray(0, TAG_BYTES));
}

export async function maskShare(share: Uint8Array, passphrase: Buffer, binding: MaskBinding): Promise<Buffer> {
  const { encKey, macKey } = await keys(passphrase, binding);
  try {
    const tag = credentialTag(binding.credentialId);
    const cipher = createCipheriv('aes-256-ctr', encKey, Buffer.alloc(16));
    const ct = Buffer.concat([cipher.update(share), cipher.final()]);
    const mac = createHmac('sha256', macKey).update(tag).update(ct).digest().subarray(0, MAC_BYTES);
    const body = Buffer.concat([tag, ct, mac]);
    ct.fill(0);
    return body;
  } finally {
    encKey.fill(0);
    macKey.fill(0);
  }
}

/** Inverse of maskShare; the caller wipes the share. `label` names the operator in the error. */
export async function unmaskShare(
  body: Uint8Array,
  passphrase: Buffer,
  binding: MaskBinding & { label: string },
): Promise<Buffer> {
  if (body.length <= TAG_BYTES + MAC_BYTES || !timingSafeEqual(maskedTag(body), credentialTag(binding.credentialId))) {
    throw new HardkmsError(
      'GATE_RECOVERY_FAILED',
      `This recovery share does not belong to the operator ${binding.label}.`,
    );
  }
  const { encKey, macKey } = await keys(passphrase, binding);
  try {
    const ct = body.subarray(TAG_BYTES, body.length - MAC_BYTES);
    const mac = createHmac('sha256', macKey)
      .update(body.subarray(0, TAG_BYTES))
      .update(ct)
      .digest()
      .subarray(0, MAC_BYTES);
    if (!timingSafeEqual(mac, body.subarray(body.length - MAC_BYTES))) {
      throw new HardkmsError(
        'GATE_RECOVERY_PASSPHRASE',
        `The passphrase given for ${binding.label} does not open ${binding.label}'s recovery share.`,
        {
          hint: `${binding.label} types the passphrase set with their YubiKey (it is mixed into their share); other operators' passphrases do not open it.`,
        },
      );
    }
    const decipher = createCipheriv('aes-256-ctr', encKey, Buffer.alloc(16));
    return Buffer.concat([decipher.update(ct), decipher.final()]);
  } finally {
    encKey.fill(0);
    macKey.fill(0);
  }
}

async function keys(passphrase: Buffer, binding: MaskBinding): Promise<{ encKey: Buffer; macKey: Buffer }> {
  if (binding.salt32.length !== SALT_BYTES) {
    throw new HardkmsError('GATE_RECORD_INVALID', 'A gate credential has a recovery salt of the wrong length.');
  }
  const stretch = await stretchPassphrase(passphrase, binding.salt32);
  try {
    const okm = Buffer.from(
      hkdfSync(
        'sha256',
        stretch,
        binding.salt32,
        `hardkms recovery share v2|${binding.vaultId}|${binding.credentialId}`,
        64,
      ),
    );
    const out = { encKey: Buffer.from(okm.subarray(0, 32)), macKey: Buffer.from(okm.subarray(32)) };
    okm.fill(0);
    return out;
  } finally {
    stretch.fill(0);
  }
}
