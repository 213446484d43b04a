import { expecting, jsonObject, v } from '../validate.js';
import type { SealRecord } from './secret.js';

/**
 * What the operators explicitly allowed at init for a mainnet vault. Recorded in the
 * authenticated meta (gate_policy), so that editing wallet.dat cannot grant it later. The
 * refusals themselves are where the gate is used: the YubiKey provider refuses emulated
 * keys and a 1-of-N threshold on mainnet unless the seal allows them, and the daemon's
 * mainnet rules (signer/service.ts) refuse a password seal and a weak gate.
 */
export interface GatePolicy {
  /** Whether the policy was recorded at init (false: a vault created before it existed). */
  recorded: boolean;
  /** `init --allow-password-mainnet`: a password-sealed vault may hold mainnet wallets. */
  passwordOnMainnet: boolean;
  /** `init --allow-emulated-yubikey`: emulated YubiKeys count on mainnet. */
  emulatedOnMainnet: boolean;
  /** `init --allow-single-operator`: a 1-of-N gate may open a mainnet vault. */
  singleOperatorOnMainnet: boolean;
}

export type GatePolicyFlags = Omit<GatePolicy, 'recorded'>;

/** The flags as recorded: each one set only by an explicit true. */
export function gatePolicyFlags(flags: Partial<GatePolicyFlags>): GatePolicyFlags {
  return {
    passwordOnMainnet: flags.passwordOnMainnet === true,
    emulatedOnMainnet: flags.emulatedOnMainnet === true,
    singleOperatorOnMainnet: flags.singleOperatorOnMainnet === true,
  };
}

export function encodeGatePolicy(flags: Partial<GatePolicyFlags>): string {
  return JSON.stringify(gatePolicyFlags(flags));
}

/** The gate_policy meta record, as encodeGatePolicy writes it. */
export const gatePolicyRecord: v.GenericSchema<unknown, GatePolicyFlags> = jsonObject({
  passwordOnMainnet: v.boolean(expecting('true or false')),
  emulatedOnMainnet: v.boolean(expecting('true or false')),
  singleOperatorOnMainnet: v.boolean(expecting('true or false')),
});

/**
 * The policy of a vault. Vaults from before the policy existed: the YubiKey flags are taken
 * from the seal record (they were explicit init flags then, and the seal is authenticated);
 * a password on mainnet was never asked for explicitly, so it is not allowed.
 */
export function decodeGatePolicy(recorded: GatePolicyFlags | undefined, seal: SealRecord): GatePolicy {
  if (recorded === undefined) {
    return {
      recorded: false,
      passwordOnMainnet: false,
      emulatedOnMainnet: seal.allowEmulated === true,
      singleOperatorOnMainnet: seal.allowSingleOperator === true,
    };
  }
  return { recorded: true, ...recorded };
}
