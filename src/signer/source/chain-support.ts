/**
 * What hardkms does with each chain Tatum KMS knows (spec §1): which chains the daemon
 * signs, which it only polls and reports, and which chains' wallets it keeps for export
 * only. One table, so the daemon, `checkconfig` and `--help` cannot disagree.
 *
 * A chain Tatum polls but hardkms does not sign is still polled: every pending transaction
 * it returns is reported through the error batch (§2.6) with the text below, so it never
 * sits at Tatum pending with no word from the signer (Tatum KMS would have signed it).
 */
import { WALLET_CHAINS } from '../../chains/wallet-chains.js';
import { SIGNABLE_CHAINS, isSignableChain } from '../pipeline/chain-ids.js';
import { TATUM_CHAINS, type TatumChain } from './tatum-paths.js';

type DaemonSupport = 'signed' | 'reported' | 'sunset';

/** Chains that no longer exist: reported as unsupported, never to be signed. */
const SUNSET: ReadonlySet<TatumChain> = new Set<TatumChain>(['BNB']);

const CHAIN_NOT_SIGNED = 'TX_CHAIN_NOT_SIGNED';
const CHAIN_UNSUPPORTED = 'TX_CHAIN_UNSUPPORTED';

export function daemonSupport(chain: TatumChain): DaemonSupport {
  if (isSignableChain(chain)) return 'signed';
  return SUNSET.has(chain) ? 'sunset' : 'reported';
}

/** True when hardkms can generate, store and derive addresses for this chain's wallets. */
function hasManagedWallets(chain: string): boolean {
  return WALLET_CHAINS.includes(chain);
}

/** Tatum chains the daemon polls and reports without signing, in Tatum's order. */
function reportedChains(): TatumChain[] {
  return TATUM_CHAINS.filter((c) => daemonSupport(c) !== 'signed');
}

/** Tatum chains whose wallets import-legacy keeps encrypted for `export` only. */
function exportOnlyChains(): TatumChain[] {
  return TATUM_CHAINS.filter((c) => !hasManagedWallets(c));
}

/** Chains with managed wallets (generate, store, address) that the daemon does not sign yet. */
export function walletOnlyChains(): TatumChain[] {
  return TATUM_CHAINS.filter((c) => hasManagedWallets(c) && !isSignableChain(c));
}

/**
 * The error-batch text (§2.6) for a pending transaction of a chain the daemon does not
 * sign: what happened and what the operator can do.
 */
export function notSignedReport(chain: TatumChain): string {
  if (daemonSupport(chain) === 'sunset') {
    return `${CHAIN_UNSUPPORTED}: ${chain} (BNB Beacon Chain) has been shut down; hardkms does not sign ${chain} transactions. This pending transaction was not signed: cancel it (DELETE /v3/kms/{id}).`;
  }
  const why = NOT_SIGNED_WHY[chain];
  return `${CHAIN_NOT_SIGNED}: hardkms does not sign ${chain} transactions yet${why === undefined ? '' : ` (${why})`} (it signs ${SIGNABLE_CHAINS.join(', ')}). This pending transaction was not signed: sign it elsewhere or cancel it (DELETE /v3/kms/{id}).`;
}

/** Why a polled chain is not signed, where there is more to say than "not yet". */
const NOT_SIGNED_WHY: Partial<Record<TatumChain, string>> = {
  FLOW: "Tatum's SDK builds, signs and submits FLOW transactions itself with proposal keys Tatum manages, a protocol Tatum does not publish",
};

/** Human-readable lines for `checkconfig` and `--help`. */
export function chainSupportLines(): string[] {
  const sunset = TATUM_CHAINS.filter((c) => daemonSupport(c) === 'sunset');
  const reported = reportedChains().filter((c) => daemonSupport(c) === 'reported');
  const walletOnly = walletOnlyChains();
  return [
    `Chains signed by the daemon: ${SIGNABLE_CHAINS.join(', ')}`,
    `Chains polled and reported as not signed (error batch): ${reported.join(', ')}`,
    `Chains reported as unsupported (sunset): ${sunset.join(', ')}`,
    ...(walletOnly.length > 0 ? [`Chains with managed wallets but not signed yet: ${walletOnly.join(', ')}`] : []),
    `Chains whose wallets are kept for export only (import-legacy, export): ${exportOnlyChains().join(', ')}`,
  ];
}
