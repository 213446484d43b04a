/**
 * Schemas of the JSON records kept in wallet.dat's meta table. Most are read before the
 * meta MAC can be checked (its key comes out of the seal), so each is validated as it is
 * read (WalletStore.getMetaJson): a record edited by hand fails with VAULT_META_TAMPERED
 * and the field it got wrong, not with a TypeError deep inside an unseal.
 *
 * Records a newer version may extend (the token binding, seal records) keep the fields
 * they do not list; provider-specific seal fields are checked by the provider
 * (password-provider.ts, gate/seal-record.ts).
 */
import { expecting, looseJsonObject, jsonObject, v } from '../validate.js';
import type { AuditHead } from '../audit/log.js';
import type { CeremonyLock } from './ceremony-lock.js';
import type { SealRecord } from './secret.js';
import type { TokenBinding } from './facts.js';
import type { PublicData } from './entries.js';

const text = v.string(expecting('a string'));
const count = v.pipe(
  v.number(expecting('a non-negative integer')),
  v.check((n) => Number.isSafeInteger(n) && n >= 0, expecting('a non-negative integer')),
);

export const tokenBindingRecord: v.GenericSchema<unknown, TokenBinding> = looseJsonObject({
  modulePath: text,
  label: text,
  serial: text,
  profile: text,
  keys: looseJsonObject({ wrapKeyId: text, dataKeyId: text, auditKeyId: text }),
  auditLog: v.optional(text),
  auditKeyFingerprint: v.optional(text),
  auditForward: v.optional(looseJsonObject({ url: text, caPem: v.optional(text) })),
});

export const sealRecord: v.GenericSchema<unknown, SealRecord> = looseJsonObject({ provider: text });

export const auditHeadRecord: v.GenericSchema<unknown, AuditHead> = jsonObject({ seq: count, hash: text });

export const authenticatedHeadRecord: v.GenericSchema<unknown, AuditHead & { mac: string }> = jsonObject({
  seq: count,
  hash: text,
  mac: text,
});

export const forwardedRecord: v.GenericSchema<unknown, { seq: number }> = jsonObject({ seq: count });

export const ceremonyLockRecord: v.GenericSchema<unknown, CeremonyLock> = jsonObject({
  command: text,
  pid: count,
  host: text,
  started: text,
});

/**
 * A wallet row's public_data column, read after the row's MAC matched (so written by a
 * holder of the vault secret: a newer hardkms may have added fields, which are kept).
 */
export const publicDataRecord: v.GenericSchema<unknown, PublicData> = looseJsonObject({
  xpub: v.optional(text),
  address: v.optional(text),
  publicKey: v.optional(text),
  keyType: v.optional(v.literal('ed25519', expecting("'ed25519'"))),
  secretField: v.optional(v.picklist(['secret', 'privateKey'], expecting("'secret' or 'privateKey'"))),
  wif: v.optional(jsonObject({ version: count, compressed: v.boolean(expecting('true or false')) })),
});
