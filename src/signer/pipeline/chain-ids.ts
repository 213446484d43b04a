/**
 * Which chains the daemon signs, and the EVM chain id it signs for on each chain and net.
 *
 * Chain ids are pinned here, never read from the pending payload or from a node: a payload
 * (or a node) that names another chain id is refused, so a transaction built for one
 * network cannot be signed into a replayable transaction for another (spec §3.5 lists the
 * public constants). `HARDKMS_CHAIN_ID_<CHAIN>` overrides a pin, for private networks and
 * test nodes (Hardhat is 31337).
 */
import { InputError } from '../../errors.js';
import { TATUM_CHAINS, type TatumChain } from '../source/tatum-paths.js';
import { envNameFor, readEnvFor, type EnvSource } from '../../config/env.js';

/** The chains Tatum polls that hardkms does not sign (chain-support.ts says why for each). */
const NOT_SIGNED = ['BNB', 'FLOW'] as const;

/** The chains whose pending transactions hardkms signs, in Tatum's default polling order (taken from it, not restated). */
export const SIGNABLE_CHAINS = TATUM_CHAINS.filter(
  (c): c is Exclude<TatumChain, (typeof NOT_SIGNED)[number]> => !(NOT_SIGNED as readonly string[]).includes(c),
);
type SignableChain = (typeof SIGNABLE_CHAINS)[number];

type EvmSignableChain = 'ETH' | 'BSC' | 'MATIC' | 'CELO' | 'KLAY' | 'ONE' | 'XDC' | 'KCS';

const PINNED: Readonly<Record<EvmSignableChain, { mainnet: bigint; testnet: bigint }>> = Object.freeze({
  ETH: { mainnet: 1n, testnet: 11_155_111n }, // Sepolia
  BSC: { mainnet: 56n, testnet: 97n },
  MATIC: { mainnet: 137n, testnet: 80_002n }, // Amoy
  CELO: { mainnet: 42_220n, testnet: 44_787n }, // Alfajores
  KLAY: { mainnet: 8_217n, testnet: 1_001n }, // Kairos
  ONE: { mainnet: 1_666_600_000n, testnet: 1_666_700_000n },
  XDC: { mainnet: 50n, testnet: 51n }, // Apothem
  KCS: { mainnet: 321n, testnet: 322n },
});

export function isSignableChain(chain: unknown): chain is SignableChain {
  return typeof chain === 'string' && (SIGNABLE_CHAINS as readonly string[]).includes(chain);
}

export function isEvmSignableChain(chain: string): chain is EvmSignableChain {
  return Object.prototype.hasOwnProperty.call(PINNED, chain);
}

/** The chain id signed into every transaction of `chain` on this net, after the env override. */
export function pinnedChainId(chain: EvmSignableChain, testnet: boolean, env?: EnvSource): bigint {
  const name = envNameFor('HARDKMS_CHAIN_ID_', chain);
  const override = readEnvFor('HARDKMS_CHAIN_ID_', chain, env)?.trim();
  if (override !== undefined && override !== '') {
    if (!testnet) {
      // A repointed chain id makes every mainnet signature valid on another chain (or none).
      throw new InputError(
        `${name} is set, but chain id overrides are refused on mainnet.`,
        `Unset ${name}; on mainnet hardkms signs only with the pinned chain id ${PINNED[chain].mainnet}.`,
      );
    }
    if (!/^([1-9][0-9]{0,18}|0x[0-9a-fA-F]{1,16})$/.test(override)) {
      throw new InputError(
        `${name}='${override.slice(0, 24)}' is not a chain id.`,
        'Give a positive decimal number (e.g. 31337) or 0x-hex, or unset it.',
      );
    }
    return BigInt(override);
  }
  const pin = PINNED[chain];
  return testnet ? pin.testnet : pin.mainnet;
}

export interface ChainSelection {
  /** Every chain polled, in the order asked (default: Tatum's list, §1 step 1). */
  polled: TatumChain[];
  /** The polled chains hardkms signs. */
  chains: SignableChain[];
  /** The polled chains hardkms does not sign: their pending transactions are reported (§2.6), not left pending. */
  reported: TatumChain[];
}

/**
 * `--chain A,B` (comma-separated, case-sensitive Tatum codes) or, when absent, Tatum's
 * default list (§1 step 1). Unknown codes are an error. Every Tatum chain asked for is
 * polled, as Tatum KMS polls it; those hardkms does not sign (SOL, XRP, …) are polled so
 * that their pending transactions can be reported instead of sitting at Tatum unanswered.
 */
export function selectChains(flag: string | undefined): ChainSelection {
  const asked: string[] =
    flag === undefined
      ? [...TATUM_CHAINS]
      : flag
          .split(',')
          .map((c) => c.trim())
          .filter((c) => c !== '');
  if (asked.length === 0)
    throw new InputError('--chain lists no chain.', `Give chain codes separated by commas, e.g. --chain ETH,BTC.`);
  const polled: TatumChain[] = [];
  for (const c of asked) {
    if (!(TATUM_CHAINS as readonly string[]).includes(c)) {
      throw new InputError(
        `--chain: '${c.slice(0, 24)}' is not a Tatum chain code.`,
        `Tatum chains (uppercase): ${TATUM_CHAINS.join(', ')}.`,
      );
    }
    if (!polled.includes(c as TatumChain)) polled.push(c as TatumChain);
  }
  return { polled, chains: polled.filter(isSignableChain), reported: polled.filter((c) => !isSignableChain(c)) };
}
