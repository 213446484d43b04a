/**
 * EVM payload gaps (nonce, gas limit, gas price / EIP-1559 fees) filled from the
 * operator's own node, `HARDKMS_RPC_<CHAIN>`. Tatum KMS fills them from Tatum's RPC and
 * treats nonce 0 as missing (§7.16); here a nonce of 0 is a nonce, values the payload
 * carries are never replaced, and without a node a gap is an error, not a guess.
 *
 * The chain id is pinned (chain-ids.ts). The node's own eth_chainId is checked against
 * the pin once, before the first value is taken from it: a node of another network must
 * not supply nonces or fees.
 */
import { HardkmsError } from '../errors.js';
import { parseEvmPayload, type EvmFields, type EvmFill } from '../chains/evm/payload.js';
import type { EvmRpc } from './node-rpc.js';

export interface EvmFiller {
  chainId(chain: string): bigint;
  /** Values for the fields the payload lacks; {} when it lacks none. */
  fill(chain: string, payload: string, from: string): Promise<EvmFill>;
}

export function missingEvmFields(f: EvmFields): string[] {
  const missing: string[] = [];
  if (f.nonce === undefined) missing.push('nonce');
  if (f.gasLimit === undefined) missing.push('gas');
  if (f.type === 0 && f.gasPrice === undefined) missing.push('gasPrice');
  if (f.type === 2 && f.maxFeePerGas === undefined) missing.push('maxFeePerGas');
  if (f.type === 2 && f.maxPriorityFeePerGas === undefined) missing.push('maxPriorityFeePerGas');
  return missing;
}

export class NodeEvmFiller implements EvmFiller {
  private readonly checked = new Map<string, Promise<void>>();

  constructor(
    private readonly chainIds: (chain: string) => bigint,
    private readonly nodes: ReadonlyMap<string, EvmRpc>,
  ) {}

  chainId(chain: string): bigint {
    return this.chainIds(chain);
  }

  async fill(chain: string, payload: string, from: string): Promise<EvmFill> {
    const chainId = this.chainIds(chain);
    const f = parseEvmPayload(payload, { chain, chainId });
    const missing = missingEvmFields(f);
    if (missing.length === 0) return {};
    const rpc = this.nodes.get(chain);
    if (rpc === undefined) {
      throw new HardkmsError('TX_PAYLOAD_INCOMPLETE', `${chain} payload: missing ${missing.join(', ')} and HARDKMS_RPC_${chain} is not set to fill them`, {
        hint: `Set HARDKMS_RPC_${chain} to a node of your own, or have the payload carry every field.`,
      });
    }
    await this.checkNode(chain, chainId, rpc);
    const fill: EvmFill = {};
    if (f.nonce === undefined) fill.nonce = await rpc.getTransactionCount(from, 'pending');
    if (f.gasLimit === undefined) {
      fill.gasLimit = await rpc.estimateGas({ from, ...(f.to === null ? {} : { to: f.to }), value: f.value, ...(f.data === '0x' ? {} : { data: f.data }) });
    }
    if (f.type === 0 && f.gasPrice === undefined) fill.gasPrice = await rpc.gasPrice();
    if (f.type === 2) {
      const prio = f.maxPriorityFeePerGas ?? (await rpc.maxPriorityFeePerGas());
      if (f.maxPriorityFeePerGas === undefined) fill.maxPriorityFeePerGas = prio;
      if (f.maxFeePerGas === undefined) {
        const base = await rpc.latestBaseFee();
        if (base === undefined) throw new HardkmsError('TX_PAYLOAD_INCOMPLETE', `${chain}: the node has no base fee (pre-London); cannot fill maxFeePerGas`);
        fill.maxFeePerGas = base * 2n + prio;
      }
    }
    return fill;
  }

  private checkNode(chain: string, pinned: bigint, rpc: EvmRpc): Promise<void> {
    let p = this.checked.get(chain);
    if (p === undefined) {
      p = rpc.chainId().then((id) => {
        if (id !== pinned) {
          throw new HardkmsError('DAEMON_NODE_WRONG_CHAIN', `HARDKMS_RPC_${chain} answers chain id ${id}, but ${chain} is pinned to ${pinned}`, {
            hint: `Point HARDKMS_RPC_${chain} at a node of the right network, or set HARDKMS_CHAIN_ID_${chain} if the pin is what is wrong.`,
          });
        }
      });
      // Not cached on failure: a node that was down is asked again next time.
      p.catch(() => this.checked.delete(chain));
      this.checked.set(chain, p);
    }
    return p;
  }
}
