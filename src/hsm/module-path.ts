import { existsSync } from 'node:fs';
import { HardkmsError } from '../errors.js';
import type { TokenProfile } from './profiles.js';

/**
 * Finds the PKCS#11 module: HARDKMS_PKCS11_MODULE wins; otherwise the first of the
 * profile's usual install paths that exists. The error lists every place looked at,
 * because "module not found" is the first thing an operator meets on a new host.
 */
export function resolveModulePath(explicit: string | undefined, profile: TokenProfile): string {
  if (explicit) {
    if (!existsSync(explicit)) {
      throw new HardkmsError('HSM_MODULE_NOT_FOUND', `PKCS#11 module not found at ${explicit} (HARDKMS_PKCS11_MODULE).`, {
        hint: "Set HARDKMS_PKCS11_MODULE to the path of your HSM vendor's PKCS#11 library (for SoftHSM2 on Debian: /usr/lib/softhsm/libsofthsm2.so, from the softhsm2 package).",
      });
    }
    return explicit;
  }
  const found = profile.modulePaths.find((p) => existsSync(p));
  if (!found) {
    throw new HardkmsError('HSM_MODULE_NOT_FOUND', `No PKCS#11 module found for profile '${profile.name}'. Looked at: ${profile.modulePaths.join(', ')}.`, {
      hint: 'Install the module (Debian: apt-get install softhsm2) or set HARDKMS_PKCS11_MODULE to its path.',
    });
  }
  return found;
}
