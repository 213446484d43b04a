import { createHmac, randomBytes, randomInt } from 'node:crypto';
import { chmod, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HardkmsError, InputError } from '../../errors.js';
import { assertChallenge, assertSlot, touchMessage } from '../challenge.js';
import { HMAC_SHA1_RESPONSE_BYTES, type CredentialRef, type RespondOptions, type YubiKeyDriver } from './driver.js';
import { parseHexResponse } from '../responses.js';
import { readEnv, type PublicEnvName } from '../../config/env.js';

const EMULATOR_DIR_ENV = 'HARDKMS_YUBIKEY_EMULATOR_DIR' satisfies PublicEnvName;

/**
 * Emulated YubiKeys for CI and demos. Layout of the directory (0700):
 *   <serial>.key   mode 0600, one line: the slot's 20-byte HMAC-SHA1 secret as 40 hex digits
 * Every file present is a plugged-in key (it answers without a touch); deleting a file
 * unplugs that key. One secret per key answers for both slots, like a key whose two
 * slots hold the same secret. The response is exactly HMAC-SHA1(secret, challenge),
 * what a real key computes for our challenges (see challenge.ts).
 *
 * The files are the whole secret of the "hardware": anyone who reads them can unseal.
 * That is why the emulator is refused for mainnet vaults unless explicitly allowed.
 */
export class EmulatorDriver implements YubiKeyDriver {
  readonly name = 'emulator' as const;
  private readonly explicitDir: string | undefined;

  constructor(dir?: string) {
    this.explicitDir = dir;
  }

  /** The commands pass the directory buildConfig read; the variable is read here only for a driver built without one. */
  get dir(): string {
    const d = this.explicitDir ?? readEnv(EMULATOR_DIR_ENV);
    if (!d) {
      throw new HardkmsError(
        'GATE_DRIVER_FAILED',
        `The YubiKey emulator has no key directory: ${EMULATOR_DIR_ENV} is not set.`,
        {
          hint: `Set ${EMULATOR_DIR_ENV} to the directory that holds the emulated keys (init --driver emulator creates it).`,
        },
      );
    }
    return d;
  }

  async listSerials(): Promise<number[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    return names
      .map((n) => /^(\d{1,10})\.key$/.exec(n))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
  }

  async respond(credential: CredentialRef, challenge: Buffer, opts: RespondOptions = {}): Promise<Buffer> {
    assertSlot(credential.slot);
    assertChallenge(challenge);
    opts.onWait?.(touchMessage(credential));
    const secret = await readEmulatedSecret(this.dir, credential);
    try {
      return createHmac('sha1', secret).update(challenge).digest();
    } finally {
      secret.fill(0);
    }
  }
}

export function emulatedKeyPath(dir: string, serial: number): string {
  return join(dir, `${serial}.key`);
}

async function readEmulatedSecret(dir: string, credential: CredentialRef): Promise<Buffer> {
  const path = emulatedKeyPath(dir, credential.serial);
  let st;
  try {
    st = await stat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new HardkmsError(
        'GATE_NO_YUBIKEY',
        `The YubiKey ${credential.label} (serial ${credential.serial}) is not connected (emulator: ${path} is missing).`,
        {
          hint: `Put the key file back in ${dir}, or use another enrolled YubiKey.`,
        },
      );
    }
    throw e;
  }
  if ((st.mode & 0o077) !== 0) {
    throw new HardkmsError('GATE_DRIVER_FAILED', `The emulated YubiKey file ${path} is readable by other users.`, {
      hint: `chmod 600 ${path}`,
    });
  }
  const raw = await readFile(path);
  try {
    return parseHexResponse(raw, 'emulated key file');
  } catch {
    throw new HardkmsError(
      'GATE_DRIVER_FAILED',
      `The emulated YubiKey file ${path} does not hold a 20-byte secret as 40 hex digits.`,
      {
        hint: 'Recreate the emulated key; note that a new secret makes it a different key.',
      },
    );
  } finally {
    raw.fill(0);
  }
}

interface EmulatedKey {
  serial: number;
  path: string;
}

/** Creates the directory (0700) if needed and a new emulated key with a random serial and secret. */
export async function createEmulatedKey(dir: string, opts: { serial?: number } = {}): Promise<EmulatedKey> {
  await ensureEmulatorDir(dir);
  const existing = new Set(await new EmulatorDriver(dir).listSerials());
  let serial = opts.serial;
  if (serial !== undefined) {
    if (!Number.isSafeInteger(serial) || serial < 1 || serial > 0xffffffff) {
      throw new InputError(`An emulated YubiKey serial must be a positive 32-bit integer (got ${serial}).`);
    }
    if (existing.has(serial)) {
      throw new InputError(`An emulated YubiKey with serial ${serial} already exists in ${dir}.`);
    }
  } else {
    do serial = randomInt(10_000_000, 100_000_000);
    while (existing.has(serial));
  }
  const path = emulatedKeyPath(dir, serial);
  await writeSecretFile(path, 'wx');
  return { serial, path };
}

async function ensureEmulatorDir(dir: string): Promise<void> {
  const created = await mkdir(dir, { recursive: true, mode: 0o700 });
  if (created !== undefined) await chmod(dir, 0o700);
}

/** A new random HMAC-SHA1 secret in the key's file (hex, mode 0600); the secret is wiped here. */
export async function writeSecretFile(path: string, flag: 'w' | 'wx'): Promise<void> {
  const secret = randomBytes(HMAC_SHA1_RESPONSE_BYTES);
  const text = Buffer.alloc(HMAC_SHA1_RESPONSE_BYTES * 2 + 1);
  try {
    const digits = '0123456789abcdef';
    for (let i = 0; i < secret.length; i++) {
      text[2 * i] = digits.charCodeAt(secret[i]! >> 4);
      text[2 * i + 1] = digits.charCodeAt(secret[i]! & 0x0f);
    }
    text[text.length - 1] = 0x0a;
    await writeFile(path, text, { flag, mode: 0o600 });
    await chmod(path, 0o600);
  } finally {
    secret.fill(0);
    text.fill(0);
  }
}
