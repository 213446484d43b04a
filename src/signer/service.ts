import { HardkmsError } from '../errors.js';
import type { SealRecord } from '../vault/secret.js';

/**
 * The daemon's rules about when it may sign mainnet transactions, in-process and testable;
 * signer/daemon-runtime.ts composes the daemon; cli/daemon.ts only parses flags and prints.
 */

export const MAINNET_OVERRIDE_FLAG = '--i-understand-mainnet-without-approval';
export const INSECURE_HTTP_FLAG = '--allow-insecure-http';
export const UNAUTHENTICATED_APPROVER_FLAG = '--allow-unauthenticated-approver';

interface MainnetGuardInput {
  testnet: boolean;
  testnetOnly: boolean;
  seal: SealRecord;
  externalUrl: string | undefined;
  /** --i-understand-mainnet-without-approval */
  override: boolean;
}

/**
 * Reasons a mainnet daemon runs below the standard. Reasons an operator may accept at run
 * time (no approver, password seal) are returned; the gate's own weaknesses (emulated
 * keys, one operator) are accepted only by the flags given at init, which live in the
 * authenticated seal record, so no run-time flag and no edit of wallet.dat accepts them.
 */
export function mainnetReasons(input: MainnetGuardInput): string[] {
  if (input.testnet) return [];
  if (input.testnetOnly) {
    throw new HardkmsError('DAEMON_MAINNET_REFUSED', 'This vault is testnet-only; it holds no mainnet wallet.', {
      hint: 'Run the daemon with --testnet.',
    });
  }
  const gate = gateWeaknesses(input.seal);
  if (gate.length > 0) {
    throw new HardkmsError('DAEMON_MAINNET_REFUSED', `Refusing to sign mainnet transactions: ${gate.join('; ')}.`, {
      hint: 'Enroll real YubiKeys and a threshold of at least 2 (hardkms enroll / rotate), or re-create the vault with the init flags that accept this, which are audited.',
    });
  }
  const reasons: string[] = [];
  if (input.externalUrl === undefined) reasons.push('no four-eyes approver (--externalUrl)');
  if (input.seal.provider === 'password') reasons.push('the vault is sealed by a password, not a YubiKey gate');
  if (reasons.length > 0 && !input.override) {
    throw new HardkmsError('DAEMON_MAINNET_REFUSED', `Refusing to sign mainnet transactions: ${reasons.join('; ')}.`, {
      hint: `Configure --externalUrl and a YubiKey gate (hardkms init --yubikeys), or pass ${MAINNET_OVERRIDE_FLAG} to accept the risk (audited).`,
    });
  }
  return reasons;
}

interface GateView {
  provider: string;
  driver?: unknown;
  threshold?: unknown;
  allowEmulated?: unknown;
  allowSingleOperator?: unknown;
  credentials?: Array<{ driver?: unknown }>;
}

/**
 * Read conservatively: before the unseal the record is not yet authenticated, so anything
 * missing or odd counts as weak; after the unseal (the meta MAC covers the seal) the same
 * check runs again on the authenticated record.
 */
export function gateWeaknesses(seal: SealRecord): string[] {
  const g = seal as GateView;
  if (g.provider !== 'yubikey') return [];
  const out: string[] = [];
  const creds = Array.isArray(g.credentials) ? g.credentials : [];
  const emulated = g.driver === 'emulator' || creds.some((c) => c.driver === 'emulator') || creds.length === 0;
  if (emulated && g.allowEmulated !== true)
    out.push('the YubiKey gate uses emulated keys, and init did not accept that for mainnet');
  const threshold = typeof g.threshold === 'number' ? g.threshold : 1;
  if (threshold < 2 && g.allowSingleOperator !== true)
    out.push(
      `the YubiKey gate opens with ${threshold} of ${creds.length} keys (one operator), and init did not accept that for mainnet`,
    );
  return out;
}

interface Endpoint {
  what: string;
  url: string;
}

/**
 * On mainnet every endpoint the daemon trusts (the Tatum API, the approver, the nodes) must
 * be https, unless --allow-insecure-http (then audited, and named in every record of the run).
 */
export function checkTransport(
  testnet: boolean,
  allowInsecureHttp: boolean,
  endpoints: readonly Endpoint[],
): Endpoint[] {
  const insecure = endpoints.filter((e) => {
    try {
      return new URL(e.url).protocol !== 'https:';
    } catch {
      return true;
    }
  });
  if (testnet || insecure.length === 0) return insecure;
  if (!allowInsecureHttp) {
    throw new HardkmsError(
      'DAEMON_INSECURE_TRANSPORT',
      `Refusing plain http on mainnet: ${insecure.map((e) => `${e.what} ${e.url}`).join('; ')}.`,
      {
        hint: `Use https URLs, or pass ${INSECURE_HTTP_FLAG} (audited; for a node on this host only).`,
      },
    );
  }
  return insecure;
}
