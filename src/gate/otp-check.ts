import { HardkmsError, isHardkmsError } from '../errors.js';
import { missingRow, OtpStore, otpPolicyOf, type OtpPolicy } from '../vault/otp-store.js';
import type { Vault } from '../vault/vault.js';
import { parseOtp, verifyOtp } from './otp.js';

/**
 * The Yubico OTP second factor as a rule of the vault, not of the CLI: which commands
 * need an OTP, and the check itself (token AES-ECB decrypt, keyed private-id hash,
 * counters persisted before the command acts).
 */

/** Commands that print a secret: they need the OTP (where the vault has one) or every operator's confirmation. */
const SECRET_COMMANDS: ReadonlySet<string> = new Set(['getmanagedwallet', 'getprivatekey', 'export']);
/**
 * Commands that need an OTP when an OTP key is enrolled: the secret ones, dropping the
 * second factor, and recovery (which re-enrolls the keys: it must not be the way round the OTP).
 */
export const OTP_COMMANDS: ReadonlySet<string> = new Set([...SECRET_COMMANDS, 'otp remove', 'recover']);

export function revealsSecret(command: string): boolean {
  return SECRET_COMMANDS.has(command);
}

/** Whether `command` needs an OTP on a vault with this policy (none: never). */
export function otpRequired(policy: OtpPolicy | undefined, command: string): boolean {
  if (!policy) return false;
  return policy.atUnseal || OTP_COMMANDS.has(command);
}

interface OtpEnforcement {
  /** The command being run, as typed ("export", "otp remove", "recover"). */
  command: string;
  /** The --otp value, if any. */
  given?: string | undefined;
  /** Asks for an OTP when none was given (a terminal prompt); undefined/'' when it cannot. */
  ask?: () => Promise<string | undefined>;
  /** Told when --otp was given to a vault without OTP keys. */
  onIgnored?: () => void;
}

/**
 * Runs right after an unseal. Returns 'otp' when an OTP was verified, 'none' when the
 * vault needs none for this command. Refuses (audited) when one is needed and missing.
 */
export async function enforceOtp(vault: Vault, e: OtpEnforcement): Promise<'otp' | 'none'> {
  const policy = otpPolicyOf(vault.sealRecord());
  if (!policy) {
    if (e.given !== undefined) e.onIgnored?.();
    return 'none';
  }
  if (!otpRequired(policy, e.command) && e.given === undefined) return 'none';
  const otp = e.given ?? (e.ask ? await e.ask() : undefined);
  if (!otp) {
    vault.record({
      event: 'otp.verify',
      subject: e.command,
      result: 'denied',
      details: { command: e.command, error: 'OTP_REQUIRED' },
    });
    throw otpRequiredError(e.command, policy);
  }
  await checkOtp(vault, otp, policy, e.command);
  return 'otp';
}

export function otpRequiredError(command: string, policy: OtpPolicy): HardkmsError {
  return new HardkmsError(
    'OTP_REQUIRED',
    `\`hardkms ${command}\` needs a Yubico OTP on this vault${policy.atUnseal ? ' (required at every unseal)' : ''}.`,
    {
      hint: 'Add --otp and touch an enrolled YubiKey with the cursor right after it (the key types the OTP).',
    },
  );
}

function wrongKeyError(publicId: string, policy: OtpPolicy): HardkmsError {
  return new HardkmsError(
    'OTP_WRONG_KEY',
    `The OTP comes from the YubiKey "${publicId}", which is not enrolled for OTP in this vault.`,
    {
      hint: `Touch one of the enrolled keys: ${policy.keys.join(', ')}.`,
    },
  );
}

async function checkOtp(vault: Vault, otp: string, policy: OtpPolicy, command: string): Promise<void> {
  let publicId = 'unknown';
  try {
    const parsed = parseOtp(otp);
    publicId = parsed.publicId || '(none)';
    if (!policy.keys.includes(parsed.publicId)) throw wrongKeyError(publicId, policy);
    const store = new OtpStore(vault.store);
    const cred = store.get(parsed.publicId);
    if (!cred) throw missingRow(parsed.publicId);
    const decrypt = (block: Buffer): Buffer => vault.token.aesEcbDecrypt(cred.keyId, block);
    // Only a keyed hash of the private id is stored: decrypt once to learn the candidate,
    // compare hashes, then let verifyOtp run every check (CRC first) on it.
    const plain = decrypt(parsed.token);
    const candidate = Buffer.from(plain.subarray(0, 6));
    plain.fill(0);
    if (!store.privateIdMatches(cred, candidate)) candidate[0] = candidate[0]! ^ 0xff;
    try {
      const last =
        cred.useCounter < 0 ? undefined : { useCounter: cred.useCounter, sessionCounter: cred.sessionCounter };
      const v = await verifyOtp(otp, { publicId: parsed.publicId, privateId: candidate, decrypt, last });
      // Persisted before the command acts on the OTP: a crash afterwards cannot allow a replay.
      store.advance(parsed.publicId, v);
      vault.record({
        event: 'otp.verify',
        subject: parsed.publicId,
        result: 'ok',
        details: { command, label: cred.label, useCounter: v.useCounter, sessionCounter: v.sessionCounter },
      });
    } finally {
      candidate.fill(0);
    }
  } catch (e) {
    vault.record({
      event: 'otp.verify',
      subject: publicId,
      result: 'fail',
      details: { command, error: isHardkmsError(e) ? e.code : 'INTERNAL' },
    });
    throw e;
  }
}
