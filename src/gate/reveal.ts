import { HardkmsError } from '../errors.js';
import type { Vault } from '../vault/vault.js';
import { revealsSecret } from './otp-check.js';
import { parseYubiKeySealRecord } from './seal-record.js';

/**
 * What let a secret-revealing command (getprivatekey, getmanagedwallet, export) go ahead:
 * the same touches that unseal `getaddress` must not silently also authorise `export`.
 *   otp                    a Yubico OTP was verified (the vault has an OTP key)
 *   operator-confirmation  every operator whose key unsealed typed "yes" to a prompt naming the command
 *   password               a password-sealed vault (no operators to ask; testnet use)
 */
type RevealAuthorisation = { by: 'otp' } | { by: 'operator-confirmation'; operators: string[] } | { by: 'password' };

/** Decides and audits; throws GATE_CONFIRMATION_REQUIRED (audited 'denied') when neither was given. */
export function authoriseReveal(
  vault: Vault,
  command: string,
  otp: 'otp' | 'none',
  confirmed: readonly string[],
): RevealAuthorisation | undefined {
  if (!revealsSecret(command)) return undefined;
  let auth: RevealAuthorisation;
  const seal = vault.sealRecord();
  if (otp === 'otp') auth = { by: 'otp' };
  else if (seal.provider !== 'yubikey') auth = { by: 'password' };
  else {
    const rec = parseYubiKeySealRecord(seal);
    const operators = rec.credentials.filter((c) => confirmed.includes(c.id)).map((c) => c.label);
    if (operators.length < rec.threshold) {
      vault.record({
        event: 'secret.authorised',
        subject: command,
        result: 'denied',
        details: { command, error: 'GATE_CONFIRMATION_REQUIRED', confirmed: operators },
      });
      throw new HardkmsError(
        'GATE_CONFIRMATION_REQUIRED',
        `\`hardkms ${command}\` reveals secrets: it needs a Yubico OTP or the confirmation of each of the ${rec.threshold} operators who unseal (${operators.length} confirmed).`,
        {
          hint: 'Run it in a terminal and have each operator type "yes" at their prompt before touching, or enroll an OTP key (`hardkms otp add`) and pass --otp.',
        },
      );
    }
    auth = { by: 'operator-confirmation', operators };
  }
  vault.record({ event: 'secret.authorised', subject: command, result: 'ok', details: { command, ...auth } });
  return auth;
}
