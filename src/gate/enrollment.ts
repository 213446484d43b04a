import { unlink } from 'node:fs/promises';
import { HardkmsError, InputError } from '../errors.js';
import type { DriverName } from './drivers/driver.js';
import { getDriver } from './drivers/index.js';
import { createEmulatedKey } from './drivers/emulator.js';
import type { YubiKeySealRecord } from './seal-record.js';
import type { GateCredentialSpec } from './yubikey-provider.js';
import { noYubiKey } from './drivers/ykman.js';

/**
 * Enrollment planning: which physical (or emulated) keys a ceremony enrolls. The CLI
 * parses the flags; the rules (all N keys connected, no stray key, one new key for
 * `enroll`, emulated keys created only when the ceremony runs) live here so they are
 * tested in-process.
 */
interface EnrollPlan {
  n: number;
  driver: DriverName;
  slot: 1 | 2;
  labels?: string[] | undefined;
  serials?: number[] | undefined;
  passphrase: boolean;
  /** Emulator key directory (HARDKMS_YUBIKEY_EMULATOR_DIR). */
  emulatorDir?: string | undefined;
}

/** Serials of the keys to enroll: the N keys connected now (real drivers). */
async function connectedKeys(driver: DriverName, n: number, emulatorDir?: string): Promise<number[]> {
  const list = await getDriver(driver, emulatorDir ? { emulatorDir } : {}).listSerials();
  if (list.length === 0) throw noYubiKey(undefined);
  if (list.length < n) {
    throw new HardkmsError(
      'GATE_NO_YUBIKEY',
      `Enrolling ${n} YubiKeys needs all of them connected; found ${list.length} (serial ${list.join(', serial ')}).`,
      {
        hint: 'Connect every key to enroll (a USB hub helps), or name them with --serials.',
      },
    );
  }
  if (list.length > n) {
    throw new InputError(
      `${list.length} YubiKeys are connected (serial ${list.join(', serial ')}), but ${n} are to be enrolled.`,
      'Unplug the others, or name the keys to enroll with --serials a,b,c.',
    );
  }
  return list;
}

export function requireEmulatorDir(dir: string | undefined): string {
  if (!dir) {
    throw new InputError(
      'The YubiKey emulator needs a key directory: HARDKMS_YUBIKEY_EMULATOR_DIR is not set.',
      'Set HARDKMS_YUBIKEY_EMULATOR_DIR to a directory (created 0700) that will hold the emulated keys.',
    );
  }
  return dir;
}

/** Creates emulated keys (given serials or random ones); `created` collects their paths for cleanup. */
async function createKeys(
  emulatorDir: string | undefined,
  n: number,
  serials: number[] | undefined,
  created: string[],
): Promise<number[]> {
  const dir = requireEmulatorDir(emulatorDir);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const k = await createEmulatedKey(dir, serials ? { serial: serials[i]! } : {});
    created.push(k.path);
    out.push(k.serial);
  }
  return out;
}

export async function removeFiles(paths: string[]): Promise<void> {
  for (const p of paths) await unlink(p).catch(() => undefined);
}

/** The keys to enroll for init and recover: created (emulator) or connected (real). */
export async function keysToEnroll(plan: EnrollPlan, created: string[]): Promise<GateCredentialSpec[]> {
  const found =
    plan.driver === 'emulator'
      ? await createKeys(plan.emulatorDir, plan.n, plan.serials, created)
      : (plan.serials ?? (await connectedKeys(plan.driver, plan.n, plan.emulatorDir)));
  return found.map((serial, i) => ({
    label: plan.labels?.[i] ?? `yubikey-${serial}`,
    serial,
    slot: plan.slot,
    driver: plan.driver,
    passphrase: plan.passphrase,
  }));
}

/** The serial of the one key `enroll` adds: given, created (emulator), or the one connected key not yet enrolled. */
export async function newKeySerial(
  driver: DriverName,
  rec: YubiKeySealRecord,
  wanted: number | undefined,
  emulatorDir: string | undefined,
  created: string[],
): Promise<number> {
  if (driver === 'emulator')
    return (await createKeys(emulatorDir, 1, wanted === undefined ? undefined : [wanted], created))[0]!;
  if (wanted !== undefined) return wanted;
  const enrolled = new Set(rec.credentials.map((c) => c.serial));
  const list = await getDriver(driver).listSerials();
  const fresh = list.filter((s) => !enrolled.has(s));
  if (list.length === 0) throw noYubiKey(undefined);
  if (fresh.length === 0) {
    throw new HardkmsError('GATE_NO_YUBIKEY', 'Every connected YubiKey is already enrolled; connect the new one.', {
      hint: 'Plug in the key to add (and the keys of a quorum).',
    });
  }
  if (fresh.length > 1)
    throw new InputError(
      `Several connected YubiKeys are not enrolled (serial ${fresh.join(', serial ')}).`,
      'Choose one with --serial.',
    );
  return fresh[0]!;
}
