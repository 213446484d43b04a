import { HardkmsError } from '../../errors.js';

/** The errors every resolved signing key (secp256k1, ed25519, ADA) raises the same way. */

/** A signer used after wipe(): the pipeline's own mistake, never the operator's. */
export function wipedSignerError(signatureId: string): HardkmsError {
  return new HardkmsError('KEY_WIPED', `the signer for ${signatureId} was already wiped`, {
    hint: 'This is a bug in hardkms; report it.',
  });
}

/** The key a mnemonic gives at `index` is not the one the entry's public data names. */
export function derivedKeyMismatch(signatureId: string, index: number): HardkmsError {
  return new HardkmsError(
    'WALLET_XPUB_MISMATCH',
    `wallet ${signatureId}: the key derived from its mnemonic at index ${index} does not match its stored xpub`,
    {
      hint: 'The entry is inconsistent; nothing was signed. Restore wallet.dat from a backup, or store the mnemonic again (storemanagedwallet).',
    },
  );
}
