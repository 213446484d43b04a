import { dirname, join } from 'node:path';
import { HardkmsError } from '../../errors.js';
import { assertChallenge, assertSlot, touchMessage } from '../challenge.js';
import { DEFAULT_TOUCH_TIMEOUT_MS, type CredentialRef, type RespondOptions, type YubiKeyDriver } from './driver.js';
import { runTool, toolErrorText, type ToolResult } from './exec.js';
import { parseHexResponse } from '../responses.js';
import { resolveTool } from './tool-path.js';
import { noYubiKey, notInstalled, slotNotProgrammed, timeoutError } from './ykman.js';

/** ykinfo/ykchalresp address keys by index (-n0, -n1, …); we stop looking after this many. */
const MAX_KEYS = 16;
const INFO_TIMEOUT_MS = 10_000;

/**
 * Driver for yubikey-personalization (`ykchalresp`, `ykinfo`). These tools have no
 * serial selector, only a key index (`-n<i>`, "nth key found"), so the driver maps a
 * serial to an index with `ykinfo -n<i> -s -q` first and then runs
 * `ykchalresp -n<i> -<slot> -x <hex>`. A key unplugged and another plugged in between
 * those two calls would be asked instead; its response then fails to open the share
 * (GATE_WRONG_RESPONSE), so the race costs a retry, never a wrong unseal.
 */
export class YkchalrespDriver implements YubiKeyDriver {
  readonly name = 'ykchalresp' as const;

  /** Absolute paths (enrolled); default: resolved on PATH now and checked (enrollment, status). */
  constructor(
    private readonly chalrespTool?: string,
    private readonly ykinfoTool?: string,
  ) {}

  get ykchalresp(): string {
    return this.chalrespTool ?? resolveTool('ykchalresp');
  }

  get ykinfo(): string {
    return this.ykinfoTool ?? (this.chalrespTool ? join(dirname(this.chalrespTool), 'ykinfo') : resolveTool('ykinfo'));
  }

  async listSerials(): Promise<number[]> {
    const serials: number[] = [];
    for (let i = 0; i < MAX_KEYS; i++) {
      const s = await this.serialAt(i);
      if (s === undefined) break;
      serials.push(s);
    }
    return serials;
  }

  async respond(credential: CredentialRef, challenge: Buffer, opts: RespondOptions = {}): Promise<Buffer> {
    assertSlot(credential.slot);
    assertChallenge(challenge);
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TOUCH_TIMEOUT_MS;
    const index = await this.indexOf(credential.serial);
    if (index === undefined) throw noYubiKey(credential);
    if (opts.onTouchInfo) {
      // -N: "abort if the YubiKey is configured to require a key press". An answer here
      // means the slot answers without a touch.
      const probe = await runTool(
        this.ykchalresp,
        [`-n${index}`, `-${credential.slot}`, '-N', '-x', challenge.toString('hex')],
        { timeoutMs },
      );
      probe.stdout.fill(0);
      if (probe.code === 0) opts.onTouchInfo(false);
    }
    opts.onWait?.(touchMessage(credential));
    let r: ToolResult | undefined;
    try {
      r = await runTool(this.ykchalresp, [`-n${index}`, `-${credential.slot}`, '-x', challenge.toString('hex')], {
        timeoutMs,
      });
      if (r.notFound) throw notInstalled(this.ykchalresp);
      if (r.timedOut) throw timeoutError(credential, timeoutMs);
      if (r.code !== 0) {
        const failure = classifyYkchalrespFailure(r.stderr, credential);
        if (failure.code === 'GATE_TIMEOUT' && (await this.slotProgrammed(index, credential.slot)) === false) {
          throw slotNotProgrammed(
            credential,
            `The YubiKey ${credential.label} (serial ${credential.serial}) has nothing programmed in slot ${credential.slot}.`,
          );
        }
        throw failure;
      }
      return parseHexResponse(r.stdout, 'ykchalresp');
    } finally {
      r?.stdout.fill(0);
    }
  }

  private async indexOf(serial: number): Promise<number | undefined> {
    for (let i = 0; i < MAX_KEYS; i++) {
      const s = await this.serialAt(i);
      if (s === undefined) return undefined;
      if (s === serial) return i;
    }
    return undefined;
  }

  /** Serial of the i-th key, or undefined when there is no i-th key. */
  private async serialAt(index: number): Promise<number | undefined> {
    const r = await runTool(this.ykinfo, [`-n${index}`, '-s', '-q'], { timeoutMs: INFO_TIMEOUT_MS });
    if (r.notFound) throw notInstalled(this.ykinfo);
    if (r.timedOut)
      throw new HardkmsError('GATE_DRIVER_FAILED', 'ykinfo did not finish in time.', {
        hint: 'Unplug and re-insert the YubiKeys, then retry.',
      });
    if (r.code !== 0) {
      const e = classifyYkchalrespFailure(r.stderr, undefined);
      if (e.code === 'GATE_NO_YUBIKEY') return undefined;
      throw e;
    }
    return parseYkinfoNumber(r.stdout.toString('latin1'), 'serial');
  }

  private async slotProgrammed(index: number, slot: 1 | 2): Promise<boolean | undefined> {
    const r = await runTool(this.ykinfo, [`-n${index}`, `-${slot}`, '-q'], { timeoutMs: INFO_TIMEOUT_MS });
    if (r.code !== 0 || r.timedOut) return undefined;
    try {
      return parseYkinfoNumber(r.stdout.toString('latin1'), `slot${slot}_status`) === 1;
    } catch {
      return undefined;
    }
  }
}

/**
 * Parses one ykinfo value: `-q` prints the bare number ("1234567\n"), without it
 * ykinfo prefixes the field name ("serial: 1234567\n", "slot2_status: 1\n").
 */
export function parseYkinfoNumber(stdout: string, field: string): number {
  const line =
    stdout
      .split(/\r?\n/)
      .map((l) => l.trim())
      .find((l) => l !== '') ?? '';
  const m = new RegExp(`^(?:${field}:\\s*)?(\\d{1,10})$`).exec(line);
  if (!m) {
    throw new HardkmsError('GATE_DRIVER_FAILED', `ykinfo printed "${line.slice(0, 80)}" where ${field} was expected.`, {
      hint: 'Run `ykinfo -a` by hand; the yubikey-personalization version may be unsupported.',
    });
  }
  return Number(m[1]);
}

/**
 * Maps ykchalresp/ykinfo stderr (exit code 1) to a gate error. libykpers prints
 * "Yubikey core error: <text>" or "USB error: <text>"; seen texts:
 *   "no yubikey present"   no key (or no key at that index)
 *   "timeout"              no touch in time, or an unprogrammed slot (the caller tells them apart with ykinfo)
 */
export function classifyYkchalrespFailure(stderr: string, credential: CredentialRef | undefined): HardkmsError {
  if (/Yubikey core error: no yubikey present/i.test(stderr)) return noYubiKey(credential);
  const who = credential ? `The YubiKey ${credential.label} (serial ${credential.serial})` : 'The YubiKey';
  if (/Yubikey core error: timeout/i.test(stderr)) {
    return new HardkmsError(
      'GATE_TIMEOUT',
      `${who} did not answer in time (not touched, or the slot is not set up for challenge-response).`,
      {
        hint: 'Retry and touch the key when it blinks; check the slot with `ykinfo -a`.',
      },
    );
  }
  if (/USB error/i.test(stderr)) {
    return new HardkmsError('GATE_DRIVER_FAILED', `${who} could not be opened: ${toolErrorText(stderr)}`, {
      hint: 'Check USB permissions (install libyubikey-udev, re-plug the key) and that no other program holds it.',
    });
  }
  return new HardkmsError('GATE_DRIVER_FAILED', `ykchalresp failed: ${toolErrorText(stderr)}`, {
    hint: 'Run `ykinfo -a` and `ykchalresp -2 -x 01` by hand to see what is wrong.',
  });
}
