import { createCipheriv, createDecipheriv, hkdfSync, randomBytes, scrypt } from 'node:crypto';
import { HardkmsError, InputError } from '../errors.js';

/**
 * One share sealed under one YubiKey's response.
 *
 *   stretch = scrypt(passphrase, salt, N=2^15, r=8, p=1, 32 bytes)        only if a passphrase is set
 *   ikm     = response (20 bytes) ‖ stretch
 *   key     = HKDF-SHA256(ikm, salt, "hardkms gate share v1|<vaultId>|<credentialId>", 32)
 *   ct      = AES-256-GCM(key, iv (12 random bytes), share, aad = the same info string) ‖ tag (16)
 *
 * Why scrypt for the passphrase: HKDF is fast, so if a response ever leaked (a key
 * borrowed for a minute answers the stored challenge) the passphrase would be
 * guessable at HKDF speed. scrypt makes each guess cost ~32 MiB and tens of ms. The
 * response itself is a 160-bit HMAC output and needs no stretching. The per-credential
 * random salt makes the stretch unique per credential and per (re)enrolment.
 *
 * Binding vaultId and credentialId into both the key and the AAD stops a sealed share
 * from being moved to another credential or another vault.
 */
interface EncryptedShare {
  iv: Buffer; // 12 bytes
  ct: Buffer; // ciphertext ‖ 16-byte tag
}

interface ShareBinding {
  salt32: Buffer;
  credentialId: string;
  vaultId: string;
  /** Optional operator passphrase (UTF-8 bytes); the caller wipes it. */
  passphrase?: Buffer | undefined;
}

interface OpenShareBinding extends ShareBinding {
  /** For the error message only. */
  label: string;
}

export const SALT_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const PASSPHRASE_SCRYPT = { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;

export async function encryptShare(
  share: Uint8Array,
  response20: Buffer,
  binding: ShareBinding,
): Promise<EncryptedShare> {
  const key = await deriveShareKey(response20, binding);
  try {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(shareInfo(binding));
    const ct = Buffer.concat([cipher.update(share), cipher.final(), cipher.getAuthTag()]);
    return { iv, ct };
  } finally {
    key.fill(0);
  }
}

/** Inverse of encryptShare; the caller wipes the returned share. */
export async function decryptShare(
  sealed: EncryptedShare,
  response20: Buffer,
  binding: OpenShareBinding,
): Promise<Buffer> {
  if (sealed.iv.length !== IV_BYTES || sealed.ct.length <= TAG_BYTES) {
    throw new HardkmsError('GATE_RECORD_INVALID', `The sealed share of the YubiKey ${binding.label} is malformed.`, {
      hint: 'The gate record in wallet.dat is damaged; unseal with the other YubiKeys, or recover from the recovery words.',
    });
  }
  const key = await deriveShareKey(response20, binding);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.iv);
    decipher.setAAD(shareInfo(binding));
    decipher.setAuthTag(sealed.ct.subarray(sealed.ct.length - TAG_BYTES));
    const head = decipher.update(sealed.ct.subarray(0, sealed.ct.length - TAG_BYTES));
    let tail: Buffer;
    try {
      tail = decipher.final();
    } catch {
      head.fill(0);
      throw wrongResponse(binding.label, binding.passphrase !== undefined);
    }
    const out = Buffer.concat([head, tail]);
    head.fill(0);
    return out;
  } finally {
    key.fill(0);
  }
}

function wrongResponse(label: string, withPassphrase: boolean): HardkmsError {
  return new HardkmsError(
    'GATE_WRONG_RESPONSE',
    `The YubiKey ${label} did not give the enrolled response: wrong key, or re-programmed slot${withPassphrase ? ', or a wrong passphrase' : ''}.`,
    {
      hint: 'Use the YubiKey enrolled under that label (`hardkms status` lists serials). A key whose slot was re-programmed must be revoked and enrolled again.',
    },
  );
}

async function deriveShareKey(response20: Buffer, binding: ShareBinding): Promise<Buffer> {
  if (binding.salt32.length !== SALT_BYTES) {
    throw new HardkmsError('GATE_RECORD_INVALID', 'A gate credential has a salt of the wrong length.');
  }
  if (response20.length !== 20) {
    throw new HardkmsError('GATE_DRIVER_FAILED', 'The YubiKey response is not 20 bytes.');
  }
  const stretch =
    binding.passphrase === undefined ? Buffer.alloc(0) : await stretchPassphrase(binding.passphrase, binding.salt32);
  const ikm = Buffer.concat([response20, stretch]);
  try {
    return Buffer.from(hkdfSync('sha256', ikm, binding.salt32, shareInfo(binding), KEY_BYTES));
  } finally {
    ikm.fill(0);
    stretch.fill(0);
  }
}

export function stretchPassphrase(passphrase: Buffer, salt: Buffer): Promise<Buffer> {
  if (passphrase.length === 0) {
    throw new InputError('The YubiKey passphrase is empty.', 'Type the passphrase set at enrolment.');
  }
  return new Promise((resolve, reject) => {
    scrypt(passphrase, salt, KEY_BYTES, PASSPHRASE_SCRYPT, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

function shareInfo(binding: { vaultId: string; credentialId: string }): Buffer {
  return Buffer.from(`hardkms gate share v1|${binding.vaultId}|${binding.credentialId}`, 'utf8');
}
