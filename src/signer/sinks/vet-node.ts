/**
 * The VeChain node the daemon asks what Tatum KMS's thorify asks (spec §2.10): the best
 * block (for blockRef) and a clause simulation (for the gas estimate). Tatum uses the public
 * nodes sync-mainnet/sync-testnet.vechain.org, not the Tatum API; HARDKMS_RPC_VET points
 * hardkms at another node (VeChain's REST API, not JSON-RPC).
 */
import { HardkmsError } from '../../errors.js';
import type { VetClause } from '../../chains/vet/sign.js';
import { HttpClient, redactUrl } from '../http.js';

export const VET_PUBLIC_NODES = {
  mainnet: 'https://sync-mainnet.vechain.org',
  testnet: 'https://sync-testnet.vechain.org',
} as const;

/** Tatum's (thorify's) estimate adds this to the VM's gas when a clause runs code. */
const VM_GAS_MARGIN = 15_000n;

export interface VetNode {
  /** First 8 bytes of the best block's id, 0x-hex. */
  blockRef(): Promise<string>;
  /** Intrinsic gas + (gas the VM used ? that + 15000 : 0), as thorify estimates. */
  estimateGas(clause: VetClause, caller: string): Promise<bigint>;
}

function nodeError(url: string, what: string): HardkmsError {
  return new HardkmsError('DAEMON_NODE_FAILED', `The VeChain node ${redactUrl(url)} ${what}.`, {
    hint: 'Check HARDKMS_RPC_VET (a VeChain REST node of the daemon’s network) or the public node’s status.',
  });
}

export class ThorRestNode implements VetNode {
  private readonly base: string;

  constructor(
    url: string,
    private readonly http: HttpClient = new HttpClient(),
  ) {
    this.base = url.replace(/\/+$/, '');
  }

  async blockRef(): Promise<string> {
    const r = await this.http.requestJson({ method: 'GET', url: `${this.base}/blocks/best` });
    const id = (r.json as { id?: unknown } | null)?.id;
    if (typeof id !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(id))
      throw nodeError(this.base, 'answered /blocks/best without a block id');
    return id.slice(0, 18).toLowerCase();
  }

  async estimateGas(clause: VetClause, caller: string): Promise<bigint> {
    const r = await this.http.requestJson({
      method: 'POST',
      url: `${this.base}/accounts/*`,
      json: { clauses: [{ to: clause.to, value: `0x${clause.value.toString(16)}`, data: clause.data }], caller },
    });
    const out = r.json;
    if (!Array.isArray(out) || out.length !== 1)
      throw nodeError(this.base, 'answered the simulation with something other than one clause result');
    const res = out[0] as { gasUsed?: unknown; reverted?: unknown; vmError?: unknown };
    if (res.reverted === true) {
      throw new HardkmsError(
        'TX_WOULD_REVERT',
        `VET payload: the node's simulation reverts (${typeof res.vmError === 'string' ? res.vmError.slice(0, 80) : 'no reason'}); not signed`,
        {
          hint: 'The transaction would fail on chain (balance, token, contract state); fix it at its origin.',
        },
      );
    }
    if (typeof res.gasUsed !== 'number' || !Number.isSafeInteger(res.gasUsed) || res.gasUsed < 0)
      throw nodeError(this.base, 'answered a simulation without gasUsed');
    const used = BigInt(res.gasUsed);
    // The VeChain module (thor-devkit) on first use, not with every daemon.
    const { vetIntrinsicGas } = await import('../../chains/vet/sign.js');
    return vetIntrinsicGas(clause) + (used > 0n ? used + VM_GAS_MARGIN : 0n);
  }
}
