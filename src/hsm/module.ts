import { existsSync } from 'node:fs';
import pkcs11js from 'pkcs11js';
import { HardkmsError } from '../errors.js';
import { pkcs11Code } from './pkcs11-errors.js';
import type { TokenProfile } from './profiles.js';

/**
 * Finds the PKCS#11 module: HARDKMS_PKCS11_MODULE wins; otherwise the first of the
 * profile's usual install paths that exists. The error lists every place looked at,
 * because "module not found" is the first thing an operator meets on a new host.
 */
export function resolveModulePath(explicit: string | undefined, profile: TokenProfile): string {
  if (explicit) {
    if (!existsSync(explicit)) {
      throw new HardkmsError(
        'HSM_MODULE_NOT_FOUND',
        `PKCS#11 module not found at ${explicit} (HARDKMS_PKCS11_MODULE).`,
        {
          hint: "Set HARDKMS_PKCS11_MODULE to the path of your HSM vendor's PKCS#11 library (for SoftHSM2 on Debian: /usr/lib/softhsm/libsofthsm2.so, from the softhsm2 package).",
        },
      );
    }
    return explicit;
  }
  const found = profile.modulePaths.find((p) => existsSync(p));
  if (!found) {
    throw new HardkmsError(
      'HSM_MODULE_NOT_FOUND',
      `No PKCS#11 module found for profile '${profile.name}'. Looked at: ${profile.modulePaths.join(', ')}.`,
      {
        hint: 'Install the module (Debian: apt-get install softhsm2) or set HARDKMS_PKCS11_MODULE to its path.',
      },
    );
  }
  return found;
}

/**
 * C_Initialize may run once per process and module; SoftHSM2 reads SOFTHSM2_CONF at that
 * moment. Keep one loaded module per path for the life of the process.
 */
const loadedModules = new Map<string, pkcs11js.PKCS11>();

export function loadModule(path: string): pkcs11js.PKCS11 {
  const existing = loadedModules.get(path);
  if (existing) return existing;
  const lib = new pkcs11js.PKCS11();
  try {
    lib.load(path);
  } catch (e) {
    throw new HardkmsError(
      'HSM_MODULE_NOT_FOUND',
      `Could not load the PKCS#11 module ${path}: ${(e as Error).message}.`,
      {
        hint: 'Set HARDKMS_PKCS11_MODULE to a PKCS#11 library built for this platform.',
      },
    );
  }
  try {
    lib.C_Initialize();
  } catch (e) {
    if (pkcs11Code(e) !== 0x191 /* CKR_CRYPTOKI_ALREADY_INITIALIZED */) {
      throw new HardkmsError(
        'HSM_INIT_FAILED',
        `The PKCS#11 module ${path} failed to initialise: ${(e as Error).message}.`,
        {
          hint: 'For SoftHSM2 check that SOFTHSM2_CONF names a readable config whose tokendir exists.',
        },
      );
    }
  }
  loadedModules.set(path, lib);
  return lib;
}
