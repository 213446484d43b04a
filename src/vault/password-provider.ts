import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import { HardkmsError } from '../errors.js';
import { decodeVaultSecret, encodeVaultSecret, type SealContext, type SealRecord, type VaultSecret, type VaultSecretProvider } from './secret.js';

/** scrypt parameters stored with the seal, so they can be raised later without breaking old vaults. */
export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/**
 * 2^17 × 8 × 1 costs 128 MiB and roughly a third of a second per try: strong against
 * offline guessing (Tatum's wallet.dat uses one MD5), still fine for an operator unlock.
 */
export const DEFAULT_SCRYPT: ScryptParams = { N: 2 ** 17, r: 8, p: 1 };

export interface PasswordSealRecord extends SealRecord {
  provider: 'password';
  version: 1;
  kdf: { name: 'scrypt'; salt: string } & ScryptParams;
  iv: string;
  ciphertext: string;
}

export type PasswordSource = () => Promise<Buffer>;

function deriveKey(password: Buffer, salt: Buffer, params: ScryptParams): Buffer {
  return scryptSync(password, salt, 32, { N: params.N, r: params.r, p: params.p, maxmem: 256 * params.N * params.r + 1024 * 1024 });
}

/**
 * The password provider: the vault secret encrypted with AES-256-GCM under scrypt(password).
 * It is what Tatum KMS offers (TATUM_KMS_PASSWORD), made resistant to offline guessing and
 * authenticated. The YubiKey gate replaces it for production; this one remains for testnet.
 */
export class PasswordProvider implements VaultSecretProvider {
  readonly name = 'password';
  private readonly source: PasswordSource;
  private readonly params: ScryptParams;

  constructor(source: PasswordSource, params: ScryptParams = DEFAULT_SCRYPT) {
    this.source = source;
    this.params = params;
  }

  async seal(secret: VaultSecret, ctx: SealContext): Promise<PasswordSealRecord> {
    const password = await this.source();
    const salt = randomBytes(32);
    const iv = randomBytes(12);
    const key = deriveKey(password, salt, this.params);
    const plain = encodeVaultSecret(secret);
    try {
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(`hardkms password seal v1|${ctx.vaultId}`));
      const ct = Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      ctx.audit('seal.create', 'ok', { provider: 'password' });
      return {
        provider: 'password',
        version: 1,
        kdf: { name: 'scrypt', salt: salt.toString('hex'), ...this.params },
        iv: iv.toString('hex'),
        ciphertext: ct.toString('hex'),
      };
    } finally {
      key.fill(0);
      plain.fill(0);
      password.fill(0);
    }
  }

  async unseal(record: SealRecord, ctx: SealContext): Promise<VaultSecret> {
    const r = record as PasswordSealRecord;
    if (r.provider !== 'password' || r.version !== 1 || r.kdf?.name !== 'scrypt') {
      throw new HardkmsError('SEAL_PROVIDER_MISMATCH', `This vault is sealed by the '${record.provider}' provider, not by a password.`, {
        hint: record.provider === 'yubikey' ? 'Unseal with the enrolled YubiKeys (drop --password).' : 'Use the provider the vault was created with.',
      });
    }
    const password = await this.source();
    const key = deriveKey(password, Buffer.from(r.kdf.salt, 'hex'), r.kdf);
    const blob = Buffer.from(r.ciphertext, 'hex');
    let plain: Buffer | undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(r.iv, 'hex'));
      decipher.setAAD(Buffer.from(`hardkms password seal v1|${ctx.vaultId}`));
      decipher.setAuthTag(blob.subarray(blob.length - 16));
      try {
        plain = Buffer.concat([decipher.update(blob.subarray(0, blob.length - 16)), decipher.final()]);
      } catch {
        ctx.audit('unseal', 'fail', { provider: 'password', reason: 'wrong password' });
        throw new HardkmsError('WRONG_PASSWORD', 'Wrong password.', {
          hint: 'Check TATUM_KMS_PASSWORD (or what you typed at the prompt). Nothing was changed.',
        });
      }
      ctx.audit('unseal', 'ok', { provider: 'password' });
      return decodeVaultSecret(plain);
    } finally {
      key.fill(0);
      plain?.fill(0);
      password.fill(0);
    }
  }
}
