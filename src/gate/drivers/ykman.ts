import { HardkmsError } from '../../errors.js';
import { assertChallenge, assertSlot, touchMessage } from '../challenge.js';
import { DEFAULT_TOUCH_TIMEOUT_MS, type CredentialRef, type RespondOptions, type YubiKeyDriver } from './driver.js';
import { runTool, toolErrorText, type ToolResult } from './exec.js';
import { parseHexResponse, parseSerialLines } from '../responses.js';
import { resolveTool } from './tool-path.js';

/**
 * Driver for YubiKey Manager (`ykman`, Debian package yubikey-manager):
 *   ykman list --serials                                  one serial per line; nothing (exit 0) when no key
 *   ykman --device <serial> otp calculate <slot> <hex>    40 hex digits + newline
 * Keys whose serial is hidden (the "serial visible" flag off) cannot be addressed.
 */
export class YkmanDriver implements YubiKeyDriver {
  readonly name = 'ykman' as const;

  /** @param tool absolute path (enrolled); default: resolved on PATH now and checked (enrollment, status). */
  constructor(private readonly tool?: string) {}

  get executable(): string {
    return this.tool ?? resolveTool('ykman');
  }

  async listSerials(): Promise<number[]> {
    const r = await runTool(this.executable, ['list', '--serials'], { timeoutMs: DEFAULT_TOUCH_TIMEOUT_MS });
    if (r.notFound) throw notInstalled(this.executable);
    if (r.timedOut)
      throw new HardkmsError('GATE_DRIVER_FAILED', 'ykman list --serials did not finish in time.', {
        hint: 'Unplug and re-insert the YubiKeys, then retry.',
      });
    if (r.code !== 0) {
      const e = classifyYkmanFailure(r.stderr, undefined);
      if (e.code === 'GATE_NO_YUBIKEY') return [];
      throw e;
    }
    return parseSerialLines(r.stdout.toString('latin1'), 'ykman list --serials');
  }

  async respond(credential: CredentialRef, challenge: Buffer, opts: RespondOptions = {}): Promise<Buffer> {
    assertSlot(credential.slot);
    assertChallenge(challenge);
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TOUCH_TIMEOUT_MS;
    opts.onWait?.(touchMessage(credential));
    const args = [
      '--device',
      String(credential.serial),
      'otp',
      'calculate',
      String(credential.slot),
      challenge.toString('hex'),
    ];
    let r: ToolResult | undefined;
    try {
      r = await runTool(this.executable, args, { timeoutMs });
      if (r.notFound) throw notInstalled(this.executable);
      if (r.timedOut) throw timeoutError(credential, timeoutMs);
      if (r.code !== 0) throw classifyYkmanFailure(r.stderr, credential);
      const response = parseHexResponse(r.stdout, 'ykman otp calculate');
      opts.onTouchInfo?.(/Touch your YubiKey/i.test(r.stderr));
      return response;
    } finally {
      r?.stdout.fill(0);
    }
  }
}

/**
 * Maps ykman's stderr (exit code 1) to a gate error. Texts as ykman 4.0.9 prints them:
 *   "Error: No YubiKey detected!"                                         no key at all
 *   "Error: Failed connecting to a YubiKey with serial: N.\n..."          that serial absent
 *   "Error: Cannot perform challenge-response on an empty slot."          slot empty
 *   "Touch your YubiKey...\nError: Failed to write to the YubiKey. ..."   touch timed out
 *   "Error: Failed to write to the YubiKey. ..." (no touch prompt)        slot not HMAC / access restricted
 */
export function classifyYkmanFailure(stderr: string, credential: CredentialRef | undefined): HardkmsError {
  const who = credential ? `The YubiKey ${credential.label} (serial ${credential.serial})` : 'A YubiKey';
  if (/No YubiKey detected/i.test(stderr)) {
    return noYubiKey(credential);
  }
  if (/Failed connecting to a YubiKey with serial/i.test(stderr)) {
    return noYubiKey(credential);
  }
  if (/empty slot/i.test(stderr)) {
    return slotNotProgrammed(credential, `${who} has nothing programmed in slot ${credential?.slot ?? '?'}.`);
  }
  if (/Failed to write to the YubiKey/i.test(stderr)) {
    if (/Touch your YubiKey/i.test(stderr)) {
      return new HardkmsError('GATE_TIMEOUT', `${who} was not touched in time (the key gave up waiting).`, {
        hint: 'Retry and touch the key when it blinks.',
      });
    }
    return slotNotProgrammed(
      credential,
      `${who} refused challenge-response on slot ${credential?.slot ?? '?'}: the slot is not programmed for HMAC-SHA1 challenge-response, or access to its OTP application is restricted.`,
    );
  }
  return new HardkmsError('GATE_DRIVER_FAILED', `ykman failed: ${toolErrorText(stderr)}`, {
    hint: 'Run `ykman list` and `ykman otp info` by hand to see what is wrong.',
  });
}

export function noYubiKey(credential: CredentialRef | undefined): HardkmsError {
  if (!credential) {
    return new HardkmsError('GATE_NO_YUBIKEY', 'No YubiKey was found.', {
      hint: 'Plug in the YubiKey. If it is plugged in, check USB permissions (the libyubikey-udev rules) and that no other program holds it.',
    });
  }
  return new HardkmsError(
    'GATE_NO_YUBIKEY',
    `The YubiKey ${credential.label} (serial ${credential.serial}) is not connected.`,
    {
      hint: 'Plug in that YubiKey. If it is plugged in, check USB permissions (the libyubikey-udev rules) and that no other program holds it.',
    },
  );
}

export function slotNotProgrammed(credential: CredentialRef | undefined, message: string): HardkmsError {
  const slot = credential?.slot ?? 2;
  return new HardkmsError('GATE_SLOT_NOT_PROGRAMMED', message, {
    hint: `Use the slot you enrolled. A new key is programmed with \`ykman otp chalresp --touch --generate ${slot}\` before enrolling; reprogramming an enrolled key's slot makes it useless to this vault.`,
  });
}

export function timeoutError(credential: CredentialRef, timeoutMs: number): HardkmsError {
  return new HardkmsError(
    'GATE_TIMEOUT',
    `The YubiKey ${credential.label} (serial ${credential.serial}) did not answer within ${Number((timeoutMs / 1000).toFixed(1))} s.`,
    { hint: 'Retry and touch the key when it blinks; raise the touch timeout if operators need longer.' },
  );
}

export function notInstalled(executable: string): HardkmsError {
  const pkg = executable.includes('ykman') ? 'yubikey-manager' : 'yubikey-personalization';
  return new HardkmsError('GATE_DRIVER_FAILED', `The YubiKey tool ${executable} is not installed or not on PATH.`, {
    hint: `Install it (Debian/Ubuntu: apt-get install ${pkg}) or choose another driver with --driver.`,
  });
}
