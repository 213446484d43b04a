import { HardkmsError } from '../errors.js';

/** The CKR_* codes we explain; everything else is reported with its name and number. */
const CKR = {
  CKR_PIN_INCORRECT: 0xa0,
  CKR_PIN_INVALID: 0xa1,
  CKR_PIN_LEN_RANGE: 0xa2,
  CKR_PIN_EXPIRED: 0xa3,
  CKR_PIN_LOCKED: 0xa4,
  CKR_MECHANISM_INVALID: 0x70,
  CKR_MECHANISM_PARAM_INVALID: 0x71,
  CKR_OBJECT_HANDLE_INVALID: 0x82,
  CKR_KEY_HANDLE_INVALID: 0x60,
  CKR_TOKEN_NOT_PRESENT: 0xe0,
  CKR_TOKEN_NOT_RECOGNIZED: 0xe1,
  CKR_DEVICE_REMOVED: 0x32,
  CKR_USER_NOT_LOGGED_IN: 0x101,
  CKR_ENCRYPTED_DATA_INVALID: 0x40,
  CKR_ENCRYPTED_DATA_LEN_RANGE: 0x41,
  CKR_WRAPPED_KEY_INVALID: 0x110,
  CKR_WRAPPED_KEY_LEN_RANGE: 0x112,
  CKR_UNWRAPPING_KEY_HANDLE_INVALID: 0x113,
  CKR_WRAPPING_KEY_HANDLE_INVALID: 0x115,
  CKR_ATTRIBUTE_SENSITIVE: 0x11,
  CKR_KEY_UNEXTRACTABLE: 0x6a,
  CKR_CURVE_NOT_SUPPORTED: 0x140,
  CKR_DOMAIN_PARAMS_INVALID: 0x130,
  CKR_GENERAL_ERROR: 0x05,
  CKR_TEMPLATE_INCOMPLETE: 0xd0,
  CKR_TEMPLATE_INCONSISTENT: 0xd1,
} as const;

export function pkcs11Code(e: unknown): number | undefined {
  if (e && typeof e === 'object' && 'code' in e && typeof (e as { code: unknown }).code === 'number') {
    const code = (e as { code: number }).code;
    return code === 0 ? undefined : code;
  }
  return undefined;
}

function ckrName(code: number): string {
  const entry = Object.entries(CKR).find(([, v]) => v === code);
  return entry ? entry[0] : `CKR 0x${code.toString(16)}`;
}

interface CkrContext {
  /** What we were doing, e.g. "unwrapping the key of wallet 1234". */
  operation: string;
  tokenLabel?: string;
  /** Profile setting to change when a mechanism is missing. */
  mechanismSetting?: string;
  profile?: string;
  /**
   * The call checks an authentication tag (GCM decrypt, RFC 5649 unwrap). SoftHSM2 reports
   * a failed tag as CKR_GENERAL_ERROR rather than CKR_ENCRYPTED_DATA_INVALID.
   */
  authenticated?: boolean;
}

/**
 * Turns a PKCS#11 failure into an error an operator can act on. Nothing secret is in a
 * CKR code, so the original code name is always included for the HSM vendor's support.
 */
export function explainPkcs11Error(e: unknown, ctx: CkrContext): HardkmsError {
  if (e instanceof HardkmsError) return e;
  const code = pkcs11Code(e);
  const label = ctx.tokenLabel ? `token '${ctx.tokenLabel}'` : 'the token';
  if (code === undefined) {
    const text = e instanceof Error ? e.message : String(e);
    return new HardkmsError('HSM_FAILED', `PKCS#11 call failed while ${ctx.operation}: ${text}.`, { cause: e });
  }
  const name = ckrName(code);
  // An authenticated decryption that fails with a general error means the ciphertext is wrong.
  const tagFailure = ctx.authenticated === true && code === CKR.CKR_GENERAL_ERROR;
  switch (tagFailure ? CKR.CKR_ENCRYPTED_DATA_INVALID : code) {
    case CKR.CKR_PIN_INCORRECT:
    case CKR.CKR_PIN_INVALID:
    case CKR.CKR_PIN_LEN_RANGE:
      return new HardkmsError('HSM_WRONG_PIN', `Wrong PIN for ${label} (${name}).`, {
        hint: 'Check the token user PIN. Repeated failures lock the token; ask the security officer before retrying many times.',
      });
    case CKR.CKR_PIN_LOCKED:
    case CKR.CKR_PIN_EXPIRED:
      return new HardkmsError('HSM_PIN_LOCKED', `The user PIN of ${label} is locked or expired (${name}).`, {
        hint: "Stop retrying. The security officer must unlock the user PIN with the token's admin tool without changing it: the vault holds that PIN sealed, and no hardkms command sets one you choose.",
      });
    case CKR.CKR_MECHANISM_INVALID:
    case CKR.CKR_MECHANISM_PARAM_INVALID:
    case CKR.CKR_CURVE_NOT_SUPPORTED:
    case CKR.CKR_DOMAIN_PARAMS_INVALID:
      return new HardkmsError(
        'HSM_MECHANISM_UNSUPPORTED',
        `${label} does not support what hardkms asked while ${ctx.operation} (${name}).`,
        {
          hint: ctx.mechanismSetting
            ? `Change '${ctx.mechanismSetting}' in the token profile${ctx.profile ? ` hsm/profiles/${ctx.profile}.json` : ''} to a mechanism this device offers, or pick the profile of your device with --profile.`
            : 'Pick the token profile of your device with --profile (hsm/profiles/).',
        },
      );
    case CKR.CKR_OBJECT_HANDLE_INVALID:
    case CKR.CKR_KEY_HANDLE_INVALID:
    case CKR.CKR_UNWRAPPING_KEY_HANDLE_INVALID:
    case CKR.CKR_WRAPPING_KEY_HANDLE_INVALID:
      return new HardkmsError(
        'HSM_KEY_MISSING',
        `A key hardkms needs is missing from ${label} while ${ctx.operation} (${name}).`,
        {
          hint: 'The store is bound to keys that are not on this token: use the token the vault was created with, or restore it from its backup.',
        },
      );
    case CKR.CKR_TOKEN_NOT_PRESENT:
    case CKR.CKR_TOKEN_NOT_RECOGNIZED:
    case CKR.CKR_DEVICE_REMOVED:
      return new HardkmsError('HSM_TOKEN_NOT_PRESENT', `${label} is not present (${name}).`, {
        hint: 'Reconnect the HSM or check the module configuration (SOFTHSM2_CONF for SoftHSM2).',
      });
    case CKR.CKR_USER_NOT_LOGGED_IN:
      return new HardkmsError('HSM_NOT_LOGGED_IN', `Not logged in to ${label} while ${ctx.operation}.`, {
        hint: 'Unseal the vault first.',
      });
    case CKR.CKR_ENCRYPTED_DATA_INVALID:
    case CKR.CKR_ENCRYPTED_DATA_LEN_RANGE:
    case CKR.CKR_WRAPPED_KEY_INVALID:
    case CKR.CKR_WRAPPED_KEY_LEN_RANGE:
      return new HardkmsError(
        'HSM_CIPHERTEXT_REJECTED',
        `${label} rejected a ciphertext while ${ctx.operation} (${name}): it was altered, moved from another entry, or made by another token.`,
        {
          hint: 'Restore wallet.dat from a backup made with this token.',
        },
      );
    default:
      return new HardkmsError('HSM_FAILED', `PKCS#11 call failed while ${ctx.operation}: ${name}.`, { cause: e });
  }
}
