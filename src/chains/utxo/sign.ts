import * as baddress from 'bitcoinjs-lib/src/address';
import * as bcrypto from 'bitcoinjs-lib/src/crypto';
import type { Network } from 'bitcoinjs-lib/src/networks';
import { Transaction } from 'bitcoinjs-lib/src/transaction';
import { HardkmsError } from '../../errors.js';
import { SIGNER_MISSING, bytesEqual, mismatchError, toHex, unsupportedError, type DecodedTx } from '../decoded.js';
import {
  derSignature,
  signDigestChecked,
  uncompressedPublicKey,
  uniqueSigners,
  type DigestSigner,
} from '../digest-signer.js';
import { buildUnsignedTransaction, parseBitcoreTx, type BitcoreTx } from './bitcore-json.js';
import { offchainWithdrawalInputs, p2pkhScript, p2wpkhScript } from './key-scripts.js';

// Their earlier home, for the BCH signer and the tests that import them from here.
export { offchainDerivationIndexes, offchainWithdrawalInputs, p2pkhScript } from './key-scripts.js';

/**
 * Signing of BTC/LTC/DOGE pending transactions (spec §3.2, §3.3): every input is signed by
 * the one key whose hash owns its spent script. Unlike Tatum KMS, an input no key owns is
 * an error, not a partially signed transaction sent to the network.
 */

export type UtxoChainCode = 'BTC' | 'LTC' | 'DOGE';

type UtxoInputKind = 'p2pkh' | 'p2wpkh' | 'p2sh-p2wpkh' | 'p2pk';

interface UtxoSignOptions {
  chain: UtxoChainCode;
  /**
   * For off-chain withdrawals: the pending transaction's `withdrawalResponses`. The tx's
   * inputs must then be exactly the UTXOs listed there (vIn/vInIndex, "-1" excluded).
   */
  withdrawalResponses?: unknown;
}

const SIGHASH_ALL = Transaction.SIGHASH_ALL;

interface Plan {
  kind: UtxoInputKind;
  signer: DigestSigner;
  digest: Uint8Array;
  /** P2PKH of the uncompressed public key (a Tatum wallet stored as uncompressed WIF). */
  uncompressed: boolean;
}

/** Signs the bitcore-JSON payload with `signers`; returns the raw tx hex (BIP 144 when any input is segwit). */
export async function signUtxo(
  payload: unknown,
  signers: readonly DigestSigner[],
  opts: UtxoSignOptions,
): Promise<string> {
  const { chain } = opts;
  const parsed = parseBitcoreTx(chain, payload);
  const tx = buildUnsignedTransaction(chain, parsed);
  if (opts.withdrawalResponses !== undefined) checkWithdrawalInputs(chain, parsed, opts.withdrawalResponses);
  const keys = uniqueSigners(signers);
  if (keys.length === 0)
    throw new HardkmsError(SIGNER_MISSING, `${chain}: no signing key was resolved for this transaction`, {
      hint: 'Check that the wallets listed in hashes/signatures exist in the vault.',
    });

  const plans: Plan[] = [];
  const unowned: number[] = [];
  parsed.inputs.forEach((input, i) => {
    const match = matchInput(chain, input.prevScript, keys, i);
    if (match === undefined) {
      unowned.push(i);
      return;
    }
    if (chain === 'DOGE' && match.kind !== 'p2pkh' && match.kind !== 'p2pk') {
      throw unsupportedError(chain, `input ${i} spends a segwit output, which Dogecoin does not have`);
    }
    const h160 = bcrypto.hash160(match.signer.publicKey);
    const digest =
      match.kind === 'p2pkh' || match.kind === 'p2pk'
        ? tx.hashForSignature(i, input.prevScript, SIGHASH_ALL)
        : tx.hashForWitnessV0(i, p2pkhScript(h160), input.satoshis, SIGHASH_ALL);
    plans.push({ kind: match.kind, signer: match.signer, digest, uncompressed: match.uncompressed === true });
  });
  if (unowned.length > 0) {
    throw new HardkmsError(
      SIGNER_MISSING,
      `${chain}: no resolved key owns input${unowned.length > 1 ? 's' : ''} ${unowned.join(', ')} (of ${parsed.inputs.length})`,
      {
        hint: 'Every input must be signed; hardkms does not broadcast partially signed transactions (Tatum KMS does, and the network rejects them). Add the wallet that owns these inputs to hashes/signatures, or check the derivation index.',
      },
    );
  }

  for (let i = 0; i < plans.length; i++) {
    const plan = plans[i]!;
    const sig = await signDigestChecked(plan.signer, plan.digest);
    const sigSh = withHashType(derSignature(sig), SIGHASH_ALL);
    const pub = plan.uncompressed ? uncompressedPublicKey(plan.signer.publicKey) : plan.signer.publicKey;
    switch (plan.kind) {
      case 'p2pkh':
        tx.setInputScript(i, pushes([sigSh, pub]));
        break;
      case 'p2pk':
        tx.setInputScript(i, pushes([sigSh]));
        break;
      case 'p2wpkh':
        tx.setWitness(i, [sigSh, pub]);
        break;
      case 'p2sh-p2wpkh':
        tx.setInputScript(i, pushes([p2wpkhScript(bcrypto.hash160(pub))]));
        tx.setWitness(i, [sigSh, pub]);
        break;
    }
  }
  return tx.toHex();
}

/**
 * Which of `keys` can spend `prevScript`, and how. Single-key scripts only: bitcore 10
 * (what Tatum signs with) supports the same set; P2WSH, P2TR and multisig are refused.
 */
function matchInput(
  chain: string,
  prevScript: Uint8Array,
  keys: readonly DigestSigner[],
  index: number,
): { kind: UtxoInputKind; signer: DigestSigner; uncompressed?: boolean } | undefined {
  const kind = classifyScript(prevScript);
  if (kind === undefined) {
    throw unsupportedError(
      chain,
      `input ${index} spends a script type hardkms does not sign (${scriptKindName(prevScript)}); supported: P2PKH, P2WPKH, P2SH-P2WPKH, P2PK`,
    );
  }
  for (const signer of keys) {
    const h160 = bcrypto.hash160(signer.publicKey);
    const owned =
      kind === 'p2pkh'
        ? bytesEqual(prevScript.subarray(3, 23), h160)
        : kind === 'p2wpkh'
          ? bytesEqual(prevScript.subarray(2, 22), h160)
          : kind === 'p2sh-p2wpkh'
            ? bytesEqual(prevScript.subarray(2, 22), bcrypto.hash160(p2wpkhScript(h160)))
            : prevScript.length === 35
              ? bytesEqual(prevScript.subarray(1, 34), signer.publicKey)
              : bytesEqual(prevScript.subarray(1, 66), uncompressedPublicKey(signer.publicKey));
    if (owned) return { kind, signer };
    // Legacy P2PKH of the uncompressed key: what a Tatum wallet stored as uncompressed WIF receives.
    if (
      kind === 'p2pkh' &&
      bytesEqual(prevScript.subarray(3, 23), bcrypto.hash160(uncompressedPublicKey(signer.publicKey)))
    ) {
      return { kind, signer, uncompressed: true };
    }
  }
  return undefined;
}

/** Script classes we can sign; a P2SH script is assumed to wrap P2WPKH (as bitcore does) and only matches if it does. */
function classifyScript(s: Uint8Array): UtxoInputKind | undefined {
  if (isP2pkhScript(s)) return 'p2pkh';
  if (s.length === 22 && s[0] === 0x00 && s[1] === 0x14) return 'p2wpkh';
  if (s.length === 23 && s[0] === 0xa9 && s[1] === 0x14 && s[22] === 0x87) return 'p2sh-p2wpkh';
  if (s.length === 35 && s[0] === 0x21 && (s[1] === 0x02 || s[1] === 0x03) && s[34] === 0xac) return 'p2pk';
  if (s.length === 67 && s[0] === 0x41 && s[1] === 0x04 && s[66] === 0xac) return 'p2pk';
  return undefined;
}

function scriptKindName(s: Uint8Array): string {
  if (s.length === 34 && s[0] === 0x00 && s[1] === 0x20) return 'P2WSH';
  if (s.length === 34 && s[0] === 0x51 && s[1] === 0x20) return 'P2TR';
  if (s.length > 0 && s[s.length - 1] === 0xae) return 'bare multisig';
  return `unrecognised script ${s.length > 40 ? toHex(s.subarray(0, 40)) + '…' : toHex(s)}`;
}

/** OP_DUP OP_HASH160 <20> OP_EQUALVERIFY OP_CHECKSIG: the output script a P2PKH address pays (its hash is bytes 3..23). */
export function isP2pkhScript(s: Uint8Array): boolean {
  return s.length === 25 && s[0] === 0x76 && s[1] === 0xa9 && s[2] === 0x14 && s[23] === 0x88 && s[24] === 0xac;
}

export function withHashType(der: Uint8Array, hashType: number): Uint8Array {
  const out = new Uint8Array(der.length + 1);
  out.set(der, 0);
  out[der.length] = hashType;
  return out;
}

/** Script of direct pushes (every element here is 1..75 bytes). */
export function pushes(items: Uint8Array[]): Uint8Array {
  const parts: number[] = [];
  for (const it of items) {
    if (it.length < 1 || it.length > 75) throw new Error('push size out of range');
    parts.push(it.length, ...it);
  }
  return Uint8Array.from(parts);
}

/**
 * What the payload spends and pays, for the policy engine. With `network`, outputs with a
 * standard script also get their address (bitcoinjs `address.fromOutputScript`); without it,
 * or for non-standard scripts (OP_RETURN), only the script.
 */
export function decodeUtxo(payload: unknown, chain: UtxoChainCode, network?: Network): DecodedTx {
  const parsed = parseBitcoreTx(chain, payload);
  const unsigned = buildUnsignedTransaction(chain, parsed);
  const totalIn = parsed.inputs.reduce((a, x) => a + x.satoshis, 0n);
  const totalOut = parsed.outputs.reduce((a, x) => a + x.satoshis, 0n);
  return {
    chain,
    outputs: parsed.outputs.map((o) => decodeScriptOutput(o.script, o.satoshis, network)),
    fee: totalIn - totalOut,
    vsize: estimatedVsize(
      unsigned.byteLength(),
      parsed.inputs.map((i) => i.prevScript),
    ),
  };
}

/**
 * Virtual size of the transaction once signed: the unsigned size plus what each input's
 * signature adds (P2WPKH: ~108 witness bytes = 27 vbytes and the segwit marker; otherwise a
 * P2PKH scriptSig of ~107 bytes). An estimate: the fee-rate limit it serves is a backstop
 * beside the absolute fee limit, which is exact.
 */
export function estimatedVsize(unsignedBytes: number, prevScripts: readonly Uint8Array[]): number {
  let v = unsignedBytes;
  let witness = false;
  for (const s of prevScripts) {
    if (s.length === 22 && s[0] === 0x00 && s[1] === 0x14) {
      v += 27;
      witness = true;
    } else v += 107;
  }
  return witness ? v + 1 : v;
}

function checkWithdrawalInputs(chain: string, parsed: BitcoreTx, withdrawalResponses: unknown): void {
  const listed = offchainWithdrawalInputs(chain, withdrawalResponses).map((w) => `${w.txId}:${w.vout}`);
  const actual = parsed.inputs.map((x) => `${x.prevTxId}:${x.outputIndex}`);
  const missing = actual.filter((a) => !listed.includes(a));
  const extra = listed.filter((l) => !actual.includes(l));
  if (missing.length > 0 || extra.length > 0 || new Set(actual).size !== actual.length) {
    throw mismatchError(
      chain,
      `the transaction's inputs differ from withdrawalResponses (not listed: ${missing.join(', ') || 'none'}; not spent: ${extra.join(', ') || 'none'})`,
    );
  }
}

/** One output of a UTXO-family transaction: its script, its value, and its address where it has one. */
export function decodeScriptOutput(
  script: Uint8Array,
  amount: bigint,
  network: Network | undefined,
): { address?: string; script: string; amount: bigint } {
  const out: { address?: string; script: string; amount: bigint } = { script: toHex(script), amount };
  if (network !== undefined) {
    try {
      out.address = baddress.fromOutputScript(script, network);
    } catch {
      // no address form (OP_RETURN, bare scripts): the script stands alone
    }
  }
  return out;
}
