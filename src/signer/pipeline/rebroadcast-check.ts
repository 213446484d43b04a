/**
 * Before a journaled transaction is sent again, it is decoded and compared with the
 * payload the journal row was signed for (whose hash the row keeps): the row MAC already
 * binds the bytes to the row, and this is the second, independent check that what leaves
 * is the transaction of THIS pending id, not another one's signed bytes.
 */
import { Transaction as BtcTransaction } from 'bitcoinjs-lib/src/transaction';
import { getAddress } from 'ethers/address';
import { Transaction as EvmTransaction } from 'ethers/transaction';
import { HardkmsError, isHardkmsError } from '../../errors.js';
import { parseBchPayload } from '../../chains/bch/sign.js';
import { parseEvmPayload } from '../../chains/evm/payload.js';
import { parseSignedCip64 } from '../../chains/evm/cip64.js';
import { chainFamily } from '../../chains/registry.js';
import { xlmEnvelopeMismatch } from '../../chains/xlm/sign.js';
import { xrpBlobMismatch } from '../../chains/xrp/sign.js';
import { algoSignedMismatch } from '../../chains/algo/sign.js';
import { vetSignedMismatch } from '../../chains/vet/sign.js';
import { solSignedMismatch } from '../../chains/sol/sign.js';
import { adaSignedMismatch } from '../../chains/ada/sign.js';
import { egldSignedMismatch } from '../../chains/egld/sign.js';
import { tronSignedMismatch } from '../../chains/tron/signed.js';
import { buildUnsignedTransaction, parseBitcoreTx } from '../../chains/utxo/bitcore-json.js';
import type { PendingTransaction } from '../source/pending.js';

/** Throws JOURNAL_RAW_TX_MISMATCH when `rawTx` is not a signed form of `pending`'s payload. */
export function checkSignedMatchesPayload(pending: PendingTransaction, rawTx: string, evmChainId: () => bigint): void {
  const why = mismatch(pending, rawTx, evmChainId);
  if (why !== undefined) {
    throw new HardkmsError(
      'JOURNAL_RAW_TX_MISMATCH',
      `The signed transaction journaled for pending ${pending.id} is not the one its payload describes (${why}); it was not broadcast.`,
      {
        hint: 'wallet.dat was altered or is damaged: restore it from a backup and investigate who had write access to it.',
      },
    );
  }
}

function mismatch(pending: PendingTransaction, rawTx: string, evmChainId: () => bigint): string | undefined {
  const payload = pending.serializedTransaction;
  try {
    switch (chainFamily(pending.chain)) {
      case 'utxo':
        return sameBitcoin(
          BtcTransaction.fromHex(rawTx),
          buildUnsignedTransaction(pending.chain, parseBitcoreTx(pending.chain, payload)),
        );
      case 'bch':
        return sameBitcoin(BtcTransaction.fromHex(rawTx), parseBchPayload(payload).tx);
      case 'tron':
        return tronSignedMismatch(payload, rawTx);
      case 'evm': {
        if (pending.chain === 'VET') return vetSignedMismatch(payload, rawTx);
        const f = parseEvmPayload(payload, { chain: pending.chain, chainId: evmChainId() });
        // CIP-64 (CELO with feeCurrency) is not a type ethers decodes: read it with cip64.ts.
        const tx = rawTx.toLowerCase().startsWith('0x7b')
          ? parseSignedCip64(pending.chain, rawTx)
          : EvmTransaction.from(rawTx);
        if (
          'feeCurrency' in tx &&
          (f.feeCurrency === undefined || getAddress(tx.feeCurrency) !== getAddress(f.feeCurrency))
        )
          return 'fee currency differs';
        if ((tx.to === null ? null : getAddress(tx.to)) !== (f.to === null ? null : getAddress(f.to)))
          return 'recipient differs';
        if (tx.value !== f.value) return 'value differs';
        if (tx.data.toLowerCase() !== f.data.toLowerCase()) return 'calldata differs';
        if (tx.chainId !== evmChainId()) return 'chain id differs';
        if (f.nonce !== undefined && tx.nonce !== f.nonce) return 'nonce differs';
        return undefined;
      }
      case 'xlm':
        return xlmEnvelopeMismatch(pending.serializedTransaction, rawTx);
      case 'xrp':
        return xrpBlobMismatch(pending.serializedTransaction, rawTx);
      case 'algo':
        return algoSignedMismatch(pending.serializedTransaction, rawTx);
      case 'sol':
        // The blockhash is the one fetched at signing; everything else is the payload's message.
        return solSignedMismatch(pending.serializedTransaction, rawTx);
      case 'egld':
        return egldSignedMismatch(pending.serializedTransaction, rawTx);
      case 'ada':
        return adaSignedMismatch(pending.serializedTransaction, rawTx);
    }
  } catch (e) {
    // hardkms's decoders name the field that is wrong; a library's message (V8's JSON.parse,
    // ethers, bitcoinjs) may quote the row's text, so only its kind is said.
    return isHardkmsError(e) ? `it does not decode: ${e.message}` : `it does not decode (${errorKind(e)})`;
  }
  return 'unknown chain family';
}

/** "SyntaxError", "Error INVALID_ARGUMENT" (ethers' code): the class of a library's error, none of its text. */
function errorKind(e: unknown): string {
  if (!(e instanceof Error)) return 'an error';
  const name = /^[A-Za-z]{1,40}$/.test(e.name) ? e.name : 'Error';
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' && /^[A-Z][A-Z_]{0,40}$/.test(code) ? `${name} ${code}` : name;
}

function sameBitcoin(signed: BtcTransaction, unsigned: BtcTransaction): string | undefined {
  if (signed.version !== unsigned.version || signed.locktime !== unsigned.locktime)
    return 'version or lock time differs';
  if (signed.ins.length !== unsigned.ins.length || signed.outs.length !== unsigned.outs.length)
    return 'inputs or outputs differ';
  for (let i = 0; i < signed.ins.length; i++) {
    const a = signed.ins[i]!;
    const b = unsigned.ins[i]!;
    if (!Buffer.from(a.hash).equals(Buffer.from(b.hash)) || a.index !== b.index || a.sequence !== b.sequence)
      return `input ${i} differs`;
  }
  for (let i = 0; i < signed.outs.length; i++) {
    const a = signed.outs[i]!;
    const b = unsigned.outs[i]!;
    if (!Buffer.from(a.script).equals(Buffer.from(b.script)) || BigInt(a.value) !== BigInt(b.value))
      return `output ${i} differs`;
  }
  return undefined;
}
