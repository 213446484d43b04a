import * as bcrypto from 'bitcoinjs-lib/src/crypto';
import { isPlainObject, kindOf, payloadError } from '../decoded.js';

/**
 * The UTXO family's pieces that key resolution needs (which output scripts a public key
 * owns, which derivation indexes an off-chain withdrawal spends) without bitcoinjs-lib's
 * transaction and address code: the daemon loads those with the family's signer, on its
 * first BTC/LTC/DOGE transaction (issue 13 start-up), and key resolution loads at start.
 */

export function p2pkhScript(h160: Uint8Array): Uint8Array {
  return Uint8Array.from([0x76, 0xa9, 0x14, ...h160, 0x88, 0xac]);
}

export function p2wpkhScript(h160: Uint8Array): Uint8Array {
  return Uint8Array.from([0x00, 0x14, ...h160]);
}

/** OP_HASH160 <20> OP_EQUAL over the redeem script's hash160. */
export function p2shScript(redeemScript: Uint8Array): Uint8Array {
  return Uint8Array.from([0xa9, 0x14, ...bcrypto.hash160(redeemScript), 0x87]);
}

/* Off-chain (virtual account) withdrawals, spec §3.3. */

interface WithdrawalInput {
  /** Funding txid (display order, lowercase). */
  txId: string;
  vout: number;
  /** BIP44 address index under the wallet's xpub (`address.derivationKey`, default 0). */
  derivationIndex: number;
}

/**
 * The UTXOs a withdrawal spends, in `withdrawalResponses` order, without the synthetic
 * "-1" change entry. BCH signs positionally from this list.
 */
export function offchainWithdrawalInputs(chain: string, withdrawalResponses: unknown): WithdrawalInput[] {
  if (!Array.isArray(withdrawalResponses)) throw payloadError(chain, 'withdrawalResponses must be an array');
  const out: WithdrawalInput[] = [];
  withdrawalResponses.forEach((r, i) => {
    const at = `withdrawalResponses[${i}]`;
    if (!isPlainObject(r)) throw payloadError(chain, `${at} must be an object`);
    if (r.vIn === '-1') return;
    if (typeof r.vIn !== 'string' || !/^[0-9a-fA-F]{64}$/.test(r.vIn))
      throw payloadError(chain, `${at}.vIn must be a 64-hex txid or "-1", got ${kindOf(r.vIn)}`);
    if (typeof r.vInIndex !== 'number' || !Number.isInteger(r.vInIndex) || r.vInIndex < 0 || r.vInIndex > 0xffffffff) {
      throw payloadError(chain, `${at}.vInIndex must be an output index, got ${kindOf(r.vInIndex)}`);
    }
    let derivationIndex = 0;
    if (r.address !== undefined && r.address !== null) {
      if (!isPlainObject(r.address)) throw payloadError(chain, `${at}.address must be an object`);
      const dk = r.address.derivationKey;
      if (dk !== undefined && dk !== null) {
        if (typeof dk !== 'number' || !Number.isInteger(dk) || dk < 0 || dk >= 0x80000000) {
          throw payloadError(chain, `${at}.address.derivationKey must be an integer in [0, 2^31), got ${kindOf(dk)}`);
        }
        derivationIndex = dk;
      }
    }
    out.push({ txId: r.vIn.toLowerCase(), vout: r.vInIndex, derivationIndex });
  });
  if (out.length === 0) throw payloadError(chain, 'withdrawalResponses lists no input (only "-1" entries)');
  return out;
}

/** Distinct derivation indexes whose keys a withdrawal needs, in first-use order. */
export function offchainDerivationIndexes(chain: string, withdrawalResponses: unknown): number[] {
  const seen: number[] = [];
  for (const w of offchainWithdrawalInputs(chain, withdrawalResponses))
    if (!seen.includes(w.derivationIndex)) seen.push(w.derivationIndex);
  return seen;
}
