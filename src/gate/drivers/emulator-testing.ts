/** What tests do to an emulated YubiKey that an operator never does through hardkms. */
import { emulatedKeyPath, writeSecretFile } from './emulator.js';

/**
 * Gives an existing emulated key a new secret, as `ykman otp chalresp --generate`
 * would: the key keeps its serial but no longer gives its enrolled responses.
 */
export async function reprogramEmulatedKey(dir: string, serial: number): Promise<void> {
  await writeSecretFile(emulatedKeyPath(dir, serial), 'w');
}
