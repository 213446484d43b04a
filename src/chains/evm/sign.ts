import { getAddress } from 'ethers/address';
import { Signature } from 'ethers/crypto';
import { Transaction } from 'ethers/transaction';
import { getBytes, hexlify } from 'ethers/utils';
import { HardkmsError } from '../../errors.js';
import { evmAddressOf } from './address.js';
import { SIGNATURE_INVALID, signDigestChecked, uniqueSigners, type DigestSigner } from '../digest-signer.js';
import { SIGNER_MISSING, bytesEqual, mismatchError, type DecodedCall, type DecodedTx } from '../decoded.js';
import { parseEvmPayload, requireComplete, type CompleteEvmFields, type EvmOptions } from './payload.js';
import { cip64SigningHash, serializeCip64, type Cip64Fields } from './cip64.js';

/**
 * EVM pending transactions (spec §3.5): builds an ethers v6 Transaction — legacy EIP-155
 * (type 0) or EIP-1559 (type 2) — from the payload, signs its unsignedHash with the one
 * resolved key and returns the 0x raw transaction. CELO is signed as a plain Ethereum
 * transaction, or as CIP-64 (type 0x7b) when the payload names a feeCurrency (cip64.ts).
 */
export async function signEvm(payload: unknown, signers: readonly DigestSigner[], opts: EvmOptions): Promise<string> {
  const { chain } = opts;
  const fields = requireComplete(chain, parseEvmPayload(payload, opts));
  const signer = singleSigner(chain, signers);
  const address = evmAddressOf(signer.publicKey);
  if (fields.from !== undefined && fields.from !== address) {
    throw mismatchError(chain, `payload from ${fields.from} is not the signing wallet's address ${address}`);
  }

  if (fields.feeCurrency !== undefined) return signCip64(chain, cip64Of(fields, fields.feeCurrency), signer);
  const tx = buildTransaction(fields);
  // ethers serialises and hashes again on every read of unsignedHash: read once.
  const digest = getBytes(tx.unsignedHash);
  const sig = await signDigestChecked(signer, digest);
  tx.signature = Signature.from({ r: hexlify(sig.r), s: hexlify(sig.s), v: 27 + sig.recovery });
  // The signature as attached must be the one checked: signDigestChecked recovered the
  // wallet's key from exactly these r, s and recovery id, so equal bytes recover to it too.
  // (A second recovery here cost as much as the first; ethers' tx.from, pure-JS noble, ~10 ms.)
  const attached = tx.signature;
  if (
    !bytesEqual(getBytes(attached.r), sig.r) ||
    !bytesEqual(getBytes(attached.s), sig.s) ||
    attached.yParity !== sig.recovery
  ) {
    throw new HardkmsError(SIGNATURE_INVALID, `${chain}: the signature attached is not the one checked`, {
      hint: 'This is a bug; nothing was broadcast.',
    });
  }
  return tx.serialized;
}

/** CIP-64 fields from a payload: a legacy gasPrice becomes both EIP-1559 caps (it pays at most gasPrice per gas, as before). */
function cip64Of(f: CompleteEvmFields, feeCurrency: string): Cip64Fields {
  const maxFeePerGas = f.type === 0 ? f.gasPrice : f.maxFeePerGas;
  const maxPriorityFeePerGas = f.type === 0 ? f.gasPrice : f.maxPriorityFeePerGas;
  return {
    chainId: f.chainId,
    nonce: f.nonce,
    maxPriorityFeePerGas,
    maxFeePerGas,
    gasLimit: f.gasLimit,
    to: f.to,
    value: f.value,
    data: f.data,
    feeCurrency,
  };
}

async function signCip64(chain: string, f: Cip64Fields, signer: DigestSigner): Promise<string> {
  const digest = cip64SigningHash(f);
  // signDigestChecked recovered the wallet's key from these r, s and recovery id.
  const sig = await signDigestChecked(signer, digest);
  return serializeCip64(f, { yParity: sig.recovery, r: sig.r, s: sig.s });
}

function buildTransaction(f: CompleteEvmFields): Transaction {
  const common = { chainId: f.chainId, nonce: f.nonce, gasLimit: f.gasLimit, to: f.to, value: f.value, data: f.data };
  return f.type === 0
    ? Transaction.from({ type: 0, gasPrice: f.gasPrice, ...common })
    : Transaction.from({
        type: 2,
        maxFeePerGas: f.maxFeePerGas,
        maxPriorityFeePerGas: f.maxPriorityFeePerGas,
        accessList: [],
        ...common,
      });
}

function singleSigner(chain: string, signers: readonly DigestSigner[]): DigestSigner {
  const keys = uniqueSigners(signers);
  if (keys.length !== 1) {
    throw new HardkmsError(SIGNER_MISSING, `${chain}: expected exactly one signing key, got ${keys.length}`, {
      hint: 'EVM transactions are signed by the first wallet in hashes (or its key at the given index).',
    });
  }
  return keys[0]!;
}

const ERC20_TRANSFER = 'a9059cbb';

/**
 * What the payload moves. Native value goes to `outputs` (a zero-value call still lists its
 * target); an ERC-20 `transfer(address,uint256)` becomes `token`; any other calldata or a
 * deployment becomes `call`. `fee` is the maximum (gas limit × gas price or max fee), when known.
 */
export function decodeEvm(payload: unknown, opts: EvmOptions): DecodedTx {
  const f = parseEvmPayload(payload, opts);
  const out: DecodedTx = { chain: opts.chain, outputs: [] };
  if (f.to !== null) out.outputs.push({ address: f.to, amount: f.value });
  const data = f.data.slice(2);
  if (f.to === null) {
    out.call = { kind: 'deploy', dataLength: data.length / 2, data: data.toLowerCase() };
    if (f.value > 0n) out.outputs.push({ amount: f.value });
  } else if (data.length > 0) {
    const token = decodeErc20Transfer(data);
    if (token !== undefined) {
      out.token = { contract: f.to, standard: 'ERC20', to: token.to, amount: token.amount };
    } else {
      const call: DecodedCall = { kind: 'call', to: f.to, dataLength: data.length / 2, data: data.toLowerCase() };
      if (data.length >= 8) call.selector = '0x' + data.slice(0, 8);
      out.call = call;
    }
  }
  const price = f.type === 0 ? f.gasPrice : f.maxFeePerGas;
  if (f.gasLimit !== undefined && price !== undefined) out.fee = f.gasLimit * price;
  if (price !== undefined) out.feePerGas = price;
  return out;
}

/** `transfer(address,uint256)` calldata (hex without 0x) in its exact canonical ABI form, else undefined. */
function decodeErc20Transfer(dataHex: string): { to: string; amount: bigint } | undefined {
  const d = dataHex.toLowerCase();
  if (d.length !== 8 + 64 * 2 || !d.startsWith(ERC20_TRANSFER)) return undefined;
  const addrWord = d.slice(8, 72);
  // A non-zero high part would be rejected or truncated differently by different token
  // contracts; such calldata is not a plain transfer.
  if (!/^0{24}/.test(addrWord)) return undefined;
  return { to: getAddress('0x' + addrWord.slice(24)), amount: BigInt('0x' + d.slice(72)) };
}
