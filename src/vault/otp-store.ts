import { isDuplicateKey } from './sql.js';
import { HardkmsError } from '../errors.js';
import { expecting, jsonObject, parseOrThrow, v } from '../validate.js';
import { macMatches } from './row-mac.js';
import type { SealRecord } from './secret.js';
import type { MacTable, WalletStore } from './store.js';

/**
 * Yubico OTP credentials of a vault: one row per YubiKey in the `otp` table. The AES key
 * itself is in the token (non-extractable); the row holds its token object id, a keyed
 * hash of the private id, and the counters of the last accepted OTP.
 *
 * Every row carries a MAC under the row key (store.macOf), so counters cannot be edited
 * back to allow a replay, nor a row swapped to another key, by someone without the vault
 * secret. A row restored whole from an older copy still has a valid MAC, but no longer
 * matches the store's row sets (row-set.ts), which the unseal checks before any OTP.
 */
interface OtpCredential {
  publicId: string;
  /** CKA_ID (hex) of the AES-128 key in the token. */
  keyId: string;
  privateIdHash: string;
  label: string;
  /** -1 until the first OTP is accepted. */
  useCounter: number;
  sessionCounter: number;
  updated: string;
}

/**
 * Which OTP keys exist and when an OTP is required. It lives in the seal record because
 * that is the part of the meta table the vault authenticates (the meta MAC): deleting
 * rows or this policy from wallet.dat cannot silently drop the second factor.
 */
export interface OtpPolicy {
  keys: string[];
  /** Every unseal needs an OTP, not only the commands that print secrets. */
  atUnseal: boolean;
}

type Row = {
  public_id: string;
  key_id: string;
  private_id_hash: string;
  label: string;
  use_counter: number;
  session_counter: number;
  updated: string;
  mac: Buffer;
};

const otpPolicy: v.GenericSchema<unknown, OtpPolicy> = jsonObject(
  {
    keys: v.array(v.string(expecting('an OTP public id')), expecting('an array of OTP public ids')),
    atUnseal: v.boolean(expecting('true or false')),
  },
  'an object {keys, atUnseal}',
);

export function otpPolicyOf(seal: SealRecord): OtpPolicy | undefined {
  if (seal.otp === undefined) return undefined;
  return parseOrThrow(
    otpPolicy,
    seal.otp,
    (what) =>
      new HardkmsError('OTP_POLICY_INVALID', `The OTP policy in wallet.dat is malformed: ${what}.`, {
        hint: 'Restore wallet.dat from a backup.',
      }),
    'otp',
  );
}

/** The seal record with `policy` attached (or removed when it lists no key). */
export function withOtpPolicy<T extends SealRecord>(seal: T, policy: OtpPolicy | undefined): T {
  const { otp: _drop, ...rest } = seal as T & { otp?: unknown };
  void _drop;
  return (policy && policy.keys.length > 0 ? { ...rest, otp: policy } : rest) as T;
}

/** The otp table's row MAC, for re-keying (rekey.ts). */
export const OTP_MAC_TABLE: MacTable = {
  table: 'otp',
  tag: 'otp',
  key: ['public_id'],
  fields: (r) => [
    r.public_id as string,
    r.key_id as string,
    r.private_id_hash as string,
    r.label as string,
    r.use_counter as number,
    r.session_counter as number,
    r.updated as string,
  ],
};

export class OtpStore {
  constructor(private readonly store: WalletStore) {}

  private mac(r: Omit<Row, 'mac'>): Buffer {
    return this.store.macOf(OTP_MAC_TABLE.tag, OTP_MAC_TABLE.fields(r));
  }

  /** Keyed, so the 48-bit private id cannot be brute-forced from a copy of wallet.dat. */
  privateIdHash(publicId: string, privateId: Buffer): string {
    return this.store.privateIdMac([publicId, privateId]).toString('hex');
  }

  privateIdMatches(cred: OtpCredential, privateId: Buffer): boolean {
    return macMatches(
      Buffer.from(this.privateIdHash(cred.publicId, privateId), 'hex'),
      Buffer.from(cred.privateIdHash, 'hex'),
    );
  }

  add(args: { publicId: string; keyId: string; privateId: Buffer; label: string }): OtpCredential {
    const base = {
      public_id: args.publicId,
      key_id: args.keyId,
      private_id_hash: this.privateIdHash(args.publicId, args.privateId),
      label: args.label,
      use_counter: -1,
      session_counter: -1,
      updated: new Date().toISOString(),
    };
    try {
      this.store.transaction(() => {
        const mac = this.mac(base);
        this.store.database
          .prepare(
            'INSERT INTO otp (public_id, key_id, private_id_hash, label, use_counter, session_counter, updated, mac) VALUES (@public_id, @key_id, @private_id_hash, @label, @use_counter, @session_counter, @updated, @mac)',
          )
          .run({ ...base, mac });
        this.store.bindRows('otp', [mac], []);
      });
    } catch (e) {
      if (isDuplicateKey(e)) {
        throw new HardkmsError('OTP_EXISTS', `An OTP key with public id ${args.publicId} is already enrolled.`, {
          hint: 'Remove it first with `hardkms otp remove`.',
        });
      }
      throw e;
    }
    return toCredential(base);
  }

  get(publicId: string): OtpCredential | undefined {
    const row = this.store.database.prepare('SELECT * FROM otp WHERE public_id = ?').get(publicId) as Row | undefined;
    return row ? this.verified(row) : undefined;
  }

  remove(publicId: string): boolean {
    return this.store.transaction(() => {
      const row = this.store.database.prepare('SELECT mac FROM otp WHERE public_id = ?').get(publicId) as
        { mac: unknown } | undefined;
      if (row === undefined) return false;
      this.store.database.prepare('DELETE FROM otp WHERE public_id = ?').run(publicId);
      this.store.bindRows('otp', [], [row.mac]);
      return true;
    });
  }

  /**
   * Stores the counters of an accepted OTP. Compare-and-set inside the writer lock: of two
   * processes that verified the same OTP at once, only the first one gets through.
   */
  advance(publicId: string, counters: { useCounter: number; sessionCounter: number }): void {
    this.store.transaction(() => {
      const current = this.get(publicId);
      if (!current) throw missingRow(publicId);
      const after =
        counters.useCounter > current.useCounter ||
        (counters.useCounter === current.useCounter && counters.sessionCounter > current.sessionCounter);
      if (!after) {
        throw new HardkmsError('OTP_REPLAYED', 'The OTP was already used (another process accepted it a moment ago).', {
          hint: 'Touch the YubiKey to type a fresh OTP.',
        });
      }
      const base = {
        public_id: current.publicId,
        key_id: current.keyId,
        private_id_hash: current.privateIdHash,
        label: current.label,
        use_counter: counters.useCounter,
        session_counter: counters.sessionCounter,
        updated: new Date().toISOString(),
      };
      const old = (
        this.store.database.prepare('SELECT mac FROM otp WHERE public_id = ?').get(publicId) as { mac: unknown }
      ).mac;
      const mac = this.mac(base);
      this.store.database
        .prepare(
          'UPDATE otp SET use_counter = @use_counter, session_counter = @session_counter, updated = @updated, mac = @mac WHERE public_id = @public_id',
        )
        .run({ ...base, mac });
      this.store.bindRows('otp', [mac], [old]);
    });
  }

  private verified(row: Row): OtpCredential {
    const { mac, ...rest } = row;
    if (!macMatches(this.mac(rest), mac)) {
      throw this.store.rowFailure(
        new HardkmsError(
          'OTP_ROW_TAMPERED',
          `The OTP record of ${row.public_id} in wallet.dat fails its integrity check (edited without the vault secret).`,
          {
            hint: 'Restore wallet.dat from a backup, or remove and re-add that OTP key.',
          },
        ),
      );
    }
    return toCredential(rest);
  }
}

export function missingRow(publicId: string): HardkmsError {
  return new HardkmsError(
    'OTP_ROW_MISSING',
    `The OTP key ${publicId} is required by this vault, but its record is missing from wallet.dat.`,
    {
      hint: 'Someone removed it without the vault secret: restore wallet.dat from a backup.',
    },
  );
}

function toCredential(r: Omit<Row, 'mac'>): OtpCredential {
  return {
    publicId: r.public_id,
    keyId: r.key_id,
    privateIdHash: r.private_id_hash,
    label: r.label,
    useCounter: r.use_counter,
    sessionCounter: r.session_counter,
    updated: r.updated,
  };
}
