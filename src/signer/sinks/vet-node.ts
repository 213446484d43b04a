/**
 * The VeChain node the daemon asks what Tatum KMS's thorify asks (spec §2.10): the best
 * block (for blockRef) and a clause simulation (for the gas estimate). Tatum uses the public
 * nodes sync-mainnet/sync-testnet.vechain.org, not the Tatum API; HARDKMS_RPC_VET points
 * hardkms at another node (VeChain's REST API, not JSON-RPC).
 */
import { HardkmsError } from '../../errors.js';
import type { VetClause } from '../../chains/vet/sign.js';
import { HttpClient, redactUrl } from '../http.js';
import { check, v } from '../../validate.js';

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

/** GET /blocks/best: the block id (its first 8 bytes are a transaction's blockRef). */
const bestBlock = v.looseObject({ id: v.pipe(v.string(), v.regex(/^0x[0-9a-fA-F]{64}$/)) });

/**
 * POST /accounts/*: one result per clause, one clause sent. A reverted clause is judged before
 * its gasUsed (a revert is the answer, whatever the gas), so gasUsed is checked on its own.
 */
const simulation = v.strictTuple([
  v.looseObject({
    reverted: v.optional(v.unknown()),
    vmError: v.optional(v.unknown()),
    gasUsed: v.optional(v.unknown()),
  }),
]);
const gasUsed = v.pipe(v.number(), v.safeInteger(), v.minValue(0));

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
    const r = check(bestBlock, (await this.http.requestJson({ method: 'GET', url: `${this.base}/blocks/best` })).json);
    if (!r.ok) throw nodeError(this.base, 'answered /blocks/best without a block id');
    return r.value.id.slice(0, 18).toLowerCase();
  }

  async estimateGas(clause: VetClause, caller: string): Promise<bigint> {
    const r = await this.http.requestJson({
      method: 'POST',
      url: `${this.base}/accounts/*`,
      json: { clauses: [{ to: clause.to, value: `0x${clause.value.toString(16)}`, data: clause.data }], caller },
    });
    const sim = check(simulation, r.json);
    if (!sim.ok) throw nodeError(this.base, 'answered the simulation with something other than one clause result');
    const res = sim.value[0];
    if (res.reverted === true) {
      throw new HardkmsError(
        'TX_WOULD_REVERT',
        `VET payload: the node's simulation reverts (${typeof res.vmError === 'string' ? res.vmError.slice(0, 80) : 'no reason'}); not signed`,
        {
          hint: 'The transaction would fail on chain (balance, token, contract state); fix it at its origin.',
        },
      );
    }
    const gas = check(gasUsed, res.gasUsed);
    if (!gas.ok) throw nodeError(this.base, 'answered a simulation without gasUsed');
    const used = BigInt(gas.value);
    // The VeChain module (thor-devkit) on first use, not with every daemon.
    const { vetIntrinsicGas } = await import('../../chains/vet/sign.js');
    return vetIntrinsicGas(clause) + (used > 0n ? used + VM_GAS_MARGIN : 0n);
  }
}
