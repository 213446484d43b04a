import { isHardkmsError } from '../errors.js';
import type { SealRecord } from '../vault/secret.js';
import type { DriverName, YubiKeyDriver } from './drivers/driver.js';
import { gateStatus } from './seal-record.js';

/**
 * Which enrolled keys are connected now, for `hardkms status`: no touch, no secret. On a
 * mainnet vault emulated credentials do not count toward the quorum unless the (MAC'd)
 * seal allows them.
 */
export async function gatePresence(
  seal: SealRecord,
  driverFor: (name: DriverName) => YubiKeyDriver,
  mainnet: boolean,
): Promise<Record<string, unknown>> {
  const s = gateStatus(seal);
  const present = new Map<DriverName, Set<number>>();
  const driverErrors: Record<string, string> = {};
  for (const name of new Set(s.credentials.map((c) => c.driver))) {
    try {
      present.set(name, new Set(await driverFor(name).listSerials()));
    } catch (e) {
      if (!isHardkmsError(e)) throw e;
      present.set(name, new Set());
      driverErrors[name] = e.message;
    }
  }
  const enrolled = new Set(s.credentials.map((c) => c.serial));
  const credentials = s.credentials.map((c) => ({ ...c, present: present.get(c.driver)?.has(c.serial) ?? false }));
  const usable = credentials.filter((c) => c.present && (!mainnet || s.allowEmulated || c.driver !== 'emulator'));
  return {
    provider: 'yubikey',
    threshold: s.threshold,
    driver: s.driver,
    allowEmulated: s.allowEmulated,
    allowSingleOperator: s.allowSingleOperator,
    credentials,
    presentCount: usable.length,
    quorumPresent: usable.length >= s.threshold,
    unenrolledPresent: [...present.values()].flatMap((set) => [...set]).filter((serial) => !enrolled.has(serial)),
    ...(Object.keys(driverErrors).length > 0 ? { driverErrors } : {}),
  };
}
