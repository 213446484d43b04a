import { InputError } from '../../errors.js';
import { DRIVER_NAMES, type DriverName, type YubiKeyDriver } from './driver.js';
import { EmulatorDriver } from './emulator.js';
import { YkchalrespDriver } from './ykchalresp.js';
import { YkmanDriver } from './ykman.js';

interface DriverFactoryOptions {
  /** Emulator key directory; overrides HARDKMS_YUBIKEY_EMULATOR_DIR. */
  emulatorDir?: string;
  /** Absolute path of ykman / ykchalresp as enrolled; default: resolved on PATH when first run (enrollment, status). */
  tool?: string | undefined;
}

export function getDriver(name: string, opts: DriverFactoryOptions = {}): YubiKeyDriver {
  switch (name as DriverName) {
    case 'ykman':
      return new YkmanDriver(opts.tool);
    case 'ykchalresp':
      return new YkchalrespDriver(opts.tool);
    case 'emulator':
      return new EmulatorDriver(opts.emulatorDir);
    default:
      throw new InputError(`Unknown YubiKey driver "${name}".`, `Use one of: ${DRIVER_NAMES.join(', ')}.`);
  }
}
