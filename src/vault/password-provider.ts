import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import { HardkmsError } from '../errors.js';
import { check, expecting, looseJsonObject, parseOrThrow, v } from '../validate.js';
import {
  decodeVaultSecret,
  encodeVaultSecret,
  type SealContext,
  type SealRecord,
  type VaultSecret,
  type VaultSecretProvider,
} from './secret.js';

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
const DEFAULT_SCRYPT: ScryptParams = { N: 2 ** 17, r: 8, p: 1 };

/** Shorter passwords are refused when a seal is made (init, rotate). */
const MIN_PASSWORD_CHARS = 12;

/**
 * Limits checked BEFORE scrypt runs on parameters read from wallet.dat: they are not
 * authenticated yet at that point (the MAC key comes out of the seal), so someone with
 * write access could otherwise make an unseal allocate gigabytes or run for hours.
 */
const LIMITS = { minLogN: 10, maxLogN: 20, maxR: 32, maxP: 16, maxMemBytes: 512 * 1024 * 1024 };

interface PasswordSealRecord extends SealRecord {
  provider: 'password';
  /** 2: the KDF parameters and salt are bound into the AES-GCM AAD. 1: older seals (only the vault id). */
  version: 1 | 2;
  kdf: { name: 'scrypt'; salt: string } & ScryptParams;
  iv: string;
  ciphertext: string;
}

type PasswordSource = () => Promise<Buffer>;

function hex(what: string, valid: (chars: number) => boolean) {
  return v.pipe(
    v.string(expecting(what)),
    v.check((s) => valid(s.length) && /^[0-9a-f]*$/.test(s), expecting(what)),
  );
}

/** The record as read from wallet.dat: its shape here, the KDF's cost limits in checkParams. */
const passwordSealRecord: v.GenericSchema<unknown, PasswordSealRecord> = looseJsonObject({
  provider: v.literal('password'),
  version: v.picklist([1, 2], expecting('version 1 or 2')),
  kdf: looseJsonObject(
    {
      name: v.literal('scrypt', expecting('"scrypt"')),
      salt: hex('a hex salt', (n) => n > 0 && n % 2 === 0),
      N: v.number(expecting('a number')),
      r: v.number(expecting('a number')),
      p: v.number(expecting('a number')),
    },
    'an object {name, salt, N, r, p}',
  ),
  iv: hex('a 12-byte hex IV', (n) => n === 24),
  // An AES-GCM tag (16 bytes) at least.
  ciphertext: hex('hex ciphertext with its 16-byte tag', (n) => n >= 32 && n % 2 === 0),
});

/** What `status` shows of a password seal's KDF; undefined for another seal or one that does not read as a password seal. */
export function passwordSealKdf(seal: unknown): { name: 'scrypt'; N: number; r: number; p: number } | undefined {
  const read = check(passwordSealRecord, seal);
  if (!read.ok) return undefined;
  const { name, N, r, p } = read.value.kdf;
  return { name, N, r, p };
}

function checkParams(params: Partial<ScryptParams>): ScryptParams {
  const { N, r, p } = params;
  const ok =
    Number.isInteger(N) &&
    Number.isInteger(r) &&
    Number.isInteger(p) &&
    N! >= 2 ** LIMITS.minLogN &&
    N! <= 2 ** LIMITS.maxLogN &&
    (N! & (N! - 1)) === 0 &&
    r! >= 1 &&
    r! <= LIMITS.maxR &&
    p! >= 1 &&
    p! <= LIMITS.maxP &&
    128 * N! * r! <= LIMITS.maxMemBytes;
  if (!ok) {
    throw new HardkmsError(
      'SEAL_KDF_INVALID',
      'The password KDF parameters in wallet.dat are outside the accepted range; nothing was derived.',
      {
        hint: 'Someone edited the seal in wallet.dat: restore it from a backup.',
      },
    );
  }
  return { N: N!, r: r!, p: p! };
}

/** The AES-GCM AAD: the vault id and, from version 2 on, every KDF parameter and the salt. */
function sealAad(vaultId: string, version: 1 | 2, kdf: { salt: string } & ScryptParams): Buffer {
  if (version === 1) return Buffer.from(`hardkms password seal v1|${vaultId}`);
  return Buffer.from(`hardkms password seal v2|${vaultId}|scrypt|N=${kdf.N}|r=${kdf.r}|p=${kdf.p}|salt=${kdf.salt}`);
}

function refuseShortPassword(password: Buffer): void {
  const chars = [...password.toString('utf8')].length;
  if (chars >= MIN_PASSWORD_CHARS) return;
  password.fill(0);
  throw new HardkmsError(
    'PASSWORD_TOO_SHORT',
    `The password has ${chars} character(s); at least ${MIN_PASSWORD_CHARS} are required. Nothing was changed.`,
    {
      hint: `Choose a password (or TATUM_KMS_PASSWORD) of ${MIN_PASSWORD_CHARS} or more characters; a passphrase of several words is easiest.`,
    },
  );
}

function deriveKey(password: Buffer, salt: Buffer, params: ScryptParams): Buffer {
  return scryptSync(password, salt, 32, {
    N: params.N,
    r: params.r,
    p: params.p,
    maxmem: 256 * params.N * params.r + 1024 * 1024,
  });
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
    refuseShortPassword(password);
    const params = checkParams(this.params);
    const salt = randomBytes(32);
    const iv = randomBytes(12);
    const key = deriveKey(password, salt, params);
    const plain = encodeVaultSecret(secret);
    try {
      const kdf = { name: 'scrypt' as const, salt: salt.toString('hex'), ...params };
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(sealAad(ctx.vaultId, 2, kdf));
      const ct = Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      ctx.audit('seal.create', 'ok', { provider: 'password' });
      return {
        provider: 'password',
        version: 2,
        kdf,
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
    if (record.provider !== 'password') {
      throw new HardkmsError(
        'SEAL_PROVIDER_MISMATCH',
        `This vault is sealed by the '${record.provider}' provider, not by a password.`,
        {
          hint:
            record.provider === 'yubikey'
              ? 'Unseal with the enrolled YubiKeys (drop --password).'
              : 'Use the provider the vault was created with.',
        },
      );
    }
    const r = parseOrThrow(
      passwordSealRecord,
      record,
      (what) =>
        new HardkmsError(
          'SEAL_RECORD_INVALID',
          `The password seal in wallet.dat is malformed: ${what}; nothing was derived.`,
          {
            hint: 'Someone edited the seal in wallet.dat: restore it from a backup.',
          },
        ),
    );
    const params = checkParams(r.kdf);
    const password = await this.source();
    const key = deriveKey(password, Buffer.from(r.kdf.salt, 'hex'), params);
    const blob = Buffer.from(r.ciphertext, 'hex');
    let plain: Buffer | undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(r.iv, 'hex'));
      decipher.setAAD(sealAad(ctx.vaultId, r.version, { salt: r.kdf.salt, ...params }));
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
