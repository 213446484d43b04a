import { HardkmsError } from '../errors.js';
import { expecting, jsonObject, v } from '../validate.js';
import type { SealRecord } from './secret.js';

/**
 * What the operators explicitly allowed at init for a mainnet vault. Recorded in the
 * authenticated meta (gate_policy), so that editing wallet.dat cannot grant it later; the
 * daemon (and anything else that acts on mainnet) asks mainnetGateProblem() and refuses.
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
    const s = seal as { allowEmulated?: unknown; allowSingleOperator?: unknown };
    return {
      recorded: false,
      passwordOnMainnet: false,
      emulatedOnMainnet: s.allowEmulated === true,
      singleOperatorOnMainnet: s.allowSingleOperator === true,
    };
  }
  return { recorded: true, ...recorded };
}

/**
 * Why this vault's gate is not good enough for mainnet, or undefined. Checks the seal the
 * vault has NOW (an emulated key enrolled later counts too) against the recorded policy.
 * The caller decides whether mainnet is involved (a testnet-only vault never is).
 */
export function mainnetGateProblem(seal: SealRecord, policy: GatePolicy): HardkmsError | undefined {
  if (seal.provider === 'password') {
    if (policy.passwordOnMainnet) return undefined;
    return new HardkmsError(
      'GATE_MAINNET_PASSWORD',
      'This vault is sealed by a password only, which is not allowed on mainnet.',
      {
        hint: 'Create a mainnet vault with a YubiKey gate (hardkms init --yubikeys N --threshold M), or, knowingly, with `init --allow-password-mainnet`.',
      },
    );
  }
  if (seal.provider === 'yubikey') {
    const s = seal as { threshold?: unknown; credentials?: Array<{ driver?: unknown }> };
    if (s.threshold === 1 && !policy.singleOperatorOnMainnet) {
      return new HardkmsError(
        'GATE_MAINNET_SINGLE_OPERATOR',
        'This vault opens with one YubiKey (threshold 1), which was not allowed for mainnet at init.',
        {
          hint: 'Raise the threshold (hardkms enroll / revoke --threshold M), or create the vault with `init --allow-single-operator`.',
        },
      );
    }
    if ((s.credentials ?? []).some((c) => c.driver === 'emulator') && !policy.emulatedOnMainnet) {
      return new HardkmsError(
        'GATE_MAINNET_EMULATED',
        'This vault has an emulated YubiKey enrolled, which was not allowed for mainnet at init.',
        {
          hint: 'Revoke the emulated keys and enroll real ones, or create the vault with `init --allow-emulated-yubikey` (demos only).',
        },
      );
    }
  }
  return undefined;
}
