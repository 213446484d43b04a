/**
 * The one interface every YubiKey driver implements. A driver answers an HMAC-SHA1
 * challenge with the 20-byte response of one YubiKey slot; the gate turns that
 * response into key material, so a driver must never log or print it.
 */
export type DriverName = 'ykman' | 'ykchalresp' | 'emulator';

export const DRIVER_NAMES: readonly DriverName[] = ['ykman', 'ykchalresp', 'emulator'];

/** Which physical key and slot to ask; `label` is only for messages. */
export interface CredentialRef {
  serial: number;
  slot: 1 | 2;
  label: string;
}

export interface RespondOptions {
  /** Kill the tool and fail with GATE_TIMEOUT after this long (default 15 s). */
  timeoutMs?: number;
  /** Called once, right before the driver waits for a touch. */
  onWait?: (message: string) => void;
  /**
   * Told whether the slot made the key wait for a touch, where the tool can tell (ykman
   * prints "Touch your YubiKey..." when the key asks for one; ykchalresp -N fails on a
   * touch slot). Asking for it may cost a probe; enrollment asks, unseal does not.
   */
  onTouchInfo?: (touchRequired: boolean) => void;
}

export interface YubiKeyDriver {
  readonly name: DriverName;
  /** Serial numbers of the keys this driver can reach right now (none present: []). */
  listSerials(): Promise<number[]>;
  /** HMAC-SHA1(slot secret, challenge): 20 bytes. The caller wipes the result. */
  respond(credential: CredentialRef, challenge: Buffer, opts?: RespondOptions): Promise<Buffer>;
}

export const DEFAULT_TOUCH_TIMEOUT_MS = 15_000;
export const HMAC_SHA1_RESPONSE_BYTES = 20;

export function isDriverName(value: unknown): value is DriverName {
  return typeof value === 'string' && (DRIVER_NAMES as readonly string[]).includes(value);
}
