import * as bcrypto from 'bitcoinjs-lib/src/crypto';
import type { Network } from 'bitcoinjs-lib/src/networks';
import { Transaction } from 'bitcoinjs-lib/src/transaction';
import { HardkmsError } from '../../errors.js';
import {
  SIGNER_MISSING,
  bytesEqual,
  kindOf,
  hexField,
  mismatchError,
  payloadError,
  uintField,
  unsupportedError,
  type DecodedTx,
} from '../decoded.js';
import { derSignature, signDigestChecked, uniqueSigners, type DigestSigner } from '../digest-signer.js';
import { decodeScriptOutput, estimatedVsize, isP2pkhScript, p2pkhScript, pushes, withHashType } from '../utxo/sign.js';

/**
 * BCH pending transactions (spec §3.4): `"<unsigned tx hex>:<JSON array of input amounts>"`.
 * Every input is P2PKH; the digest is BIP 143 with SIGHASH_ALL|FORKID (0x41), which
 * bitcoinjs computes as hashForWitnessV0 with that hash type. We sign ECDSA (DER + 0x41),
 * which BCH consensus accepts alongside the Schnorr signatures Tatum produces.
 *
 * Which key signs which input. The hex does not carry the spent scripts, so the owner of
 * an input cannot be read from the payload. Rule, in order:
 *  1. `prevoutScripts` given (one P2PKH script per input): the key whose hash160 it pays.
 *  2. Exactly one distinct key: it signs every input.
 *  3. Otherwise positional, as Tatum does: signers[i] signs input i, so the caller passes
 *     one signer per `hashes` entry (or per non-"-1" withdrawalResponses entry) WITHOUT
 *     de-duplicating, and the count must equal the input count. Tatum de-duplicates first
 *     and so leaves inputs unsigned when one key owns several (§7.9); we do not.
 * A signature by the wrong key is not a loss of funds (the network rejects it), but we
 * never guess: anything that does not fit a rule is refused, never silently left unsigned.
 */

const SIGHASH_ALL_FORKID = 0x41;

interface BchSignOptions {
  /** Spent scriptPubKeys (hex or bytes), one per input, when the caller knows them. */
  prevoutScripts?: readonly (string | Uint8Array)[];
}

interface BchPayload {
  tx: Transaction;
  amounts: bigint[];
}

const CHAIN = 'BCH';
const INT64_MAX = (1n << 63n) - 1n;

export function parseBchPayload(payload: unknown): BchPayload {
  if (typeof payload !== 'string')
    throw payloadError(CHAIN, 'serializedTransaction must be a string "<tx hex>:<amounts JSON>"');
  const sep = payload.indexOf(':');
  if (sep < 0) throw payloadError(CHAIN, 'serializedTransaction has no ":" between the tx hex and the amounts JSON');
  const raw = hexField(CHAIN, 'transaction hex', payload.slice(0, sep));
  let tx: Transaction;
  try {
    tx = Transaction.fromBuffer(raw);
  } catch (e) {
    throw payloadError(CHAIN, `transaction hex does not parse (${e instanceof Error ? e.message : 'unknown error'})`);
  }
  if (tx.hasWitnesses()) throw payloadError(CHAIN, 'transaction hex carries segwit data, which BCH does not have');
  if (!bytesEqual(tx.toBuffer(), raw)) throw payloadError(CHAIN, 'transaction hex is not in canonical serialization');
  if (tx.ins.length === 0 || tx.outs.length === 0)
    throw payloadError(CHAIN, 'transaction needs at least one input and one output');
  tx.ins.forEach((inp, i) => {
    if (inp.script.length !== 0)
      throw unsupportedError(CHAIN, `input ${i} already has a scriptSig; only unsigned inputs are signed`);
  });

  let amountsJson: unknown;
  try {
    amountsJson = JSON.parse(payload.slice(sep + 1));
  } catch {
    throw payloadError(CHAIN, 'input amounts after ":" are not valid JSON');
  }
  if (!Array.isArray(amountsJson))
    throw payloadError(CHAIN, `input amounts must be a JSON array, got ${kindOf(amountsJson)}`);
  if (amountsJson.length !== tx.ins.length) {
    throw payloadError(CHAIN, `${amountsJson.length} input amounts for ${tx.ins.length} inputs`);
  }
  const amounts = amountsJson.map((a, i) => uintField(CHAIN, `amounts[${i}]`, a, { max: INT64_MAX }));
  const totalIn = amounts.reduce((a, b) => a + b, 0n);
  const totalOut = tx.outs.reduce((a, o) => a + o.value, 0n);
  if (totalOut > totalIn) throw payloadError(CHAIN, `outputs (${totalOut} sat) exceed inputs (${totalIn} sat)`);
  return { tx, amounts };
}

/** Signs the BCH payload; returns the raw tx hex. See the module comment for the key→input rule. */
export async function signBch(
  payload: unknown,
  signers: readonly DigestSigner[],
  opts: BchSignOptions = {},
): Promise<string> {
  const { tx, amounts } = parseBchPayload(payload);
  const owners = assignSigners(tx.ins.length, signers, opts.prevoutScripts);

  const digests = owners.map((signer, i) =>
    tx.hashForWitnessV0(i, p2pkhScript(bcrypto.hash160(signer.publicKey)), amounts[i]!, SIGHASH_ALL_FORKID),
  );
  for (let i = 0; i < owners.length; i++) {
    const signer = owners[i]!;
    const sig = await signDigestChecked(signer, digests[i]!);
    tx.setInputScript(i, pushes([withHashType(derSignature(sig), SIGHASH_ALL_FORKID), signer.publicKey]));
  }
  return tx.toHex();
}

function assignSigners(
  inputCount: number,
  signers: readonly DigestSigner[],
  prevoutScripts?: readonly (string | Uint8Array)[],
): DigestSigner[] {
  const keys = uniqueSigners(signers);
  if (keys.length === 0)
    throw new HardkmsError(SIGNER_MISSING, 'BCH: no signing key was resolved for this transaction', {
      hint: 'Check that the wallets listed in hashes/signatures exist in the vault.',
    });

  if (prevoutScripts !== undefined) {
    if (prevoutScripts.length !== inputCount)
      throw payloadError(CHAIN, `${prevoutScripts.length} prevout scripts for ${inputCount} inputs`);
    const unowned: number[] = [];
    const owners = prevoutScripts.map((ps, i) => {
      const script = typeof ps === 'string' ? hexField(CHAIN, `prevoutScripts[${i}]`, ps) : ps;
      if (!isP2pkhScript(script)) {
        throw unsupportedError(CHAIN, `input ${i} does not spend a P2PKH output; only P2PKH is signed for BCH`);
      }
      const owner = keys.find((k) => bytesEqual(script.subarray(3, 23), bcrypto.hash160(k.publicKey)));
      if (owner === undefined) unowned.push(i);
      return owner;
    });
    if (unowned.length > 0) {
      throw new HardkmsError(
        SIGNER_MISSING,
        `BCH: no resolved key owns input${unowned.length > 1 ? 's' : ''} ${unowned.join(', ')} (of ${inputCount})`,
        {
          hint: 'hardkms does not broadcast partially signed transactions. Add the owning wallet to hashes/signatures.',
        },
      );
    }
    return owners as DigestSigner[];
  }
  if (keys.length === 1) return Array.from({ length: inputCount }, () => keys[0]!);
  if (signers.length !== inputCount) {
    throw mismatchError(
      CHAIN,
      `${keys.length} different keys for ${inputCount} inputs, listed ${signers.length} times: cannot tell which key signs which input`,
      'With several keys, list one wallet per input in input order (hashes, or withdrawalResponses for withdrawals), or pass the spent output scripts.',
    );
  }
  return [...signers];
}

/**
 * Outputs and fee of a BCH payload. With `network` (bitcoinjs params for BCH), outputs get
 * a legacy Base58 address; the caller converts to CashAddr if it wants that form.
 */
export function decodeBch(payload: unknown, network?: Network): DecodedTx {
  const { tx, amounts } = parseBchPayload(payload);
  const totalIn = amounts.reduce((a, b) => a + b, 0n);
  const totalOut = tx.outs.reduce((a, o) => a + o.value, 0n);
  return {
    chain: CHAIN,
    outputs: tx.outs.map((o) => decodeScriptOutput(o.script, o.value, network)),
    fee: totalIn - totalOut,
    vsize: estimatedVsize(
      tx.byteLength(),
      tx.ins.map(() => new Uint8Array(0)),
    ),
  };
}
