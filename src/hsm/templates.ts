import pkcs11js from 'pkcs11js';
import { CURVE_OID } from './ec.js';
import type { BoolAttribute, FlatAttribute } from './native.js';

/**
 * The attribute templates of every object hardkms asks a token to make, by name. Read
 * them as policy: what each key may do, whether it outlives the session, and whether its
 * value can ever leave the token. token.ts only picks one per call.
 */

type Template = pkcs11js.Template;

/** PKCS#11 3.0 key type of Ed25519 / Ed448 keys; pkcs11js has no constant for it. */
const CKK_EC_EDWARDS = 0x40;
/** CKA_EC_PARAMS of Ed25519: the OID 1.3.101.112 (RFC 8410), which SoftHSM2 2.6.1 accepts. */
export const ED25519_EC_PARAMS = Buffer.from('06032b6570', 'hex');

/**
 * CKA_UNWRAP_TEMPLATE of every wrap key hardkms creates: the token itself refuses to unwrap
 * a key as extractable, not sensitive or persistent, so the PIN alone never reads a key
 * (C_UnwrapKey templates must repeat these values, or the token answers TEMPLATE_INCONSISTENT).
 */
export const UNWRAP_TEMPLATE: readonly BoolAttribute[] = [
  { type: pkcs11js.CKA_SENSITIVE, value: true },
  { type: pkcs11js.CKA_EXTRACTABLE, value: false },
  { type: pkcs11js.CKA_TOKEN, value: false },
];

/** The vault's AES-256 token keys: persistent, private, never readable, never changed. */
function vaultAesKey(): { type: number; value: number | boolean }[] {
  return [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
    { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
    { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
    { type: pkcs11js.CKA_TOKEN, value: true },
    { type: pkcs11js.CKA_PRIVATE, value: true },
    { type: pkcs11js.CKA_SENSITIVE, value: true },
    { type: pkcs11js.CKA_EXTRACTABLE, value: false },
    { type: pkcs11js.CKA_MODIFIABLE, value: false },
  ];
}

/** The wrap key: wraps and unwraps wallet keys only, and unwraps them only as UNWRAP_TEMPLATE allows. */
export function wrapKeyTemplate(tag: string, idHex: string): FlatAttribute[] {
  return [
    ...vaultAesKey(),
    { type: pkcs11js.CKA_LABEL, value: Buffer.from(`hardkms-wrap-${tag}`) },
    { type: pkcs11js.CKA_ID, value: Buffer.from(idHex, 'hex') },
    { type: pkcs11js.CKA_WRAP, value: true },
    { type: pkcs11js.CKA_UNWRAP, value: true },
    { type: pkcs11js.CKA_ENCRYPT, value: false },
    { type: pkcs11js.CKA_DECRYPT, value: false },
    { type: pkcs11js.CKA_UNWRAP_TEMPLATE, template: [...UNWRAP_TEMPLATE] },
  ];
}

/** The data key: encrypts and decrypts seeds and mnemonics (AES-GCM), never wraps. */
export function dataKeyTemplate(tag: string, idHex: string): Template {
  return [
    ...vaultAesKey(),
    { type: pkcs11js.CKA_LABEL, value: `hardkms-data-${tag}` },
    { type: pkcs11js.CKA_ID, value: Buffer.from(idHex, 'hex') },
    { type: pkcs11js.CKA_WRAP, value: false },
    { type: pkcs11js.CKA_UNWRAP, value: false },
    { type: pkcs11js.CKA_ENCRYPT, value: true },
    { type: pkcs11js.CKA_DECRYPT, value: true },
  ];
}

/** The audit key pair (P-256): the private half signs audit records and never leaves; the public half is readable. */
export function auditKeyPairTemplates(tag: string, idHex: string): { publicKey: Template; privateKey: Template } {
  return {
    publicKey: [
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_PRIVATE, value: false },
      { type: pkcs11js.CKA_VERIFY, value: true },
      { type: pkcs11js.CKA_EC_PARAMS, value: CURVE_OID.p256 },
      { type: pkcs11js.CKA_LABEL, value: `hardkms-audit-${tag}` },
      { type: pkcs11js.CKA_ID, value: Buffer.from(idHex, 'hex') },
    ],
    privateKey: [
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_PRIVATE, value: true },
      { type: pkcs11js.CKA_SENSITIVE, value: true },
      { type: pkcs11js.CKA_EXTRACTABLE, value: false },
      { type: pkcs11js.CKA_SIGN, value: true },
      { type: pkcs11js.CKA_LABEL, value: `hardkms-audit-${tag}` },
      { type: pkcs11js.CKA_ID, value: Buffer.from(idHex, 'hex') },
    ],
  };
}

/** A user's secp256k1 key, in the token for one C_WrapKey: a session object, extractable only so it can be wrapped. */
export function importedSecp256k1Template(value: Buffer): Template {
  return [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
    { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_EC },
    { type: pkcs11js.CKA_TOKEN, value: false },
    { type: pkcs11js.CKA_PRIVATE, value: true },
    { type: pkcs11js.CKA_SENSITIVE, value: true },
    { type: pkcs11js.CKA_EXTRACTABLE, value: true },
    { type: pkcs11js.CKA_SIGN, value: true },
    { type: pkcs11js.CKA_EC_PARAMS, value: CURVE_OID.secp256k1 },
    { type: pkcs11js.CKA_VALUE, value },
  ];
}

/** A secp256k1 pair generated for a new wallet: session objects; the private half is extractable only to be wrapped. */
export function generatedSecp256k1Templates(): { publicKey: Template; privateKey: Template } {
  return {
    publicKey: [
      { type: pkcs11js.CKA_TOKEN, value: false },
      { type: pkcs11js.CKA_EC_PARAMS, value: CURVE_OID.secp256k1 },
      { type: pkcs11js.CKA_VERIFY, value: true },
    ],
    privateKey: [
      { type: pkcs11js.CKA_TOKEN, value: false },
      { type: pkcs11js.CKA_PRIVATE, value: true },
      { type: pkcs11js.CKA_SENSITIVE, value: true },
      { type: pkcs11js.CKA_EXTRACTABLE, value: true },
      { type: pkcs11js.CKA_SIGN, value: true },
    ],
  };
}

/** A wallet key unwrapped for one signature: a sensitive, non-extractable session object (as UNWRAP_TEMPLATE demands). */
export function unwrappedSecp256k1Template(): Template {
  return [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
    { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_EC },
    { type: pkcs11js.CKA_TOKEN, value: false },
    { type: pkcs11js.CKA_PRIVATE, value: true },
    { type: pkcs11js.CKA_SENSITIVE, value: true },
    { type: pkcs11js.CKA_EXTRACTABLE, value: false },
    { type: pkcs11js.CKA_SIGN, value: true },
  ];
}

/**
 * Migration only: a key wrapped before UNWRAP_TEMPLATE existed, unwrapped readable once so
 * its export copy can be made. A wrap key with the template refuses it.
 */
export function legacyReadableSecp256k1Template(): Template {
  return [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
    { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_EC },
    { type: pkcs11js.CKA_TOKEN, value: false },
    { type: pkcs11js.CKA_PRIVATE, value: true },
    { type: pkcs11js.CKA_SENSITIVE, value: false },
    { type: pkcs11js.CKA_EXTRACTABLE, value: true },
  ];
}

/**
 * An ed25519 pair generated for a new wallet. The token cannot wrap an EdDSA object, so the
 * private half is readable for one read of its seed (then sealed with the data key) and destroyed.
 */
export function generatedEd25519Templates(): { publicKey: Template; privateKey: Template } {
  return {
    publicKey: [
      { type: pkcs11js.CKA_TOKEN, value: false },
      { type: pkcs11js.CKA_EC_PARAMS, value: ED25519_EC_PARAMS },
      { type: pkcs11js.CKA_VERIFY, value: true },
    ],
    privateKey: [
      { type: pkcs11js.CKA_TOKEN, value: false },
      { type: pkcs11js.CKA_PRIVATE, value: true },
      { type: pkcs11js.CKA_SENSITIVE, value: false },
      { type: pkcs11js.CKA_EXTRACTABLE, value: true },
      { type: pkcs11js.CKA_SIGN, value: true },
    ],
  };
}

/** An ed25519 key opened for one signature: a sensitive, non-extractable CKK_EC_EDWARDS session object. */
export function ed25519SessionKeyTemplate(seed: Buffer): Template {
  return [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
    { type: pkcs11js.CKA_KEY_TYPE, value: CKK_EC_EDWARDS },
    { type: pkcs11js.CKA_TOKEN, value: false },
    { type: pkcs11js.CKA_PRIVATE, value: true },
    { type: pkcs11js.CKA_SENSITIVE, value: true },
    { type: pkcs11js.CKA_EXTRACTABLE, value: false },
    { type: pkcs11js.CKA_SIGN, value: true },
    { type: pkcs11js.CKA_EC_PARAMS, value: ED25519_EC_PARAMS },
    { type: pkcs11js.CKA_VALUE, value: seed },
  ];
}

/** A Yubico OTP AES-128 key: persistent, never readable, decrypts one block at a time. */
export function otpAesKeyTemplate(value: Buffer, idHex: string, label: string): Template {
  return [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
    { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
    { type: pkcs11js.CKA_TOKEN, value: true },
    { type: pkcs11js.CKA_PRIVATE, value: true },
    { type: pkcs11js.CKA_SENSITIVE, value: true },
    { type: pkcs11js.CKA_EXTRACTABLE, value: false },
    { type: pkcs11js.CKA_DECRYPT, value: true },
    { type: pkcs11js.CKA_ENCRYPT, value: false },
    { type: pkcs11js.CKA_LABEL, value: label },
    { type: pkcs11js.CKA_ID, value: Buffer.from(idHex, 'hex') },
    { type: pkcs11js.CKA_VALUE, value },
  ];
}

/** Benchmarks only (hsm/token-testing.ts): a resident key pair that signs without an unwrap. */
export function residentKeyTemplates(ecParams: Buffer): { publicKey: Template; privateKey: Template } {
  return {
    publicKey: [
      { type: pkcs11js.CKA_TOKEN, value: false },
      { type: pkcs11js.CKA_EC_PARAMS, value: ecParams },
    ],
    privateKey: [
      { type: pkcs11js.CKA_TOKEN, value: false },
      { type: pkcs11js.CKA_SENSITIVE, value: true },
      { type: pkcs11js.CKA_EXTRACTABLE, value: false },
      { type: pkcs11js.CKA_SIGN, value: true },
    ],
  };
}
