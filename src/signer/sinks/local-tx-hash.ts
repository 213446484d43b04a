/**
 * The transaction id a signed transaction has on its chain, computed here (broadcast.ts uses
 * it when the API answers no txId; the daemon when a node refuses a re-sent transaction).
 * A module of its own, loaded on first use: it decodes every family's signed form, and the
 * XRP, VeChain, Solana and MultiversX libraries are not worth loading for a daemon that
 * broadcasts without ever needing it.
 */
import { createHash } from 'node:crypto';
import { Transaction as BtcTransaction } from 'bitcoinjs-lib/src/transaction';
import { keccak256 } from 'ethers/crypto';
import { Transaction as VetTransaction } from 'thor-devkit';
import { xrpTxHash } from '../../chains/xrp/sign.js';
import { solTxId } from '../../chains/sol/sign.js';
import { egldTxHash } from '../../chains/egld/sign.js';
import { adaTxHash } from '../../chains/ada/sign.js';
import { tronTxIdOf } from '../../chains/tron/signed.js';

/**
 * The transaction id the chain gives a signed transaction, computed here: keccak256 of the
 * RLP (EVM), the txid (Bitcoin family), TRON's txID from the signed JSON. Used when the API
 * answers no txId, so the journal still names what was broadcast.
 */
export function localTxHash(chain: string, rawTx: string): string {
  if (chain === 'SOL') {
    try {
      return solTxId(rawTx);
    } catch {
      // fall through
    }
  }
  if (chain === 'EGLD') {
    try {
      return egldTxHash(rawTx);
    } catch {
      // fall through
    }
  }
  if (chain === 'ADA') {
    try {
      return adaTxHash(rawTx);
    } catch {
      // fall through
    }
  }
  if (chain === 'XRP' && /^[0-9A-Fa-f]+$/.test(rawTx)) return xrpTxHash(rawTx);
  if (chain === 'VET' && /^0x[0-9a-fA-F]+$/.test(rawTx)) {
    try {
      // VeChain's id is blake2b256(signingHash ‖ origin), not keccak of the RLP.
      const id = VetTransaction.decode(Buffer.from(rawTx.slice(2), 'hex')).id;
      if (id !== null) return id;
    } catch {
      // fall through
    }
  }
  if (chain === 'TRON') {
    const txID = tronTxIdOf(rawTx);
    if (txID !== undefined) return txID;
  } else if (/^0x[0-9a-fA-F]+$/.test(rawTx)) {
    return keccak256(rawTx);
  } else if (/^[0-9a-fA-F]+$/.test(rawTx)) {
    try {
      return BtcTransaction.fromHex(rawTx).getId();
    } catch {
      // fall through
    }
  }
  return `sha256:${createHash('sha256').update(rawTx).digest('hex')}`;
}
