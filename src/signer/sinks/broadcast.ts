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
import { HardkmsError } from '../../errors.js';
import { SolanaRpc } from './sol-rpc.js';
import { usesOffchainBroadcast, type TatumChain } from '../source/tatum-paths.js';
import { EvmRpc, isAlreadyKnownError, UtxoRpc } from './node-rpc.js';
import type { PendingTransaction } from '../source/pending.js';
import type { PendingCompletion, TatumClient } from '../source/tatum-client.js';

interface BroadcastOutcome {
  txId: string;
  /** How it was sent, for logs and audit. */
  via: 'tatum' | 'tatum-withdrawal' | 'node';
  /** §2.5: false when the ledger withdrawal must be completed by hand. */
  completed?: boolean;
  /** The API accepted the transaction but its answer lacked something (txId, completed): logged at warn. */
  warning?: string;
}

export interface Broadcaster {
  send(pending: PendingTransaction, rawTx: string): Promise<BroadcastOutcome>;
  /** For a pending tx journaled as broadcast that the API still lists: finish what is left (node mode: complete it at Tatum). */
  settle?(pending: PendingTransaction, txId: string): Promise<void>;
  /**
   * Asked before a journaled transaction is sent again: whether Tatum already completed the
   * pending transaction (a signer killed after Tatum accepted its broadcast, before its
   * journal recorded it). Throws when Tatum could not be asked.
   */
  completion?(pending: PendingTransaction): Promise<PendingCompletion>;
}

export class TatumBroadcaster implements Broadcaster {
  /** `sol`: the Solana RPC SOL transactions are submitted through before Tatum is told their signature. */
  constructor(
    private readonly tatum: TatumClient,
    private readonly sol?: SolanaRpc,
  ) {}

  completion(pending: PendingTransaction): Promise<PendingCompletion> {
    return this.tatum.completion(pending.id);
  }

  async send(pending: PendingTransaction, rawTx: string): Promise<BroadcastOutcome> {
    if (pending.chain === 'SOL') return this.sendSol(pending, rawTx);
    const warnings: string[] = [];
    const txIdOf = async (answered: string | undefined): Promise<string> => {
      if (answered !== undefined) return answered;
      warnings.push('the API accepted the broadcast but answered no txId; journaled under the hash computed locally');
      // Loaded only here: it decodes every family's signed form (their libraries are large).
      const { localTxHash } = await import('./local-tx-hash.js');
      return localTxHash(pending.chain, rawTx);
    };
    let out: BroadcastOutcome;
    if (usesOffchainBroadcast(pending)) {
      const r = await this.tatum.broadcastWithdrawal({
        currency: pending.chain,
        txData: rawTx,
        withdrawalId: pending.withdrawalId!,
        signatureId: pending.id,
      });
      out = { txId: await txIdOf(r.txId), via: 'tatum-withdrawal' };
      if (r.completed === undefined)
        warnings.push(
          'the withdrawal answer has no boolean "completed": check in Tatum whether the withdrawal is completed',
        );
      else out.completed = r.completed;
    } else {
      const r = await this.tatum.broadcast(pending.chain, rawTx, pending.id);
      out = { txId: await txIdOf(r.txId), via: 'tatum' };
    }
    if (warnings.length > 0) out.warning = warnings.join('; ');
    return out;
  }

  /**
   * SOL as Tatum KMS does it (chains §2.3): the signer submits the transaction through
   * the SOL RPC, then posts its signature as txData to /v3/solana/broadcast.
   */
  private async sendSol(pending: PendingTransaction, rawTx: string): Promise<BroadcastOutcome> {
    if (this.sol === undefined)
      throw new HardkmsError('DAEMON_CONFIG', 'SOL transactions need a Solana RPC and none is configured', {
        hint: 'Set HARDKMS_RPC_SOL or TATUM_API_URL.',
      });
    const signature = await this.sol.sendTransaction(rawTx);
    const r = await this.tatum.broadcast('SOL', signature, pending.id);
    const out: BroadcastOutcome = { txId: r.txId ?? signature, via: 'tatum' };
    if (r.txId !== undefined && r.txId !== signature)
      out.warning = `Tatum answered txId ${r.txId.slice(0, 90)} for the SOL signature ${signature}`;
    return out;
  }
}

export type NodeClient =
  { kind: 'evm'; rpc: EvmRpc } | { kind: 'utxo'; rpc: UtxoRpc } | { kind: 'sol'; rpc: SolanaRpc };

/** Node clients for chains whose HARDKMS_RPC_<CHAIN> is set. */
export function nodeClientFor(chain: TatumChain, url: string): NodeClient {
  if (chain === 'SOL') return { kind: 'sol', rpc: new SolanaRpc({ url }) };
  if (chain === 'BTC' || chain === 'LTC' || chain === 'DOGE' || chain === 'BCH')
    return { kind: 'utxo', rpc: new UtxoRpc({ url, version: '1.0' }) };
  if (chain === 'TRON' || chain === 'VET' || chain === 'EGLD' || chain === 'ADA') {
    throw new HardkmsError(
      'DAEMON_CONFIG',
      `${chain} has no JSON-RPC broadcast hardkms speaks; ${chain} transactions are broadcast through Tatum.`,
      {
        hint: `Drop ${chain} from --chain when using --broadcast node, or run a second daemon for ${chain} with --broadcast tatum.`,
      },
    );
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
      throw new HardkmsError('DAEMON_CONFIG', `--broadcast node, but HARDKMS_RPC_${pending.chain} is not set`, {
        hint: `Set HARDKMS_RPC_${pending.chain}.`,
      });
    }
    let txId: string;
    if (node.kind === 'sol') {
      txId = await node.rpc.sendTransaction(rawTx);
      await this.settle(pending, txId);
      return { txId, via: 'node' };
    }
    try {
      txId = await node.rpc.sendRawTransaction(rawTx);
    } catch (e) {
      if (!isAlreadyKnownError(e)) throw e;
      // Loaded only on this path (a node that already had the transaction): a daemon starts without them.
      txId =
        node.kind === 'evm'
          ? (await import('ethers/crypto')).keccak256(rawTx)
          : (await import('bitcoinjs-lib/src/transaction')).Transaction.fromHex(rawTx).getId();
    }
    await this.settle(pending, txId);
    return { txId, via: 'node' };
  }

  async settle(pending: PendingTransaction, txId: string): Promise<void> {
    if (usesOffchainBroadcast(pending)) return;
    await this.tatum.complete(pending.id, txId);
  }

  /** Node mode too: Tatum's txId is set by the completion (PUT) after the node took the transaction. */
  completion(pending: PendingTransaction): Promise<PendingCompletion> {
    return this.tatum.completion(pending.id);
  }
}
