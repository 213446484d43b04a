/**
 * Where a signed transaction goes: the Tatum API (§2.4, or §2.5 for off-chain
 * withdrawals), or, with `--broadcast node`, the operator's own node for the chain
 * (`HARDKMS_RPC_<CHAIN>`), after which the pending transaction is marked complete at
 * Tatum (§2.7). Off-chain withdrawals always go through §2.5: only Tatum's ledger can
 * complete the withdrawal.
 *
 * Re-sending the same raw transaction is safe, and after a crash it is what happens: a
 * node that already has it answers "already known", which counts as success with the
 * transaction's own id.
 */
import { Transaction as BtcTransaction } from 'bitcoinjs-lib';
import { keccak256 } from 'ethers';
import { HardkmsError } from '../errors.js';
import { usesOffchainBroadcast, type TatumChain } from './chains-api.js';
import { EvmRpc, isAlreadyKnownError, UtxoRpc } from './node-rpc.js';
import type { PendingTransaction } from './pending.js';
import type { TatumClient } from './tatum-client.js';

export interface BroadcastOutcome {
  txId: string;
  /** How it was sent, for logs and audit. */
  via: 'tatum' | 'tatum-withdrawal' | 'node';
  /** §2.5: false when the ledger withdrawal must be completed by hand. */
  completed?: boolean;
}

export interface Broadcaster {
  send(pending: PendingTransaction, rawTx: string): Promise<BroadcastOutcome>;
  /** For a pending tx journaled as broadcast that the API still lists: finish what is left (node mode: complete it at Tatum). */
  settle?(pending: PendingTransaction, txId: string): Promise<void>;
}

export class TatumBroadcaster implements Broadcaster {
  constructor(private readonly tatum: TatumClient) {}

  async send(pending: PendingTransaction, rawTx: string): Promise<BroadcastOutcome> {
    if (usesOffchainBroadcast(pending)) {
      const r = await this.tatum.broadcastWithdrawal({ currency: pending.chain, txData: rawTx, withdrawalId: pending.withdrawalId!, signatureId: pending.id });
      return { txId: r.txId, via: 'tatum-withdrawal', completed: r.completed };
    }
    const r = await this.tatum.broadcast(pending.chain, rawTx, pending.id);
    return { txId: r.txId, via: 'tatum' };
  }
}

export type NodeClient = { kind: 'evm'; rpc: EvmRpc } | { kind: 'utxo'; rpc: UtxoRpc };

/** Node clients for chains whose HARDKMS_RPC_<CHAIN> is set. */
export function nodeClientFor(chain: TatumChain, url: string): NodeClient {
  if (chain === 'BTC' || chain === 'LTC' || chain === 'DOGE' || chain === 'BCH') return { kind: 'utxo', rpc: new UtxoRpc({ url, version: '1.0' }) };
  if (chain === 'TRON') {
    throw new HardkmsError('DAEMON_CONFIG', 'TRON has no JSON-RPC broadcast hardkms speaks; TRON transactions are broadcast through Tatum.', {
      hint: 'Drop TRON from --chain when using --broadcast node, or run a second daemon for TRON with --broadcast tatum.',
    });
  }
  return { kind: 'evm', rpc: new EvmRpc({ url }) };
}

export class NodeBroadcaster implements Broadcaster {
  private readonly viaTatum: TatumBroadcaster;

  constructor(
    private readonly nodes: ReadonlyMap<string, NodeClient>,
    private readonly tatum: TatumClient,
  ) {
    this.viaTatum = new TatumBroadcaster(tatum);
  }

  async send(pending: PendingTransaction, rawTx: string): Promise<BroadcastOutcome> {
    if (usesOffchainBroadcast(pending)) return this.viaTatum.send(pending, rawTx);
    const node = this.nodes.get(pending.chain);
    if (node === undefined) {
      throw new HardkmsError('DAEMON_CONFIG', `--broadcast node, but HARDKMS_RPC_${pending.chain} is not set`, { hint: `Set HARDKMS_RPC_${pending.chain}.` });
    }
    let txId: string;
    try {
      txId = await node.rpc.sendRawTransaction(rawTx);
    } catch (e) {
      if (!isAlreadyKnownError(e)) throw e;
      txId = node.kind === 'evm' ? keccak256(rawTx) : BtcTransaction.fromHex(rawTx).getId();
    }
    await this.settle(pending, txId);
    return { txId, via: 'node' };
  }

  async settle(pending: PendingTransaction, txId: string): Promise<void> {
    if (usesOffchainBroadcast(pending)) return;
    await this.tatum.complete(pending.id, txId);
  }
}
