import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { HardkmsError } from '../errors.js';
import { expecting, looseJsonObject, parseOrThrow, v } from '../validate.js';

/**
 * A token profile says how one family of PKCS#11 devices does the things hardkms needs.
 * Wrap mechanisms differ between vendors (RFC 5649 is CKM_AES_KEY_WRAP_PAD on SoftHSM2,
 * CKM_AES_KEY_WRAP_KWP on PKCS#11 3.x devices, a vendor mechanism on YubiHSM 2), so the
 * mechanism is a setting, and every wrapped blob records the one that made it.
 */
export interface TokenProfile {
  name: string;
  description: string;
  modulePaths: string[];
  wrapMechanism: string;
  dataMechanism: string;
  signMechanism: string;
  /** Ed25519 signing mechanism (XRP, XLM, SOL, ALGO); default CKM_EDDSA. */
  eddsaMechanism?: string;
  supports: {
    secp256k1: boolean;
    unwrapEcPrivateKey: boolean;
    aesGcm: boolean;
    aesEcb: boolean;
    /** CKM_EC_EDWARDS_KEY_PAIR_GEN and CKM_EDDSA over CKK_EC_EDWARDS keys with Ed25519 params. */
    eddsa: boolean;
    /** C_WrapKey / C_UnwrapKey of CKK_EC_EDWARDS private keys (not on SoftHSM2 2.6.1). Informational. */
    unwrapEdPrivateKey?: boolean;
  };
  notes: string;
}

const text = v.string(expecting('a string'));
const flag = v.boolean(expecting('true or false'));
/** A profile file; keys it does not list (notes for people, e.g. `unwrapTemplate`) are kept. */
const tokenProfile: v.GenericSchema<unknown, TokenProfile> = looseJsonObject({
  name: text,
  description: text,
  modulePaths: v.array(text, expecting('an array of module paths')),
  wrapMechanism: text,
  dataMechanism: text,
  signMechanism: text,
  eddsaMechanism: v.optional(text),
  supports: looseJsonObject({
    secp256k1: flag,
    unwrapEcPrivateKey: flag,
    aesGcm: flag,
    aesEcb: flag,
    eddsa: flag,
    unwrapEdPrivateKey: v.optional(flag),
  }),
  notes: text,
});

// src/hsm and dist/hsm are both two levels below the package root, where hsm/ lives.
const PROFILE_DIR = fileURLToPath(new URL('../../hsm/profiles/', import.meta.url));

export const DEFAULT_PROFILE = 'softhsm2';

function listProfiles(): string[] {
  return readdirSync(PROFILE_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -5))
    .sort();
}

export function loadProfile(name: string = DEFAULT_PROFILE): TokenProfile {
  if (!/^[a-z0-9-]+$/.test(name) || !listProfiles().includes(name)) {
    throw new HardkmsError('HSM_PROFILE_UNKNOWN', `Unknown token profile '${name}'.`, {
      hint: `Use one of: ${listProfiles().join(', ')} (files in hsm/profiles/).`,
    });
  }
  const invalid = (what: string): HardkmsError =>
    new HardkmsError('HSM_PROFILE_INVALID', `Token profile '${name}' is invalid: ${what}.`, {
      hint: `Fix hsm/profiles/${name}.json.`,
    });
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(`${PROFILE_DIR}${name}.json`, 'utf8'));
  } catch {
    throw invalid('it is not JSON');
  }
  return parseOrThrow(tokenProfile, json, invalid);
}
